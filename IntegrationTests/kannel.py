"""A real Kannel for tests: bearerbox + smsbox + fakesmsc (Debian `kannel`,
`kannel-extras`), configured by the harness, loopback only, random ports.

fakesmsc plays the SMSC: it prints every message bearerbox hands it ("Got message N:
<from> <to> <type> ...") and, since the message asked for a delivery report, Kannel
reports it delivered (DLR type 1) to the `dlr-url` the sender gave."""

import pathlib
import re
import subprocess
import time
import urllib.parse
import urllib.request

from conftest import free_port, wait_for

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"

LINE = re.compile(r"Got message \d+: <(.*)>$")


def kannel_config(root, ports, username, password, sender=True, log_level=1, core_extra="", smsbox_extra=""):
    """bearerbox + smsbox + a fake SMSC on loopback: the configuration the tests and the
    chaos harness run. `ports` are (admin, smsbox, fake SMSC, sendsms)."""
    admin_port, box_port, smsc_port, sendsms_port = ports
    # Without a global sender and without `from`, smsbox refuses a message (400).
    global_sender = "global-sender = 36000\n" if sender else ""
    return f"""
group = core
admin-port = {admin_port}
admin-interface = 127.0.0.1
admin-password = admin-{admin_port}
admin-allow-ip = 127.0.0.1
smsbox-port = {box_port}
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
log-file = {root}/bearerbox.log
log-level = {log_level}
dlr-storage = internal
{core_extra}
group = smsc
smsc = fake
smsc-id = fake
port = {smsc_port}
our-host = 127.0.0.1
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {box_port}
sendsms-port = {sendsms_port}
sendsms-interface = 127.0.0.1
{global_sender}{smsbox_extra}log-file = {root}/smsbox.log
log-level = {log_level}

group = sendsms-user
username = {username}
password = {password}
max-messages = 10
concatenation = true

group = sms-service
keyword = default
text = "No service"
"""


class Kannel:
    def __init__(self, root, sender=True):
        self.root = pathlib.Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.admin_port, self.box_port, self.smsc_port, self.sendsms_port = (free_port() for _ in range(4))
        self.username = "relance"
        self.password = "kannel-pw-4f1c"
        self.url = f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"
        self.processes = []
        self.config = self.root / "kannel.conf"
        self.config.write_text(kannel_config(
            self.root, (self.admin_port, self.box_port, self.smsc_port, self.sendsms_port), self.username,
            self.password, sender=sender))
        self.fake_log = self.root / "fakesmsc.log"

    def start(self):
        def spawn(args, log):
            p = subprocess.Popen(args, stdout=open(self.root / log, "ab"), stderr=subprocess.STDOUT)
            self.processes.append(p)
            return p

        spawn([BEARERBOX, str(self.config)], "bearerbox.out")
        assert wait_for(lambda: self._listening(self.smsc_port), 15), "bearerbox did not open its fake SMSC port"
        # -m 0: send no mobile-originated message, only receive and print.
        spawn([FAKESMSC, "-H", "127.0.0.1", "-r", str(self.smsc_port), "-i", "0.1", "-m", "0", "1 2 text x"],
              "fakesmsc.log")
        spawn([SMSBOX, str(self.config)], "smsbox.out")
        assert wait_for(lambda: self._listening(self.sendsms_port), 15), "smsbox did not open sendsms"
        # The fake SMSC must be connected before messages flow.
        assert wait_for(self._smsc_online, 15), "fakesmsc did not connect"
        return self

    def _listening(self, port):
        import socket
        with socket.socket() as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", port)) == 0

    def _smsc_online(self):
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.admin_port}/status.txt?password=admin-{self.admin_port}", timeout=2
            ) as r:
                return "online" in r.read().decode()
        except OSError:
            return False

    def stop(self):
        for p in reversed(self.processes):
            if p.poll() is None:
                p.terminate()
        for p in self.processes:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def received(self):
        """Messages as fakesmsc printed them, concatenated parts joined:
        [(sender, receiver, payload bytes, kind)] where kind is 'text', 'data' or 'ucs-2'."""
        if not self.fake_log.exists():
            return []
        return [m[:4] for m in fakesmsc_messages(self.fake_log.read_text(errors="replace"))]


def fakesmsc_messages(log_text):
    """What fakesmsc printed, concatenated parts joined: [(sender, receiver, payload
    bytes, kind, the line of the last part)], kind 'text', 'data' or 'ucs-2'. A part
    whose UDH is too short to say which message it belongs to stands alone."""
    messages, parts = [], {}
    for line in log_text.splitlines():
        m = LINE.search(line)
        if not m:
            continue
        fields = m.group(1).split(" ", 3)
        if len(fields) < 4:
            continue
        sender, receiver, kind, rest = fields
        if kind == "udh":
            udh_text, _, rest2 = rest.partition(" ")
            udh = unquote(udh_text)
            data_kind, _, data = rest2.partition(" ")
            payload = unquote(data) if data_kind != "text" else data.encode()
            if len(udh) < 6:
                messages.append((sender, receiver, payload, "data", line))
                continue
            # Concatenation element: 00 03 ref total seq (after the UDH length byte).
            ref, total, seq = udh[3], udh[4], udh[5]
            key = (sender, receiver, ref)
            parts.setdefault(key, {})[seq] = payload
            if len(parts[key]) == total:
                joined = b"".join(parts[key][i] for i in sorted(parts[key]))
                messages.append((sender, receiver, joined, "data", line))
                del parts[key]
        elif kind == "text":
            messages.append((sender, receiver, rest.encode("utf-8", "surrogateescape"), "text", line))
        else:
            messages.append((sender, receiver, unquote(rest), kind, line))
    return messages


def unquote(text):
    """fakesmsc URL-encodes with '+' for a space byte."""
    return urllib.parse.unquote_to_bytes(text.replace("+", "%20"))


def decode(payload, encoding):
    """The text of a received message, given the encoding Relance chose."""
    return payload.decode("utf-16-be" if encoding == "ucs2" else "utf-8")


def wait_received(kannel, n, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = kannel.received()
        if len(got) >= n:
            return got
        time.sleep(0.1)
    return kannel.received()
