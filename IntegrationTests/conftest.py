"""Integration harness: drives the real `relance` binary against a real SMTP server
(aiosmtpd on 127.0.0.1, random port) and reads the real SQLite database."""

import email
import email.policy
import os
import pathlib
import signal
import socket
import sqlite3
import subprocess
import threading
import time

import pytest
from aiosmtpd.controller import Controller

REPO = pathlib.Path(__file__).resolve().parents[1]
BIN = os.environ.get("RELANCE_BIN", str(REPO / ".build/debug/relance"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """aiosmtpd handler that keeps every accepted message and answers DATA from a
    script of replies (then 250). It offers PIPELINING (RFC 2920), as Postfix and most
    servers do, unless told not to; aiosmtpd reads pipelined commands in order.
    `refused_recipients` maps an address to the reply its RCPT TO gets."""

    def __init__(self, pipelining=True):
        self.messages = []  # (mail_from, rcpt_tos, raw bytes)
        self.replies = []
        self.data_commands = 0
        self.sessions = 0
        self.quits = 0
        self.pipelining = pipelining
        self.refused_recipients = {}
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self.lock:
            self.sessions += 1
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_QUIT(self, server, session, envelope):
        with self.lock:
            self.quits += 1
        return "221 Bye"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = self.refused_recipients.get(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.data_commands += 1
            reply = self.replies.pop(0) if self.replies else None
            if reply is None:
                self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
                return "250 2.0.0 Ok: queued as Q%05d" % len(self.messages)
            return reply

    def parsed(self):
        with self.lock:
            return [email.message_from_bytes(raw, policy=email.policy.default) for _, _, raw in self.messages]

    def count(self):
        with self.lock:
            return len(self.messages)


@pytest.fixture
def smtp():
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, data_size_limit=10_000_000)
    controller.start()
    recorder.port = port
    try:
        yield recorder
    finally:
        controller.stop()


CREDITOR = """
creditor:
  name: Lumen Conseil SAS
  email: compta@lumen-conseil.example
  phone: "+33 1 84 60 12 34"
  address: ["12 rue des Tanneurs", "69002 Lyon"]
  registration: SAS au capital de 50 000 EUR – RCS Lyon 812 345 678
"""


class Relance:
    """One Relance installation in a temporary folder."""

    def __init__(self, root, smtp_port=None, extra=""):
        self.root = pathlib.Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.state = self.root / "state"
        self.config = self.root / "relance.yaml"
        text = f"""
state_directory: {self.state}
templates:
  directory: {REPO / 'Templates'}
  default_locale: en
email:
  from: relances@lumen-conseil.fr
  from_name: "Lumen Conseil – Service clients"
dispatcher:
  concurrency: 2
  poll_interval: 0.1
  lease: 10s
retry:
  base_delay: 0.2
  max_delay: 1
sweeper:
  interval: 0.5
""" + CREDITOR
        if smtp_port:
            text += f"""
smtp:
  host: 127.0.0.1
  port: {smtp_port}
  security: none
  connect_timeout: 2
  timeout: 4
  data_timeout: 3
"""
        if "\napi:" not in "\n" + extra:
            # The HTTP API is on by default (127.0.0.1:8425); tests that do not need it
            # leave the port alone so that they never collide with a running daemon.
            text += "\napi:\n  enabled: false\n"
        self.config.write_text(text + extra)

    def run(self, *args, input=None, check=True, timeout=120):
        env = dict(os.environ, RELANCE_CONFIG=str(self.config))
        result = subprocess.run(
            [BIN, *args], input=input, capture_output=True, text=True, timeout=timeout, env=env
        )
        if check and result.returncode != 0:
            raise AssertionError(f"relance {' '.join(args)} exited {result.returncode}:\n{result.stderr}\n{result.stdout}")
        return result

    def start(self, *args):
        env = dict(os.environ, RELANCE_CONFIG=str(self.config))
        log = open(self.root / "serve.log", "ab")
        return subprocess.Popen([BIN, "serve", *args], stdout=log, stderr=subprocess.STDOUT, env=env)

    def serve_until_idle(self, timeout=120):
        return self.run("serve", "--until-idle", timeout=timeout)

    def sql(self, query, params=()):
        with sqlite3.connect(self.state / "relance.sqlite", timeout=30) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(query, params).fetchall()
            db.commit()
            return [dict(r) for r in rows]

    def jobs(self):
        return self.sql("SELECT * FROM jobs ORDER BY id")

    def trace(self, job_id):
        return self.sql("SELECT * FROM delivery_events WHERE job_id = ? ORDER BY id", (job_id,))

    def payer(self, ref, name, locale, email_address, segment="standard", timezone="Europe/Paris"):
        self.run(
            "payer", "upsert", "--ref", ref, "--name", name, "--locale", locale, "--email", email_address,
            "--segment", segment, "--timezone", timezone,
        )

    def enqueue(self, payer, template="reminder-1", case=None, data=None, extra=()):
        sample = (REPO / "Templates" / "samples" / f"{template}.json").read_text()
        args = ["enqueue", "--payer", payer, "--template", template, "--data", data or sample, *extra]
        if case:
            args += ["--case", case]
        out = self.run(*args).stdout.split()
        return int(out[0])


@pytest.fixture
def relance_smtp(tmp_path, smtp):
    r = Relance(tmp_path, smtp_port=smtp.port)
    r.run("migrate")
    return r


@pytest.fixture
def relance_outbox(tmp_path):
    r = Relance(tmp_path)
    r.run("migrate")
    return r


def wait_for(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def kill(process, sig=signal.SIGKILL):
    process.send_signal(sig)
    return process.wait(timeout=60)
