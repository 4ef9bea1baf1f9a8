"""Bounces read back (docs/EMAIL.md): Relance sends through a real Postfix, Postfix relays
to a peer that refuses the recipient, writes the DSN to the VERP envelope sender and
delivers it to Relance, by LMTP or through a `pipe` transport running `relance bounce`.
The job ends `undelivered`, the address is suppressed, and the scenario's step goes out
as a letter. A deferral is a `delayed` trace event and nothing else."""

import json
import os
import shutil
import subprocess
import time

import pytest

import postfix as postfix_instance
from conftest import BIN, Relance, free_port, wait_for

BOUNCE_DOMAIN = "bounce.lumen-conseil.fr"
needs_postfix = pytest.mark.skipif(not postfix_instance.available(), reason="needs Postfix and root")


@pytest.fixture
def open_dir():
    path = postfix_instance.open_directory()
    yield path
    shutil.rmtree(path, ignore_errors=True)


def bounce_installation(tmp_path, smtp_port=None, lmtp_port=None, extra=""):
    r = Relance(tmp_path / "r", smtp_port=smtp_port, extra=extra)
    secret = tmp_path / "bounce-secret"
    secret.write_text("a-bounce-secret-of-32-characters!\n")
    os.chmod(secret, 0o644)
    email_yaml = f"  bounce_address: bounces@{BOUNCE_DOMAIN}\n  bounce_secret_file: {secret}\n"
    if lmtp_port:
        email_yaml += f"  bounces:\n    lmtp_listen: 127.0.0.1:{lmtp_port}\n"
    r.config.write_text(r.config.read_text().replace("email:\n", "email:\n" + email_yaml, 1))
    r.run("migrate")
    return r


def scenario_payer(r, address="gone@martin.example.fr"):
    r.run("payer", "upsert", "--ref", "ACME", "--name", "Boulangerie Martin", "--email", address,
          "--address-line", "12 rue des Tanneurs", "--address-line", "69002 Lyon", "--channels", "email,letter")
    r.run("invoice", "open", "--payer", "ACME", "--number", "F-HB", "--amount", "400.00", "--issued", "2027-02-20",
          "--due", "2027-03-20")
    r.sql("UPDATE jobs SET run_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), due_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') "
          "WHERE idempotency_key = 'F-HB:reminder-1:email'")


def jobs_by_key(r):
    return {j["idempotency_key"]: j for j in r.jobs()}


def events(r, job_id):
    return [(e["event"], json.loads(e["detail"])) for e in r.trace(job_id)]


def dsn(verp, recipient="gone@martin.example.fr", status="5.1.1", action="failed"):
    """A Postfix-style DSN, as the tests of `relance bounce` without Postfix feed it."""
    return (
        f"Return-Path: <>\r\nFrom: MAILER-DAEMON@relay.example (Mail Delivery System)\r\nTo: {verp}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not\r\n"
        "be delivered to one or more recipients.\r\n\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822;{recipient}\r\nAction: {action}\r\n"
        f"Status: {status}\r\nRemote-MTA: dns; mx.martin.example.fr\r\n"
        f"Diagnostic-Code: smtp; 550 {status} <{recipient}>: Recipient address rejected: User unknown\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <relance.job-1.1@lumen-conseil.fr>\r\n"
        "Subject: Rappel\r\n\r\n--B--\r\n"
    ).encode()


def arf_complaint(verp, recipient):
    """An ARF (RFC 5965) abuse report, as a mailbox provider's feedback loop sends it."""
    return (f"From: feedback@fbl.example\r\nTo: {verp}\r\nSubject: complaint\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\r\n\r\n'
            "--F\r\nContent-Type: text/plain\r\n\r\nThis is an abuse report.\r\n"
            "--F\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: FBL/1.0\r\n"
            f"Version: 1\r\nOriginal-Rcpt-To: {recipient}\r\n\r\n"
            "--F\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: relances@lumen-conseil.fr\r\n"
            f"To: {recipient}\r\nMessage-ID: <relance.job-1.1@lumen-conseil.fr>\r\n\r\n--F--\r\n")


def sent_envelope_sender(r, job_id):
    """The envelope sender the job's message went out with (the outbox keeps it)."""
    outbox = r.state / "outbox" / f"job-{job_id}-1.eml"
    return outbox


def test_relance_bounce_reads_a_dsn_on_stdin_into_its_job(tmp_path, smtp):
    r = bounce_installation(tmp_path, smtp_port=smtp.port)
    scenario_payer(r)
    r.serve_until_idle()
    job = jobs_by_key(r)["F-HB:reminder-1:email"]
    assert job["state"] == "sent"
    (mail_from, rcpts, raw) = smtp.messages[0]
    assert mail_from.startswith(f"bounces+{job['id']}-1-") and mail_from.endswith("@" + BOUNCE_DOMAIN), mail_from
    assert b"From: " in raw and b"relances@lumen-conseil.fr" in raw  # the From header is unchanged

    # A forged MAC, another domain, or no VERP address: ignored (exit 0), nothing changes.
    local, _, domain = mail_from.partition("@")
    forged = local[:-1] + ("0" if local[-1] != "0" else "1") + "@" + domain
    for recipient in (forged, mail_from.replace(BOUNCE_DOMAIN, "other.example"), "postmaster@" + BOUNCE_DOMAIN):
        out = r.run("bounce", "--recipient", recipient, input=dsn(recipient).decode())
        assert "unmatched" in out.stdout, out.stdout
    assert jobs_by_key(r)["F-HB:reminder-1:email"]["state"] == "sent"

    # The real one, with the local part lower-cased as some relays do.
    out = r.run("bounce", "--recipient", mail_from.lower(), input=dsn(mail_from).decode())
    assert f"failed job={job['id']}" in out.stdout and "undelivered (5.1.1)" in out.stdout, out.stdout
    jobs = jobs_by_key(r)
    assert jobs["F-HB:reminder-1:email"]["state"] == "undelivered"
    letter = jobs["F-HB:reminder-1:letter"]
    assert letter["state"] == "queued" and letter["template"] == "reminder-1"
    trace = events(r, job["id"])
    undelivered = [d for e, d in trace if e == "undelivered"][0]
    assert undelivered["status"] == "5.1.1" and "User unknown" in undelivered["diagnostic"]
    assert undelivered["remote_mta"] == "mx.martin.example.fr" and undelivered["recipient"] == "gone@martin.example.fr"
    rescued = [d for e, d in trace if e == "rescued"][0]
    assert rescued["to_channel"] == "letter" and rescued["new_job"] == letter["id"]
    (suppression,) = r.sql("SELECT channel, contact, reason FROM suppressions")
    assert suppression["channel"] == "email" and suppression["contact"] == "gone@martin.example.fr"
    assert suppression["reason"].startswith("bounce 5.1.1")

    # The same bounce again (an MTA retrying): no second letter, no second hop.
    before = len(r.jobs())
    r.run("bounce", "--recipient", mail_from, input=dsn(mail_from).decode())
    assert len(r.jobs()) == before
    assert [e for e, _ in events(r, job["id"])].count("rescued") == 1

    # The letter goes out; the report counts the e-mail undelivered and the invoice reached once.
    r.serve_until_idle()
    assert jobs_by_key(r)["F-HB:reminder-1:letter"]["state"] == "sent"
    (step,) = [json.loads(l) for l in r.run("report", "--json").stdout.splitlines() if '"reminder-1"' in l]
    assert step["sent"] == 2 and step["undelivered"] == 1 and step["invoices"] == 1, step
    assert step["complaints"] == 0
    # A complaint about that message (a feedback loop) is counted apart.
    r.run("bounce", "--recipient", mail_from, input=arf_complaint(mail_from, "gone@martin.example.fr"))
    (step,) = [json.loads(l) for l in r.run("report", "--json").stdout.splitlines() if '"reminder-1"' in l]
    assert step["complaints"] == 1, step
    tail = r.run("tail", "--case", "F-HB").stdout
    assert " undelivered " in tail and "status=5.1.1" in tail, tail


def test_delays_complaints_and_auto_replies_are_trace_events(tmp_path, smtp):
    r = bounce_installation(tmp_path, smtp_port=smtp.port)
    r.payer("FR", "Boulangerie Martin", "fr-FR", "compta@martin.example.fr")
    job_id = r.enqueue("FR", case="C-1")
    r.serve_until_idle()
    mail_from = smtp.messages[0][0]
    r.run("bounce", "--recipient", mail_from, input=dsn(mail_from, "compta@martin.example.fr", "4.2.2",
                                                          "delayed").decode())
    auto = (f"From: compta@martin.example.fr\r\nTo: {mail_from}\r\nSubject: Réponse automatique : Rappel\r\n"
            "Auto-Submitted: auto-replied\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "Je suis absente jusqu'au 4 janvier.\r\n")
    r.run("bounce", input=auto)  # the VERP address found in To:
    r.run("bounce", "--recipient", mail_from, input=arf_complaint(mail_from, "compta@martin.example.fr"))
    job = [j for j in r.jobs() if j["id"] == job_id][0]
    assert job["state"] == "sent"
    kinds = [e for e, _ in events(r, job_id)]
    assert kinds[-3:] == ["delayed", "auto_reply", "complaint"], kinds
    assert [d for e, d in events(r, job_id) if e == "delayed"][0]["status"] == "4.2.2"
    assert [d for e, d in events(r, job_id) if e == "complaint"][0]["feedback_type"] == "abuse"
    (suppression,) = r.sql("SELECT reason FROM suppressions")
    assert suppression["reason"] == "complaint abuse"
    listed = r.run("tail", "--json", "--case", "C-1").stdout
    assert '"auto_reply"' in listed and '"complaint"' in listed


def test_relance_bounce_defers_when_it_cannot_record(tmp_path, smtp):
    r = bounce_installation(tmp_path, smtp_port=smtp.port)
    r.payer("FR", "Boulangerie Martin", "fr-FR", "compta@martin.example.fr")
    r.enqueue("FR", case="C-1")
    r.serve_until_idle()
    mail_from = smtp.messages[0][0]
    # The database cannot be opened: EX_TEMPFAIL, so that the MTA keeps the message.
    broken = tmp_path / "broken.yaml"
    (tmp_path / "a-file").write_text("")
    broken.write_text(r.config.read_text().replace(
        f"state_directory: {r.state}", f"state_directory: {r.state}\ndatabase:\n  path: {tmp_path}/a-file/x.sqlite"))
    env = dict(os.environ, RELANCE_CONFIG=str(broken))
    result = subprocess.run([BIN, "bounce", "--recipient", mail_from], input=dsn(mail_from), capture_output=True,
                            env=env, timeout=60)
    assert result.returncode == 75, result
    assert b"deferred" in result.stderr
    # No bounce address configured: deferred too (the operator must fix the configuration).
    plain = Relance(tmp_path / "plain")
    plain.run("migrate")
    result = plain.run("bounce", input=dsn(mail_from).decode(), check=False)
    assert result.returncode == 75 and "email.bounce_address" in result.stderr


@needs_postfix
@pytest.mark.parametrize("intake", ["lmtp", "pipe"])
def test_a_real_postfix_bounce_ends_undelivered_and_the_step_goes_by_letter(open_dir, smtp, intake):
    tmp_path = open_dir
    smtp.refused_recipients["gone@martin.example.fr"] = (
        "550 5.1.1 <gone@martin.example.fr>: Recipient address rejected: User unknown in virtual mailbox table")
    smtpd_port, lmtp_port = free_port(), free_port()
    r = bounce_installation(tmp_path, smtp_port=smtpd_port, lmtp_port=lmtp_port if intake == "lmtp" else None)
    pipe = None
    if intake == "pipe":
        # `relance bounce` runs as nobody: it must read the configuration and write the database.
        pipe = [BIN, "bounce", "--config", str(r.config)]
    mta = postfix_instance.Postfix(tmp_path / "postfix", smtpd_port, smtp.port, BOUNCE_DOMAIN,
                                   lmtp_port=lmtp_port if intake == "lmtp" else None, pipe_argv=pipe).start()
    try:
        scenario_payer(r)
        if intake == "lmtp":
            daemon = subprocess.Popen([BIN, "serve"], env=dict(os.environ, RELANCE_CONFIG=str(r.config)),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        else:
            # Writable by `nobody` before the bounce can come back (Postfix may deliver it
            # while the sending daemon still runs); SQLite gives its -wal and -shm files
            # the database file's mode.
            subprocess.run(["chmod", "-R", "a+rwX", str(r.root)], check=True)
            r.serve_until_idle()
            subprocess.run(["chmod", "-R", "a+rwX", str(r.root)], check=True)
        flushed = [time.monotonic()]

        def bounced():
            # A delivery deferred meanwhile (exit 75, 451) is retried now, not after backoff.
            if time.monotonic() - flushed[0] > 3:
                mta.flush()
                flushed[0] = time.monotonic()
            return jobs_by_key(r)["F-HB:reminder-1:email"]["state"] == "undelivered"
        try:
            ok = wait_for(bounced, 90, interval=0.5)
            relance_lines = [l[-300:] for l in mta.maillog().splitlines() if "relance" in l or "lmtp" in l]
            assert ok, "\n".join([intake, str(jobs_by_key(r)["F-HB:reminder-1:email"]["state"])] + relance_lines[-12:])
        finally:
            if intake == "lmtp":
                daemon.terminate()
                daemon.wait(timeout=30)
        job = jobs_by_key(r)["F-HB:reminder-1:email"]
        undelivered = [d for e, d in events(r, job["id"]) if e == "undelivered"][0]
        assert undelivered["status"] == "5.1.1" and "User unknown" in undelivered["diagnostic"], undelivered
        assert r.sql("SELECT contact FROM suppressions") == [{"contact": "gone@martin.example.fr"}]
        r.serve_until_idle()
        letter = jobs_by_key(r)["F-HB:reminder-1:letter"]
        assert letter["state"] == "sent", letter
        assert "status=sent" in mta.maillog() or "relay=" in mta.maillog()
        if intake == "lmtp":
            assert "relay=127.0.0.1[127.0.0.1]:%d" % lmtp_port in mta.maillog(), mta.maillog()[-2000:]
    finally:
        mta.stop()


@needs_postfix
def test_a_postfix_deferral_is_a_delayed_event_and_nothing_else(open_dir, smtp):
    tmp_path = open_dir
    smtp.refused_recipients["full@martin.example.fr"] = "452 4.2.2 <full@martin.example.fr>: Mailbox full"
    smtpd_port, lmtp_port = free_port(), free_port()
    r = bounce_installation(tmp_path, smtp_port=smtpd_port, lmtp_port=lmtp_port)
    mta = postfix_instance.Postfix(tmp_path / "postfix", smtpd_port, smtp.port, BOUNCE_DOMAIN, lmtp_port=lmtp_port,
                                   delay_warning=True).start()
    try:
        r.payer("FR", "Boulangerie Martin", "fr-FR", "full@martin.example.fr")
        job_id = r.enqueue("FR", case="C-1")
        daemon = subprocess.Popen([BIN, "serve"], env=dict(os.environ, RELANCE_CONFIG=str(r.config)),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            ok = wait_for(lambda: "delayed" in [e for e, _ in events(r, job_id)], 90)
            assert ok, (events(r, job_id), mta.maillog()[-3000:])
        finally:
            daemon.terminate()
            daemon.wait(timeout=30)
        delayed = [d for e, d in events(r, job_id) if e == "delayed"][0]
        assert delayed["status"] == "4.2.2", delayed
        assert [j for j in r.jobs() if j["id"] == job_id][0]["state"] == "sent"
        assert r.sql("SELECT count(*) AS n FROM suppressions")[0]["n"] == 0
    finally:
        mta.stop()


def lmtp_dialogue(port, lines, timeout=30):
    """Sends `lines` at once (pipelined) and reads replies until `expect` replies came."""
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    reader = s.makefile("rb")
    greeting = reader.readline()
    s.sendall(b"".join(l if l.endswith(b"\r\n") else l + b"\r\n" for l in lines))
    return s, reader, greeting


def read_reply(reader):
    lines = []
    while True:
        line = reader.readline().decode()
        lines.append(line.rstrip("\r\n"))
        if len(line) < 4 or line[3] != "-":
            return lines


def test_the_lmtp_listener_speaks_lmtp(tmp_path, smtp):
    lmtp_port = free_port()
    r = bounce_installation(tmp_path, smtp_port=smtp.port, lmtp_port=lmtp_port)
    r.payer("FR", "Boulangerie Martin", "fr-FR", "compta@martin.example.fr")
    job_id = r.enqueue("FR", case="C-1")
    r.serve_until_idle()
    mail_from = smtp.messages[0][0]
    daemon = subprocess.Popen([BIN, "serve"], env=dict(os.environ, RELANCE_CONFIG=str(r.config)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        import socket
        assert wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", lmtp_port)) == 0, 30)
        # Out of order, unknown, then a pipelined transaction with two recipients and a
        # dot-stuffed line; each recipient gets its own reply after the final dot.
        body = dsn(mail_from, "compta@martin.example.fr", "4.4.1", "delayed").replace(b"\r\n.", b"\r\n..")
        s, reader, greeting = lmtp_dialogue(lmtp_port, [
            b"MAIL FROM:<>", b"HELO x", b"LHLO relay.test", b"MAIL FROM:<>",
            b"RCPT TO:<" + mail_from.encode() + b">", b"RCPT TO:<postmaster@" + BOUNCE_DOMAIN.encode() + b">",
            b"RCPT TO:bad", b"DATA"])
        assert greeting.startswith(b"220 ")
        assert read_reply(reader)[0].startswith("503")
        assert read_reply(reader)[0].startswith("500")
        assert read_reply(reader)[-1].startswith("250 ")
        for _ in range(3):
            assert read_reply(reader)[0].startswith("250")
        assert read_reply(reader)[0].startswith("501")
        assert read_reply(reader)[0].startswith("354")
        s.sendall(body + b"\r\n.\r\n.. a line after the message is a command\r\nRSET\r\nQUIT\r\n")
        # The second recipient names no job (the headers are not read again for it).
        assert read_reply(reader)[0] == f"250 2.0.0 delayed job {job_id}"
        assert read_reply(reader)[0] == "250 2.0.0 unmatched"
        assert read_reply(reader)[0].startswith("500")
        assert read_reply(reader)[0].startswith("250")
        assert read_reply(reader)[0].startswith("221")
        s.close()
        assert [e for e, _ in events(r, job_id)].count("delayed") == 1
        # A long line in command mode closes the connection.
        s, reader, _ = lmtp_dialogue(lmtp_port, [b"LHLO " + b"x" * 10000])
        assert read_reply(reader)[0].startswith("500")
        s.close()
    finally:
        daemon.terminate()
        assert daemon.wait(timeout=30) == 0, daemon.stderr.read()


def multi_dsn(verp, blocks):
    """A DSN with one block per (recipient, action, status)."""
    per_recipient = "".join(
        f"Final-Recipient: rfc822; {r}\r\nAction: {a}\r\nStatus: {s}\r\n"
        f"Diagnostic-Code: smtp; {s[0]}50 {s} {r}: {'ok' if a == 'delivered' else 'refused'}\r\n\r\n"
        for r, a, s in blocks)
    return (
        f"From: MAILER-DAEMON@relay.example\r\nTo: {verp}\r\nSubject: Delivery Status Notification\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nReport.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example\r\n\r\n"
        + per_recipient + "--B--\r\n")


def test_what_a_bounce_blames_decides_what_it_does(tmp_path, smtp):
    """Review findings: only the payer's own recipient counts; only a bad address
    (5.1.x, as for a synchronous refusal) is suppressed and moves the step; a second
    delivery of the same bounce says it changed nothing."""
    r = bounce_installation(tmp_path, smtp_port=smtp.port)
    scenario_payer(r)
    r.serve_until_idle()
    job = jobs_by_key(r)["F-HB:reminder-1:email"]
    mail_from = smtp.messages[0][0]
    # Another recipient failed; the payer's was delivered: nothing happens to the job.
    out = r.run("bounce", "--recipient", mail_from, input=multi_dsn(mail_from, [
        ("other@martin.example.fr", "failed", "5.1.1"), ("gone@martin.example.fr", "delivered", "2.0.0")])).stdout
    assert "was delivered; nothing recorded" in out, out
    assert jobs_by_key(r)["F-HB:reminder-1:email"]["state"] == "sent"
    # A blocklist (5.7.1): undelivered, but the address is not blamed: no suppression, no letter.
    out = r.run("bounce", "--recipient", mail_from, input=multi_dsn(mail_from, [
        ("gone@martin.example.fr", "failed", "5.7.1")])).stdout
    assert "undelivered (5.7.1)" in out and "not suppressed, no fallback" in out, out
    jobs = jobs_by_key(r)
    assert jobs["F-HB:reminder-1:email"]["state"] == "undelivered"
    assert "F-HB:reminder-1:letter" not in jobs
    assert r.sql("SELECT count(*) AS n FROM suppressions")[0]["n"] == 0
    # The same again: nothing changed, and it says so.
    out = r.run("bounce", "--recipient", mail_from, input=multi_dsn(mail_from, [
        ("gone@martin.example.fr", "failed", "5.7.1")])).stdout
    assert "was already undelivered" in out, out


def test_relance_bounce_never_creates_a_database(tmp_path, smtp):
    r = bounce_installation(tmp_path, smtp_port=smtp.port)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # state_directory relative, run from another working directory (a pipe, a .forward).
    relative = tmp_path / "relative.yaml"
    relative.write_text(r.config.read_text().replace(f"state_directory: {r.state}", "state_directory: var"))
    result = subprocess.run([BIN, "bounce", "--config", str(relative), "--recipient", "x@" + BOUNCE_DOMAIN],
                            input=dsn("x@" + BOUNCE_DOMAIN), capture_output=True, cwd=elsewhere, timeout=60)
    assert result.returncode == 75 and b"does not exist" in result.stderr, result
    assert not (elsewhere / "var").exists()


def test_until_idle_runs_beside_a_daemon_with_the_lmtp_listener(tmp_path, smtp):
    lmtp_port = free_port()
    r = bounce_installation(tmp_path, smtp_port=smtp.port, lmtp_port=lmtp_port)
    daemon = subprocess.Popen([BIN, "serve"], env=dict(os.environ, RELANCE_CONFIG=str(r.config)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        import socket
        assert wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", lmtp_port)) == 0, 30)
        r.serve_until_idle()
        # A second daemon on the same port: the error names the key.
        other = subprocess.run([BIN, "serve"], env=dict(os.environ, RELANCE_CONFIG=str(r.config)),
                               capture_output=True, text=True, timeout=60)
        assert other.returncode != 0 and "email.bounces.lmtp_listen" in other.stderr, other.stderr
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)


def test_the_lmtp_listener_bounds_connections_lines_and_recipients(tmp_path, smtp):
    import socket
    lmtp_port = free_port()
    r = bounce_installation(tmp_path, smtp_port=smtp.port, lmtp_port=lmtp_port)
    r.payer("FR", "Boulangerie Martin", "fr-FR", "compta@martin.example.fr")
    first, second = r.enqueue("FR", case="C-1"), r.enqueue("FR", case="C-2")
    r.serve_until_idle()
    senders = sorted(m[0] for m in smtp.messages)
    daemon = subprocess.Popen([BIN, "serve"], env=dict(os.environ, RELANCE_CONFIG=str(r.config)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    held = []
    try:
        assert wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", lmtp_port)) == 0, 30)
        # At most 32 connections at once; the next is told to come back.
        for _ in range(32):
            s = socket.create_connection(("127.0.0.1", lmtp_port), timeout=10)
            assert s.makefile("rb").readline().startswith(b"220 ")
            held.append(s)
        extra = socket.create_connection(("127.0.0.1", lmtp_port), timeout=10)
        assert extra.makefile("rb").readline().startswith(b"421 ")
        extra.close()
        for s in held:
            s.close()
        held.clear()
        time.sleep(0.5)
        # A command line over 4 KiB in one write is refused like one in pieces.
        s, reader, _ = lmtp_dialogue(lmtp_port, [b"NOOP " + b"x" * 6000])
        assert read_reply(reader)[0].startswith("500")
        s.close()
        # One 4 MiB line in DATA is read in linear time; two bounce addresses in one
        # transaction are two jobs, each with its own reply.
        body = multi_dsn(senders[0], [("compta@martin.example.fr", "delayed", "4.2.2")]).encode()
        body = body.replace(b"Report.", b"R" * (4 << 20))
        started = time.monotonic()
        s, reader, _ = lmtp_dialogue(lmtp_port, [b"LHLO t", b"MAIL FROM:<>", b"RCPT TO:<" + senders[0].encode() + b">",
                                                 b"RCPT TO:<" + senders[1].encode() + b">", b"DATA"])
        for _ in range(5):
            read_reply(reader)
        s.sendall(body + b"\r\n.\r\n")
        replies = [read_reply(reader)[0], read_reply(reader)[0]]
        assert time.monotonic() - started < 20
        assert sorted(replies) == sorted([f"250 2.0.0 delayed job {first}", f"250 2.0.0 delayed job {second}"]), replies
        s.close()
    finally:
        for s in held:
            s.close()
        daemon.terminate()
        assert daemon.wait(timeout=30) == 0
