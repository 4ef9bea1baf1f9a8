"""The daemon under systemd's eyes: sd_notify messages on a NOTIFY_SOCKET bound by the
test, SIGHUP reloads (a broken template set is refused, a fixed one taken), SIGTERM
with jobs in flight."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time

from conftest import BIN, REPO, Relance, kill, wait_for


class NotifySocket:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.path = str(path)
        self.messages = []

    def drain(self):
        while True:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except (socket.timeout, BlockingIOError):
                return self.messages

    def states(self):
        """Every KEY=value line received, in order."""
        self.drain()
        return [line for m in self.messages for line in m.splitlines()]

    def wait_for(self, line, timeout=20):
        return wait_for(lambda: line in self.states(), timeout, interval=0.05)


def start(r, notify, extra_env=None):
    env = dict(os.environ, RELANCE_CONFIG=str(r.config), NOTIFY_SOCKET=notify.path, WATCHDOG_USEC="400000")
    env.update(extra_env or {})
    log = open(r.root / "serve.log", "ab")
    return subprocess.Popen([BIN, "serve"], stdout=log, stderr=subprocess.STDOUT, env=env)


def test_ready_watchdog_reloading_stopping_in_order(tmp_path):
    r = Relance(tmp_path / "r")
    r.run("migrate")
    notify = NotifySocket(tmp_path / "notify.sock")
    daemon = start(r, notify)
    try:
        assert notify.wait_for("READY=1"), notify.states()
        assert wait_for(lambda: notify.states().count("WATCHDOG=1") >= 3, 10), notify.states()
        daemon.send_signal(signal.SIGHUP)
        assert notify.wait_for("RELOADING=1"), notify.states()
        assert wait_for(lambda: notify.states().count("READY=1") >= 2, 10), notify.states()
        time.sleep(0.5)
    finally:
        assert kill(daemon, signal.SIGTERM) == 0
    states = notify.states()
    assert "STOPPING=1" in states
    order = [s for s in states if s in ("READY=1", "WATCHDOG=1", "RELOADING=1", "STOPPING=1")]
    first = {s: order.index(s) for s in ("READY=1", "WATCHDOG=1", "RELOADING=1", "STOPPING=1")}
    assert first["READY=1"] < first["WATCHDOG=1"] < first["RELOADING=1"] < first["STOPPING=1"], order
    # Keep-alives continue after the reload, and the reload ends with READY=1 again.
    after_reload = order[first["RELOADING=1"]:]
    assert "READY=1" in after_reload and "WATCHDOG=1" in after_reload[after_reload.index("READY=1"):], after_reload
    assert any(s.startswith("STATUS=") and "due" in s for s in states), states
    assert "MONOTONIC_USEC=" in "".join(states)


def test_sighup_refuses_a_broken_template_set_and_takes_a_fixed_one(tmp_path):
    templates = tmp_path / "Templates"
    shutil.copytree(REPO / "Templates", templates)
    r = Relance(tmp_path / "r")
    r.config.write_text(r.config.read_text().replace(str(REPO / "Templates"), str(templates)))
    r.run("migrate")
    r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
    notify = NotifySocket(tmp_path / "notify.sock")
    daemon = start(r, notify)
    outbox = r.state / "outbox"

    def sent_text(job_id):
        path = outbox / f"job-{job_id}-1.eml"
        return path.read_text() if path.exists() else ""

    try:
        assert notify.wait_for("READY=1")
        first = r.enqueue("P", template="thanks", case="A")
        assert wait_for(lambda: sent_text(first), 20)
        # A broken set: an unclosed section. Refused, the old set stays, sending goes on.
        subject = templates / "thanks/fr/email-subject.mustache"
        original = subject.read_text()
        subject.write_text("Merci {{#payer}}\n")
        daemon.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "reload refused" in (r.root / "serve.log").read_text(), 20)
        log = (r.root / "serve.log").read_text()
        assert "thanks/fr/email-subject.mustache:" in log, log[-2000:]
        # The CLI checks templates too (and refuses now): enqueue as another service would, in SQL.
        data = (REPO / "Templates/samples/thanks.json").read_text()
        r.sql("INSERT INTO jobs(payer_ref, case_ref, channel, template, data) VALUES ('P', 'B', 'email', 'thanks', ?)",
              (data,))
        second = r.sql("SELECT max(id) AS id FROM jobs")[0]["id"]
        assert wait_for(lambda: sent_text(second), 20)
        assert "Subject:" in sent_text(second) and "Merci {{" not in sent_text(second)
        # A fixed set with a new subject: the next message carries it.
        subject.write_text(original.replace("Merci", "Grand merci", 1) if "Merci" in original else "Grand merci\n")
        reloads = (r.root / "serve.log").read_text().count("msg=reloaded")
        daemon.send_signal(signal.SIGHUP)
        assert wait_for(lambda: (r.root / "serve.log").read_text().count("msg=reloaded") > reloads, 20)
        third = r.enqueue("P", template="thanks", case="C")
        assert wait_for(lambda: sent_text(third), 20)
        assert "Grand merci" in decoded_subject(sent_text(third)), sent_text(third)[:500]
        assert "Grand merci" not in decoded_subject(sent_text(first))
    finally:
        assert kill(daemon, signal.SIGTERM) == 0


def decoded_subject(eml):
    import email
    import email.policy
    return str(email.message_from_string(eml, policy=email.policy.default)["Subject"] or "")


def test_sigterm_with_100_jobs_in_flight(tmp_path, smtp):
    """SMTP answers slowly; SIGTERM while workers are busy: no claim after the signal,
    nothing left running, exit 0 within the drain bound."""
    import asyncio

    class Slow:
        async def handle_DATA(self, server, session, envelope):
            await asyncio.sleep(0.05)
            smtp.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
            return "250 2.0.0 Ok"

    from aiosmtpd.controller import Controller
    from conftest import free_port
    port = free_port()
    controller = Controller(Slow(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        r = Relance(tmp_path / "r", smtp_port=port, extra="")
        r.config.write_text(r.config.read_text().replace("concurrency: 2", "concurrency: 8\n  batch_size: 16\n  drain_timeout: 10s"))
        r.run("migrate")
        r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
        thanks = json.loads((REPO / "Templates/samples/thanks.json").read_text())
        lines = "\n".join(json.dumps({"payer_ref": "P", "template": "thanks", "channel": "email", "data": thanks})
                          for _ in range(100))
        r.run("enqueue", "--stdin", input=lines)
        notify = NotifySocket(tmp_path / "notify.sock")
        daemon = start(r, notify)
        # All 100 claimed (8 workers x 16), a few already sent: 100 jobs in flight.
        assert wait_for(lambda: r.sql("SELECT count(*) AS n FROM jobs WHERE state = 'queued'")[0]["n"] == 0, 30)
        t0 = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        signalled_at = r.sql("SELECT strftime('%Y-%m-%dT%H:%M:%fZ','now') AS t")[0]["t"]
        assert daemon.wait(timeout=30) == 0
        elapsed = time.monotonic() - t0
    finally:
        controller.stop()
    assert elapsed < 10, elapsed
    jobs = r.jobs()
    states = {}
    for j in jobs:
        states[j["state"]] = states.get(j["state"], 0) + 1
    assert set(states) <= {"sent", "queued"}, states  # nothing left running
    assert states.get("queued", 0) > 0, states  # it really stopped mid-way
    late_claims = r.sql("SELECT count(*) AS n FROM delivery_events WHERE event = 'claimed' AND at > ?", (signalled_at,))
    assert late_claims[0]["n"] == 0
    assert "STOPPING=1" in notify.states()
    # Every job either sent exactly once or back in the queue with its attempt given back.
    assert len([j for j in jobs if j["state"] == "sent"]) == len(smtp.messages)
    assert all(j["attempt"] == 0 for j in jobs if j["state"] == "queued")


def test_log_lines_carry_journald_priorities_under_systemd(tmp_path):
    r = Relance(tmp_path / "r")
    r.run("migrate")
    # A job for a missing payer: an error-level line among info ones.
    r.sql("INSERT INTO jobs(payer_ref, channel, template) VALUES ('NOBODY', 'email', 'thanks')")
    env = dict(os.environ, RELANCE_CONFIG=str(r.config), JOURNAL_STREAM="8:12345")
    out = subprocess.run([BIN, "serve", "--until-idle"], env=env, capture_output=True, text=True, timeout=60).stdout
    lines = out.splitlines()
    assert lines and all(l[:3] in ("<6>", "<5>", "<4>", "<3>", "<7>") for l in lines), lines[:5]
    assert any(l.startswith("<6>") and "level=info" in l for l in lines)
    # Without the journal, plain lines.
    env.pop("JOURNAL_STREAM")
    plain = subprocess.run([BIN, "serve", "--until-idle"], env=env, capture_output=True, text=True, timeout=60).stdout
    assert plain.splitlines()[0].startswith("at="), plain[:200]


def test_a_notify_socket_nobody_reads_never_hangs_the_daemon(tmp_path):
    # A receiver that stopped reading: its queue fills with WATCHDOG=1 within seconds. A
    # blocking send then held the shutdown lock and SIGTERM took a minute or forever.
    r = Relance(tmp_path / "r")
    r.run("migrate")
    stalled = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    stalled.bind(str(tmp_path / "stalled.sock"))
    daemon = subprocess.Popen([BIN, "serve"], stdout=open(r.root / "serve.log", "ab"), stderr=subprocess.STDOUT,
                              env=dict(os.environ, RELANCE_CONFIG=str(r.config),
                                       NOTIFY_SOCKET=str(tmp_path / "stalled.sock"), WATCHDOG_USEC="100000"))
    try:
        time.sleep(3)  # some 60 watchdog pings, far more than the queue holds
        assert daemon.poll() is None, (r.root / "serve.log").read_text()[-2000:]
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0, (r.root / "serve.log").read_text()[-2000:]
    finally:
        if daemon.poll() is None:
            daemon.kill()
        stalled.close()
