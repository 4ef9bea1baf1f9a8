"""Once means once at the boundary with the peers: a message handed over without a
definitive answer is `uncertain`, never sent again; a worker paused past its lease
writes nothing; an HTTP request is never re-sent behind the daemon's back.

The SMTP peer is aiosmtpd (a real server) with its DATA handler changed to fail at the
worst moment; the HTTP gateway is a small keep-alive server written here, named FAKE
below (the gateways it stands for, Kannel's smsbox or a customer's webhook, close kept
connections the same way; the real Kannel is restarted mid-run by `make chaos`)."""

import asyncio
import json
import signal
import socket
import threading
import time

from aiosmtpd.controller import Controller

from conftest import REPO, Recorder, Relance, free_port, kill, wait_for


class FaultyRecorder(Recorder):
    """Records every message it receives, then fails as `mode` says:
    - "close": stores the message, then closes the connection without answering the final dot;
    - "slow": answers the final dot after `delay` seconds;
    and may hold the RCPT reply for `rcpt_delay` seconds (`rcpt_seen` is set when a RCPT arrives)."""

    def __init__(self, mode=None, delay=0.0, rcpt_delay=0.0):
        super().__init__()
        self.mode = mode
        self.delay = delay
        self.rcpt_delay = rcpt_delay
        self.rcpt_seen = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_seen.set()
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.data_commands += 1
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
            n = len(self.messages)
        if self.mode == "close":
            server.transport.close()
            await asyncio.sleep(30)  # cancelled when the connection is lost
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        return "250 2.0.0 Ok: queued as S%05d" % n

    def received(self, job_id):
        return sum(1 for m in self.parsed() if int(m["X-Relance-Job"]) == job_id)


def serve(recorder):
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, data_size_limit=10_000_000)
    controller.start()
    recorder.port = port
    return controller


def smtp_relance(tmp_path, recorder, replace=()):
    r = Relance(tmp_path / "r", smtp_port=recorder.port)
    text = r.config.read_text().replace("concurrency: 2", "concurrency: 1")
    for old, new in replace:
        assert old in text, old
        text = text.replace(old, new)
    r.config.write_text(text)
    r.run("migrate")
    r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
    return r


def state(r, job_id):
    return r.sql("SELECT state, last_error FROM jobs WHERE id = ?", (job_id,))[0]


def test_server_that_stores_then_closes_before_answering_the_final_dot_gives_uncertain_received_once(tmp_path):
    recorder = FaultyRecorder(mode="close")
    controller = serve(recorder)
    try:
        r = smtp_relance(tmp_path, recorder)
        job_id = r.enqueue("P", case="F-1")
        r.serve_until_idle()
        row = state(r, job_id)
        assert row["state"] == "uncertain", row
        assert "after the end of the message" in row["last_error"], row
        assert recorder.received(job_id) == 1
        kinds = [e["event"] for e in r.trace(job_id)]
        assert kinds[-2:] == ["dispatching", "uncertain"], kinds
        detail = json.loads(r.trace(job_id)[-1]["detail"])
        assert detail["reason"] == "smtp_data", detail
        # Nothing sends it again: another run leaves it alone.
        r.serve_until_idle()
        assert recorder.received(job_id) == 1 and state(r, job_id)["state"] == "uncertain"
        # The operator checks with the server and settles it.
        r.run("jobs", "resolve", str(job_id), "mark-sent", "--note", "found in the relay's log")
        assert state(r, job_id)["state"] == "sent"
    finally:
        controller.stop()


def test_server_answering_the_final_dot_after_20_s_within_data_timeout_is_sent_once(tmp_path):
    recorder = FaultyRecorder(mode="slow", delay=20)
    controller = serve(recorder)
    try:
        r = smtp_relance(tmp_path, recorder, replace=[("data_timeout: 3", "data_timeout: 30s"),
                                                      ("lease: 10s", "lease: 45s")])
        job_id = r.enqueue("P", case="F-2")
        r.serve_until_idle(timeout=120)
        row = state(r, job_id)
        assert row["state"] == "sent", row
        assert recorder.received(job_id) == 1
        accepted = [e for e in r.trace(job_id) if e["event"] == "accepted"]
        assert len(accepted) == 1 and "queued as S00001" in accepted[0]["detail"]
    finally:
        controller.stop()


def test_lease_shorter_than_the_send_and_its_answer_is_refused_by_config_check(tmp_path):
    recorder = FaultyRecorder()
    controller = serve(recorder)
    try:
        r = Relance(tmp_path / "r", smtp_port=recorder.port)
        r.config.write_text(r.config.read_text().replace("data_timeout: 3", "data_timeout: 10m"))
        out = r.run("config", "check", check=False)
        assert out.returncode != 0
        assert "dispatcher.lease" in out.stderr and "smtp.data_timeout" in out.stderr, out.stderr
    finally:
        controller.stop()


def test_worker_paused_past_its_lease_writes_nothing_after_resume(tmp_path):
    # The server holds the RCPT reply 3 s; the daemon is stopped (SIGSTOP) meanwhile for
    # longer than its lease. On resume the reply is there, the server says 354, and the
    # worker must find its lease gone and write nothing.
    recorder = FaultyRecorder(rcpt_delay=3)
    controller = serve(recorder)
    try:
        r = smtp_relance(tmp_path, recorder, replace=[("lease: 10s", "lease: 9s"), ("data_timeout: 3", "data_timeout: 2")])
        job_id = r.enqueue("P", case="F-3")
        daemon = r.start()
        try:
            assert recorder.rcpt_seen.wait(60), "the daemon never reached RCPT"
            daemon.send_signal(signal.SIGSTOP)
            time.sleep(12)
            daemon.send_signal(signal.SIGCONT)
            assert wait_for(lambda: state(r, job_id)["state"] not in ("queued", "running"), timeout=60)
            time.sleep(1)  # anything the worker would still write, it has written by now
        finally:
            daemon.send_signal(signal.SIGCONT)
            kill(daemon, signal.SIGTERM)
        assert recorder.received(job_id) == 0, "a message was written after the lease expired"
        row = state(r, job_id)
        assert row["state"] == "uncertain", row
        assert "lease" in row["last_error"], row
        r.serve_until_idle()
        assert recorder.received(job_id) == 0
    finally:
        controller.stop()


class ClosingGateway:
    """FAKE HTTP gateway (HTTP/1.1, keep-alive) written here: it answers requests on a
    connection until it has answered `answer_first`, then reads the next request whole
    and closes the connection without a response, as a gateway restarting or timing out
    a kept-alive connection does. Every request that reaches it is recorded."""

    def __init__(self, answer_first=1, status_line="202 Accepted", body=b"0: Accepted for delivery"):
        self.requests = []
        self.answer_first = answer_first
        self.status_line = status_line
        self.body = body
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.answered = 0
        self.stop = False
        self.thread = threading.Thread(target=self.accept, daemon=True)
        self.thread.start()

    def accept(self):
        self.listener.settimeout(0.2)
        while not self.stop:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def read_request(self, conn, buffered):
        while b"\r\n\r\n" not in buffered:
            chunk = conn.recv(65536)
            if not chunk:
                return None, b""
            buffered += chunk
        head, rest = buffered.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None, b""
            rest += chunk
        return head + b"\r\n\r\n" + rest[:length], rest[length:]

    def handle(self, conn):
        conn.settimeout(30)
        buffered = b""
        with conn:
            while True:
                request, buffered = self.read_request(conn, buffered)
                if request is None:
                    return
                self.requests.append(request)
                if self.answered >= self.answer_first:
                    return  # read whole, no answer, connection closed
                self.answered += 1
                conn.sendall(b"HTTP/1.1 " + self.status_line.encode() + b"\r\nContent-Type: text/plain\r\n"
                             + b"Content-Length: " + str(len(self.body)).encode() + b"\r\n\r\n" + self.body)

    def close(self):
        self.stop = True
        self.thread.join(timeout=5)
        self.listener.close()


def sms_relance(tmp_path, provider_yaml):
    r = Relance(tmp_path / "r", extra=f"""
sms:
  sender: ACME
  rate: none
  connect_timeout: 1
  timeout: 3
{provider_yaml}
windows:
  sms:
    days: all
    hours: ["00:00-24:00"]
    holidays: none
""")
    r.config.write_text(r.config.read_text().replace("concurrency: 2", "concurrency: 1"))
    r.run("migrate")
    r.run("payer", "upsert", "--ref", "P1", "--name", "Jane Smith", "--locale", "en-GB", "--timezone",
          "Europe/London", "--phone", "07700 900123", "--channels", "sms")
    return r


def enqueue_sms(r, case):
    data = (REPO / "Templates" / "samples" / "reminder-1.json").read_text()
    return int(r.run("enqueue", "--payer", "P1", "--template", "reminder-1", "--channel", "sms", "--case", case,
                     "--data", data).stdout.split()[0])


def check_no_resend(r, gateway, first, second):
    r.serve_until_idle()
    rows = {j["id"]: j for j in r.jobs()}
    assert rows[first]["state"] == "sent", rows[first]
    assert rows[second]["state"] == "uncertain", rows[second]
    assert "without a response" in rows[second]["last_error"], rows[second]
    # Exactly one request per job reached the gateway: libcurl did not send the second again.
    assert len(gateway.requests) == 2, [q[:80] for q in gateway.requests]
    r.serve_until_idle()
    assert len(gateway.requests) == 2


def test_kannel_style_get_on_a_kept_connection_closed_after_the_request_is_not_sent_again(tmp_path):
    gateway = ClosingGateway()
    try:
        (tmp_path / "pw").write_text("secret\n")
        r = sms_relance(tmp_path, f"""  transport: kannel
  kannel:
    url: http://127.0.0.1:{gateway.port}/cgi-bin/sendsms
    username: relance
    password_file: {tmp_path / 'pw'}""")
        first, second = enqueue_sms(r, "INV-1"), enqueue_sms(r, "INV-2")
        check_no_resend(r, gateway, first, second)
        assert all(q.startswith(b"GET /cgi-bin/sendsms?") for q in gateway.requests)
    finally:
        gateway.close()


def test_webhook_post_on_a_kept_connection_closed_after_the_request_is_not_sent_again(tmp_path):
    gateway = ClosingGateway(status_line="200 OK", body=b'{"id": "m-1"}')
    try:
        r = sms_relance(tmp_path, f"""  transport: webhook
  webhook:
    url: http://127.0.0.1:{gateway.port}/sms""")
        first, second = enqueue_sms(r, "INV-1"), enqueue_sms(r, "INV-2")
        check_no_resend(r, gateway, first, second)
        assert all(q.startswith(b"POST /sms ") for q in gateway.requests)
    finally:
        gateway.close()


def catches_sigterm(pid):
    """Whether the process has a handler for SIGTERM (/proc/PID/status, SigCgt bit 14)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    except FileNotFoundError:
        pass
    return False


def test_sigterm_in_the_first_milliseconds_is_a_clean_stop(relance_outbox):
    r = relance_outbox
    # From the moment the program's own code runs (only the dynamic loader comes before,
    # a few tens of milliseconds for a debug build), through configuration, database and
    # templates loading, to the service group: a clean exit 0, never death by the signal.
    for delay in (None, 0.01, 0.03, 0.06, 0.1, 0.2):
        daemon = r.start()
        assert wait_for(lambda: catches_sigterm(daemon.pid), timeout=10, interval=0.0005)
        if delay:
            time.sleep(delay)
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=30)
        assert code == 0, f"SIGTERM {delay} s after the handler appeared: exit {code}"


def test_until_idle_leaves_the_api_port_to_the_running_daemon(tmp_path):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        r = Relance(tmp_path / "r", extra=f"api:\n  listen: 127.0.0.1:{port}\n")
        r.run("migrate")
        r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
        job_id = r.enqueue("P", case="F-9")
        r.serve_until_idle()
        assert state(r, job_id)["state"] == "sent"
        # Asked for, the API needs its port and says so.
        out = r.run("serve", "--until-idle", "--api", check=False)
        assert out.returncode != 0 and f"127.0.0.1:{port}" in out.stderr, out.stderr
    finally:
        busy.close()


def test_stale_temporary_files_are_removed_at_start(relance_outbox):
    r = relance_outbox
    outbox = r.state / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    dead = outbox / ".relance-tmp.4194303.job-7-1.eml"  # above any pid this machine gives
    old_foundation = outbox / ".dat.nosync1a2b.XyZ"
    for f in (dead, old_foundation):
        f.write_bytes(b"half a message")
    r.serve_until_idle()
    assert not dead.exists() and not old_foundation.exists()
    log = r.run("serve", "--until-idle").stdout
    assert "removed temporary files" not in log


class BogusRecorder(FaultyRecorder):
    """Stores the message, then answers the final dot with `reply`, which is no answer."""

    def __init__(self, reply):
        super().__init__()
        self.reply = reply

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return self.reply


import pytest  # noqa: E402


@pytest.mark.parametrize("reply", ["999 what", "garbage", "550-first line\r\n250 then an acceptance", "354 again"])
def test_a_reply_to_the_final_dot_that_is_no_answer_gives_uncertain_never_a_resend(tmp_path, reply):
    recorder = BogusRecorder(reply)
    controller = serve(recorder)
    try:
        r = smtp_relance(tmp_path, recorder)
        job_id = r.enqueue("P", case="F-B")
        r.serve_until_idle()
        r.serve_until_idle()
        row = state(r, job_id)
        assert row["state"] == "uncertain", row
        assert "may have been delivered" in row["last_error"], row
        assert recorder.received(job_id) == 1
    finally:
        controller.stop()


def test_sigterm_while_until_idle_finishes_is_a_clean_exit(relance_outbox):
    r = relance_outbox
    r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
    for i in range(12):
        r.enqueue("P", case=f"F-{i}")
        daemon = r.start("--until-idle")
        # From the moment its own code runs (before that, only the dynamic loader: a busy
        # machine can take longer than the delays below to get there).
        assert wait_for(lambda: catches_sigterm(daemon.pid), timeout=10, interval=0.0005)
        time.sleep(0.02 + 0.03 * i)
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=30)
        assert code == 0, (i, code, (r.root / "serve.log").read_text()[-600:])
