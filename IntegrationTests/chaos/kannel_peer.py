"""A real Kannel for the chaos harness: bearerbox + smsbox + fakesmsc (Debian `kannel`,
`kannel-extras`), loopback only. The configuration follows IntegrationTests/kannel.py,
plus a store file, so that what bearerbox acknowledged survives its restart, and
`immediate-sendsms-reply = false` (smsbox answers Relance only once bearerbox has the
message). Each process can be killed and restarted on its own.

What the handset side received is fakesmsc's output: one "Got message N: <...>" line per
message (or per part of a concatenated one)."""

import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from kannel import fakesmsc_messages, kannel_config  # noqa: E402  (shared with the integration tests)

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"


def listening(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Kannel:
    def __init__(self, root, ports, spawn):
        """ports: four free ports; spawn(args, log_path) -> Popen (the harness's, so that
        every child is tracked and killed at the end)."""
        self.root = pathlib.Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.admin_port, self.box_port, self.smsc_port, self.sendsms_port = ports
        self.username = "relance"
        self.password = "kannel-pw-chaos"
        self.password_file = self.root / "password"
        self.password_file.write_text(self.password + "\n")
        self.url = f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"
        self.spawn = spawn
        self.procs = {}
        self.fake_log = self.root / "fakesmsc.log"
        self.config = self.root / "kannel.conf"
        self.config.write_text(kannel_config(
            self.root, ports, self.username, self.password, log_level=2,
            # What bearerbox accepted survives its restart; smsbox answers once bearerbox has it.
            core_extra=f"store-type = file\nstore-location = {self.root}/kannel.store\nstore-dump-freq = 1\n",
            smsbox_extra="immediate-sendsms-reply = false\n"))

    # ---- processes --------------------------------------------------------------------

    def alive(self, name):
        p = self.procs.get(name)
        return p is not None and p.poll() is None

    def start_bearerbox(self):
        self.procs["bearerbox"] = self.spawn([BEARERBOX, str(self.config)], self.root / "bearerbox.out")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not listening(self.smsc_port):
            if not self.alive("bearerbox"):
                return False
            time.sleep(0.1)
        return listening(self.smsc_port)

    def start_fakesmsc(self):
        # -m 0: send no mobile-originated message, only receive and print.
        self.procs["fakesmsc"] = self.spawn(
            [FAKESMSC, "-H", "127.0.0.1", "-r", str(self.smsc_port), "-i", "0.1", "-m", "0", "1 2 text x"],
            self.fake_log)

    def start_smsbox(self):
        self.procs["smsbox"] = self.spawn([SMSBOX, str(self.config)], self.root / "smsbox.out")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not listening(self.sendsms_port):
            if not self.alive("smsbox"):
                return False
            time.sleep(0.1)
        return listening(self.sendsms_port)

    def kill(self, name, sig=signal.SIGTERM, wait=15):
        p = self.procs.get(name)
        if p is None or p.poll() is not None:
            return
        try:
            p.send_signal(sig)
            p.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)
        except ProcessLookupError:
            pass

    def ensure(self):
        """Restarts whatever is down, in dependency order. True when all three run."""
        if not self.alive("bearerbox"):
            # smsbox and fakesmsc follow bearerbox down; restart them all.
            self.kill("smsbox", signal.SIGKILL)
            self.kill("fakesmsc", signal.SIGKILL)
            if not self.start_bearerbox():
                return False
        if not self.alive("fakesmsc"):
            self.start_fakesmsc()
        if not self.alive("smsbox"):
            if not self.start_smsbox():
                return False
        return True

    def online(self):
        try:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.admin_port}/status.txt?password=admin-{self.admin_port}",
                    timeout=2) as r:
                return "online" in r.read().decode()
        except OSError:
            return False

    def stop(self):
        for name in ("smsbox", "fakesmsc", "bearerbox"):
            self.kill(name, signal.SIGTERM, wait=10)

    # ---- what fakesmsc printed -----------------------------------------------------------

    def received(self):
        """[(payload bytes, raw line)] per complete message, concatenated parts joined."""
        if not self.fake_log.exists():
            return []
        return [(m[2], m[4]) for m in fakesmsc_messages(self.fake_log.read_text(errors="replace"))]


def markers(payload, pattern):
    """Markers found in a payload, whatever its encoding (GSM-7 as text, or UCS-2)."""
    found = set(pattern.findall(payload.decode("latin-1")))
    if not found and len(payload) % 2 == 0:
        found = set(pattern.findall(payload.decode("utf-16-be", errors="replace")))
    return found


def environ_ok():
    return all(os.path.exists(p) for p in (BEARERBOX, SMSBOX, FAKESMSC))
