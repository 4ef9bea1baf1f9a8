"""A job row becomes a localized e-mail on a real SMTP server (aiosmtpd), with a trace."""

import email.utils
import re
import signal
import socket
import threading
import time

from conftest import REPO

HOSTILE_NAME = "Zoë Dupré <script>alert(1)</script>\r\nBcc: attacker@evil.example"


def test_messages_parse_strictly_for_fr_and_en_payers(relance_smtp, smtp):
    r = relance_smtp
    # A payer row written by another service with plain SQL (the contract allows it):
    # accents, markup and an embedded CR/LF that must not become a header.
    r.sql(
        "INSERT INTO payers(ref, name, locale, timezone, segment, email) VALUES (?, ?, 'fr-FR', 'Europe/Paris', 'standard', ?)",
        ("FR-1", HOSTILE_NAME, "zoe.dupre@example.fr"),
    )
    r.payer("GB-1", "Britannia Widgets Ltd", "en-GB", "accounts@britannia.example.co.uk", timezone="Europe/London")
    fr_id = r.enqueue("FR-1", case="F-2026-0142")
    gb_id = r.enqueue("GB-1", case="INV-77")
    r.serve_until_idle()

    states = {j["id"]: j["state"] for j in r.jobs()}
    assert states == {fr_id: "sent", gb_id: "sent"}
    messages = {m["X-Relance-Job"]: m for m in smtp.parsed()}
    assert set(messages) == {str(fr_id), str(gb_id)}

    for job_id, message in ((fr_id, messages[str(fr_id)]), (gb_id, messages[str(gb_id)])):
        assert message.defects == []
        for part in message.walk():
            assert part.defects == [], part.defects
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Message-ID"] == f"<relance.job-{job_id}.1@lumen-conseil.fr>"
        assert email.utils.parsedate_to_datetime(message["Date"]) is not None
        assert message["From"].addresses[0].addr_spec == "relances@lumen-conseil.fr"
        assert message["From"].addresses[0].display_name == "Lumen Conseil – Service clients"
        assert message.get_content_type() == "multipart/alternative"
        assert "Bcc" not in message and "bcc" not in message.keys()
        assert all(k.lower() != "bcc" for k in message.keys())

    fr = messages[str(fr_id)]
    to = fr["To"].addresses[0]
    assert to.addr_spec == "zoe.dupre@example.fr"
    assert "\r" not in to.display_name and "\n" not in to.display_name
    assert to.display_name.startswith("Zoë Dupré <script>alert(1)</script")
    assert str(fr["Subject"]) == "Rappel de règlement – F-2026-0142, F-2026-0157"
    text = fr.get_body(("plain",)).get_content()
    html = fr.get_body(("html",)).get_content()
    assert "Madame, Monsieur" in text
    assert "15 octobre 2026" in text and "1er novembre 2026" in text
    assert re.search(r"1\s250,00\s€", text), text
    # Text parts are not HTML-escaped; HTML parts are.
    assert "<script>alert(1)</script>" in text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'lang="fr"' in html

    gb = messages[str(gb_id)]
    assert str(gb["Subject"]) == "Payment reminder – F-2026-0142, F-2026-0157"
    gb_text = gb.get_body(("plain",)).get_content()
    assert "15 October 2026" in gb_text and "€1,250.00" in gb_text
    assert "Dear" in gb_text

    # RFC 5322 / 2045 line limits on the wire.
    for _, _, raw in smtp.messages:
        head, _, body = raw.partition(b"\r\n\r\n")
        assert all(len(line) <= 78 for line in head.split(b"\r\n")), head
        assert all(len(line) <= 76 for line in body.split(b"\r\n")), max(body.split(b"\r\n"), key=len)
        assert b"\n" not in raw.replace(b"\r\n", b"")

    # The trace keeps the SMTP server's own answer.
    accepted = [e for e in r.trace(fr_id) if e["event"] == "accepted"]
    assert len(accepted) == 1 and "250 2.0.0 Ok: queued as Q" in accepted[0]["detail"]


def test_451_is_retried_and_the_trace_shows_both_attempts(relance_smtp, smtp):
    r = relance_smtp
    smtp.replies = ["451 4.3.0 Temporary local problem, try again"]
    r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
    job_id = r.enqueue("P")
    # --until-idle stops when nothing is due; the retry is due a moment later.
    for _ in range(20):
        r.serve_until_idle()
        if r.jobs()[0]["state"] != "queued":
            break
    job = r.jobs()[0]
    assert job["state"] == "sent" and job["attempt"] == 2
    events = [(e["attempt"], e["event"]) for e in r.trace(job_id)]
    assert (1, "transient_error") in events and (2, "accepted") in events
    transient = [e for e in r.trace(job_id) if e["event"] == "transient_error"][0]
    assert '"code":451' in transient["detail"] and "4.3.0" in transient["detail"]
    assert smtp.data_commands == 2 and smtp.count() == 1


def test_550_fails_at_once_quoting_the_server(relance_smtp, smtp):
    r = relance_smtp
    smtp.replies = ["550 5.1.1 <nobody@example.fr>: Recipient address rejected"]
    r.payer("P", "Dupont SARL", "fr-FR", "nobody@example.fr")
    job_id = r.enqueue("P")
    r.serve_until_idle()
    job = r.jobs()[0]
    assert job["state"] == "failed" and job["attempt"] == 1
    assert "550 5.1.1 <nobody@example.fr>: Recipient address rejected" in job["last_error"]
    kinds = [e["event"] for e in r.trace(job_id)]
    assert kinds == ["enqueued", "claimed", "rendered", "dispatching", "permanent_error"]
    assert smtp.count() == 0


def test_unreachable_server_is_transient(tmp_path):
    from conftest import Relance, free_port

    r = Relance(tmp_path, smtp_port=free_port())  # nothing listens there
    r.run("migrate")
    r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
    job_id = r.enqueue("P")
    r.serve_until_idle()
    job = r.jobs()[0]
    assert job["state"] == "queued" and job["attempt"] == 1
    assert "127.0.0.1" in job["last_error"]
    assert [e["event"] for e in r.trace(job_id)][-1] == "transient_error"


def test_a_refused_recipient_in_a_pipelined_envelope_fails_that_job_only(relance_smtp, smtp):
    # The server offers PIPELINING: MAIL FROM, RCPT TO and DATA go out in one write, and
    # the RCPT refusal (not the 554 of the DATA after it) is what the job keeps.
    r = relance_smtp
    smtp.refused_recipients["nobody@example.fr"] = "550 5.1.1 <nobody@example.fr>: Recipient address rejected"
    r.payer("BAD", "Nobody SARL", "fr-FR", "nobody@example.fr")
    r.payer("OK", "Dupont SARL", "fr-FR", "dupont@example.fr")
    bad = r.enqueue("BAD")
    good = [r.enqueue("OK") for _ in range(5)]
    r.serve_until_idle()
    jobs = {j["id"]: j for j in r.jobs()}
    assert jobs[bad]["state"] == "failed" and jobs[bad]["attempt"] == 1
    assert "550 5.1.1 <nobody@example.fr>: Recipient address rejected" in jobs[bad]["last_error"]
    assert all(jobs[i]["state"] == "sent" and jobs[i]["attempt"] == 1 for i in good)
    assert smtp.count() == 5
    assert all(rcpts == ["dupont@example.fr"] for _, rcpts, _ in smtp.messages)
    # Kept connections: one per worker, and one more after the refusal closed one; each
    # kept one ends with QUIT when the daemon stops.
    assert smtp.sessions <= 3, smtp.sessions
    assert smtp.quits >= 1


def test_a_connection_the_server_closed_while_idle_is_reopened_without_a_failed_attempt(tmp_path):
    from aiosmtpd.controller import Controller

    from conftest import Recorder, Relance, free_port, kill, wait_for

    recorder = Recorder()
    port = free_port()
    # aiosmtpd closes a connection idle for 1 s (with a 421), as servers do after their
    # own timeout; the daemon keeps its connections between messages.
    controller = Controller(recorder, hostname="127.0.0.1", port=port, timeout=1)
    controller.start()
    try:
        r = Relance(tmp_path, smtp_port=port)
        # One worker, so that the second batch goes over the connection the first opened.
        r.config.write_text(r.config.read_text().replace("concurrency: 2", "concurrency: 1"))
        r.run("migrate")
        r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
        daemon = r.start()
        try:
            first = [r.enqueue("P") for _ in range(2)]
            assert wait_for(lambda: recorder.count() == 2, 30)
            assert recorder.sessions == 1
            time.sleep(2.5)
            second = [r.enqueue("P") for _ in range(2)]
            assert wait_for(lambda: recorder.count() == 4, 30)
            assert wait_for(lambda: all(j["state"] == "sent" for j in r.jobs()), 10)
        finally:
            kill(daemon, signal.SIGTERM)
        for job in r.jobs():
            assert job["attempt"] == 1, job
        for job_id in first + second:
            assert [e["event"] for e in r.trace(job_id)][-1] == "accepted"
            assert "transient_error" not in [e["event"] for e in r.trace(job_id)]
        assert recorder.sessions == 2, recorder.sessions
    finally:
        controller.stop()


class ScriptedSMTP(threading.Thread):
    """FAKE SMTP server, named as such: it answers DATA with 250 instead of 354, which no
    real server does, to show that such an answer never passes for an acceptance."""

    def __init__(self):
        super().__init__(daemon=True)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received = []

    def run(self):
        self.server.settimeout(30)
        try:
            while True:
                conn, _ = self.server.accept()
                with conn, conn.makefile("rb") as lines:
                    conn.sendall(b"220 fake ESMTP\r\n")
                    for line in lines:
                        self.received.append(line)
                        verb = line[:4].upper()
                        if verb == b"EHLO":
                            conn.sendall(b"250-fake\r\n250 PIPELINING\r\n")
                        elif verb == b"DATA":
                            conn.sendall(b"250 2.0.0 Ok\r\n")
                        elif verb == b"QUIT":
                            conn.sendall(b"221 Bye\r\n")
                            break
                        else:
                            conn.sendall(b"250 Ok\r\n")
        except OSError:
            pass


def test_a_250_to_data_is_not_taken_for_an_acceptance(tmp_path):
    from conftest import Relance

    fake = ScriptedSMTP()
    fake.start()
    try:
        r = Relance(tmp_path, smtp_port=fake.port)
        r.run("migrate")
        r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
        job_id = r.enqueue("P")
        r.serve_until_idle()
        job = r.jobs()[0]
        assert job["state"] == "queued" and job["attempt"] == 1, job
        assert "unexpected SMTP reply to DATA: 250 2.0.0 Ok" in job["last_error"]
        assert [e["event"] for e in r.trace(job_id)][-1] == "transient_error"
    finally:
        fake.server.close()
