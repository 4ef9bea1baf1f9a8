"""A private Postfix instance for the bounce tests (docs/EMAIL.md): its own configuration,
queue and log under a temporary folder, listening on 127.0.0.1 only, relaying every
message to a test peer, and delivering the bounce domain to Relance by LMTP or by a
`pipe` transport running `relance bounce`. Needs root (Postfix's master starts as root
and drops privileges)."""

import os
import pathlib
import shutil
import subprocess
import tempfile
import time

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
REPO = pathlib.Path(__file__).resolve().parent.parent


def available():
    return os.path.exists(POSTFIX) and os.geteuid() == 0


def open_directory():
    """A folder the `postfix` and `nobody` users can enter (pytest's are private)."""
    path = tempfile.mkdtemp(prefix="relance-postfix-")
    os.chmod(path, 0o755)
    return pathlib.Path(path)


class Postfix:
    def __init__(self, root, smtpd_port, relay_port, bounce_domain, lmtp_port=None, pipe_argv=None,
                 delay_warning=False):
        self.root = pathlib.Path(root)
        self.config = self.root / "etc"
        self.queue = self.root / "spool"
        self.data = self.root / "lib"
        self.log = self.root / "maillog"
        self.smtpd_port = smtpd_port
        self.relay_port = relay_port
        self.bounce_domain = bounce_domain
        self.lmtp_port = lmtp_port
        self.pipe_argv = pipe_argv
        self.delay_warning = delay_warning

    def start(self):
        for d in (self.config, self.queue, self.data):
            d.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.data, "postfix", "postfix")
        sample = "main-lmtp.cf" if self.lmtp_port else "main-pipe.cf"
        main = f"""
compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {self.data}
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = {self.root}
maillog_file = {self.log}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = relay.relance.test
mydomain = relance.test
myorigin = $myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
relayhost = [127.0.0.1]:{self.relay_port}
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
lmtp_tls_security_level = none
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
delay_warning_time = {"1s" if self.delay_warning else "0h"}
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
smtpd_banner = $myhostname ESMTP
"""
        # The shipped sample (deploy/postfix), for this test's domain and port.
        main += self.sample(sample).replace("127.0.0.1:8426", f"127.0.0.1:{self.lmtp_port}")
        (self.config / "main.cf").write_text(main)
        services = []
        master = pathlib.Path("/etc/postfix/master.cf")
        if not master.exists():
            master = pathlib.Path("/etc/postfix/master.cf.proto")
        for line in master.read_text().splitlines():
            if not line or line.startswith("#") or line[0].isspace():
                continue
            fields = line.split()
            if fields[0] == "smtp" and fields[1] == "inet":
                fields[0] = f"127.0.0.1:{self.smtpd_port}"
            if fields[0] in ("maildrop", "uucp", "ifmail", "bsmtp", "scalemail-backend", "mailman"):
                continue
            fields[4] = "n"  # no chroot: the instance's files are outside any chroot
            services.append("  ".join(fields))
        if self.pipe_argv:
            # The shipped sample, run as nobody with this test's binary and configuration.
            pipe = self.sample("master-pipe.cf").replace("user=relance", "user=nobody")
            services.append(pipe.replace("/usr/bin/relance bounce --config /etc/relance/relance.yaml",
                                         " ".join(self.pipe_argv)))
        (self.config / "master.cf").write_text("\n".join(services) + "\n")
        self.postfix("check")
        self.postfix("start")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if (self.queue / "pid" / "master.pid").exists():
                return self
            time.sleep(0.1)
        raise AssertionError("postfix did not start:\n" + self.maillog())

    def sample(self, name):
        text = (REPO / "deploy" / "postfix" / name).read_text()
        assert name.startswith("master") or "bounce.lumen-conseil.example" in text
        return text.replace("bounce.lumen-conseil.example", self.bounce_domain) + "\n"

    def postfix(self, *args):
        result = subprocess.run([POSTFIX, "-c", str(self.config), *args], capture_output=True, text=True,
                                timeout=60)
        if result.returncode != 0:
            raise AssertionError(f"postfix {' '.join(args)}: {result.stderr}{result.stdout}\n{self.maillog()}")
        return result

    def flush(self):
        subprocess.run(["postqueue", "-c", str(self.config), "-f"], capture_output=True, timeout=30)

    def maillog(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self):
        subprocess.run([POSTFIX, "-c", str(self.config), "abort"], capture_output=True, timeout=60)
