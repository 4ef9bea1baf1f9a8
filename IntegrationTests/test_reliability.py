"""Reliability semantics: crash safety, cancellation, idempotency, bad input."""

import json
import signal
import time

from conftest import REPO, kill, wait_for


def test_sigkill_mid_run_loses_nothing_and_duplicates_only_uncertain_jobs(relance_smtp, smtp):
    r = relance_smtp
    r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
    sample = json.loads((REPO / "Templates/samples/reminder-1.json").read_text())
    lines = "\n".join(
        json.dumps({"payer_ref": "P", "template": "reminder-1", "channel": "email", "case_ref": f"C-{i}",
                    "idempotency_key": f"k-{i}", "data": sample})
        for i in range(1000)
    )
    out = r.run("enqueue", "--stdin", input=lines).stdout.split("\n")
    assert len([l for l in out if l.endswith("queued")]) == 1000

    daemon = r.start()
    assert wait_for(lambda: smtp.count() >= 150, timeout=120), "daemon sent nothing"
    kill(daemon, signal.SIGKILL)
    sent_before_restart = smtp.count()
    assert sent_before_restart < 1000, "the kill came too late to test anything"

    # Restart: expired leases are rescued (requeued, or uncertain if dispatch had started).
    r.serve_until_idle(timeout=300)

    jobs = r.jobs()
    states = {}
    for job in jobs:
        states[job["state"]] = states.get(job["state"], 0) + 1
    assert set(states) <= {"sent", "uncertain"}, states
    received = {}
    for message in smtp.parsed():
        received[int(message["X-Relance-Job"])] = received.get(int(message["X-Relance-Job"]), 0) + 1
    for job in jobs:
        if job["state"] == "sent":
            assert received.get(job["id"]) == 1, (job["id"], received.get(job["id"]))
        else:
            assert received.get(job["id"], 0) <= 2
            assert "may have been sent" in job["last_error"]
    duplicates = [j for j, n in received.items() if n > 1]
    uncertain = {j["id"] for j in jobs if j["state"] == "uncertain"}
    assert set(duplicates) <= uncertain


def test_cancelled_case_is_not_sent(relance_smtp, smtp):
    r = relance_smtp
    r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
    paid = r.enqueue("P", case="F-PAID")
    other = r.enqueue("P", case="F-OPEN")
    out = r.run("cancel", "--case", "F-PAID", "--reason", "paid").stdout
    assert "1 job(s)" in out
    r.serve_until_idle()
    jobs = {j["id"]: j for j in r.jobs()}
    assert jobs[paid]["state"] == "cancelled" and jobs[other]["state"] == "sent"
    assert [m["X-Relance-Case"] for m in smtp.parsed()] == ["F-OPEN"]
    assert [e["event"] for e in r.trace(paid)] == ["enqueued", "cancelled"]


def test_same_idempotency_key_twice_is_one_job(relance_smtp):
    r = relance_smtp
    r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
    sample = (REPO / "Templates" / "samples" / "thanks.json").read_text()
    first = r.run("enqueue", "--payer", "P", "--template", "thanks", "--idempotency-key", "inv-1:thanks",
                  "--data", sample).stdout
    second = r.run("enqueue", "--payer", "P", "--template", "thanks", "--idempotency-key", "inv-1:thanks",
                   "--data", sample).stdout
    assert first.split()[0] == second.split()[0]
    assert "existing job" in second
    assert len(r.jobs()) == 1


def test_bad_input_is_refused_and_nothing_is_inserted(relance_smtp):
    r = relance_smtp
    r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
    cases = [
        (["enqueue", "--payer", "P", "--template", "reminder-9"], "unknown template 'reminder-9'"),
        (["enqueue", "--payer", "P", "--template", "reminder-1", "--channel", "fax"], "unknown channel 'fax'"),
        (["enqueue", "--payer", "P", "--template", "reminder-1", "--data", "{\"invoices\": ["], "malformed JSON"),
        (["enqueue", "--payer", "NOPE", "--template", "reminder-1"], "payer 'NOPE' does not exist"),
        # No data: a reminder with no invoice and a blank total would go out.
        (["enqueue", "--payer", "P", "--template", "reminder-1"], "/data/invoices: is required for 'reminder-1'"),
        (["enqueue", "--payer", "P", "--template", "reminder-1", "--data",
          '{"invoices": [], "total_due": {"amount": "0.00", "currency": "EUR"}}'], "must list at least one invoice"),
        (["enqueue", "--payer", "P", "--template", "reminder-1", "--run-at", "1970-01-01T00:00:00Z", "--data",
          (REPO / "Templates/samples/reminder-1.json").read_text()], "the job would be dead at once"),
        (["enqueue", "--payer", "P", "--template", "reminder-1", "--data",
          '{"total_due": {"amount": "12,50", "currency": "EUR"}}'], "not a decimal amount"),
        (["payer", "upsert", "--ref", "Q", "--name", "Q", "--email", "not-an-address"], "invalid e-mail address"),
        (["payer", "upsert", "--ref", "Q", "--name", "Q", "--email", "q@example.fr", "--timezone", "Mars/Olympus"],
         "not an IANA time zone"),
    ]
    for args, message in cases:
        result = r.run(*args, check=False)
        assert result.returncode != 0, args
        assert message in result.stderr, (args, result.stderr)
    # Bulk: one bad line (malformed JSON, invalid e-mail in an inline payer) rejects the whole batch.
    good = json.dumps({"payer_ref": "P", "template": "thanks", "channel": "email",
                       "data": json.loads((REPO / "Templates/samples/thanks.json").read_text())})
    bad_email = json.dumps({"payer": {"ref": "Z", "name": "Z", "email": "z@@example"}, "template": "thanks",
                            "channel": "email"})
    for batch, message in ((good + "\n{not json\n", "line 2"), (good + "\n" + bad_email, "invalid e-mail address")):
        result = r.run("enqueue", "--stdin", input=batch, check=False)
        assert result.returncode != 0 and message in result.stderr, result.stderr
    assert r.jobs() == []
    assert r.sql("SELECT ref FROM payers") == [{"ref": "P"}]


def test_unusable_rows_inserted_by_sql_fail_clearly_and_the_daemon_keeps_running(relance_smtp, smtp):
    r = relance_smtp
    r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
    r.sql("INSERT INTO payers(ref, name, channels) VALUES ('BADCH', 'Bad channels', 'email')")
    r.sql("INSERT INTO payers(ref, name, email) VALUES ('BADMAIL', 'Bad mail', 'nobody(at)example')")
    rows = {
        "bad json": ("P", "email", "reminder-1", "{not json", "now", "data is not valid JSON"),
        "unknown template": ("P", "email", "reminder-9", "{}", "now", "unknown template 'reminder-9'"),
        "unknown channel": ("P", "fax", "reminder-1", "{}", "now", "unknown channel 'fax'"),
        "unknown payer": ("GHOST", "email", "reminder-1", "{}", "now", "payer GHOST does not exist"),
        "bad payer row": ("BADCH", "email", "reminder-1", "{}", "now", "column channels is not a JSON array"),
        "bad address": ("BADMAIL", "email", "reminder-1", "{}", "now", "invalid e-mail address"),
        "bad date in data": ("P", "email", "reminder-1", '{"invoices":[{"due_date":"2026-02-30"}]}', "now",
                             "is not a valid calendar date"),
        "bad run_at": ("P", "email", "reminder-1", "{}", "next tuesday", "is not a date"),
        # No invoice, no total: refused, never a reminder about nothing.
        "empty data": ("P", "email", "reminder-1", "{}", "now", "/data/invoices: is required for 'reminder-1'"),
        "good": ("P", "email", "reminder-1", (REPO / "Templates/samples/reminder-1.json").read_text(), "now", None),
    }
    ids = {}
    for name, (payer, channel, template, data, run_at, _) in rows.items():
        r.sql(
            "INSERT INTO jobs(payer_ref, channel, template, data, run_at) VALUES (?, ?, ?, ?, ?)",
            (payer, channel, template, data, run_at),
        )
        ids[name] = r.sql("SELECT max(id) AS id FROM jobs")[0]["id"]
    result = r.serve_until_idle()
    assert result.returncode == 0
    jobs = {j["id"]: j for j in r.jobs()}
    for name, (*_, expected) in rows.items():
        job = jobs[ids[name]]
        if expected is None:
            assert job["state"] == "sent"
        else:
            assert job["state"] == "failed", (name, job)
            assert expected in job["last_error"], (name, job["last_error"])
            assert [e["event"] for e in r.trace(job["id"])][0] == "enqueued"
    assert smtp.count() == 1


def test_sigterm_drains_and_exits_cleanly(relance_smtp, smtp):
    r = relance_smtp
    r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
    thanks = json.loads((REPO / "Templates/samples/thanks.json").read_text())
    lines = "\n".join(json.dumps({"payer_ref": "P", "template": "thanks", "channel": "email", "data": thanks})
                      for _ in range(300))
    r.run("enqueue", "--stdin", input=lines)
    daemon = r.start()
    assert wait_for(lambda: smtp.count() >= 20, timeout=60)
    assert kill(daemon, signal.SIGTERM) == 0
    states = {j["state"] for j in r.jobs()}
    assert states <= {"sent", "queued"}, states  # nothing left running, nothing lost
    sent = [j for j in r.jobs() if j["state"] == "sent"]
    assert len(sent) == smtp.count()


def test_operator_settles_an_uncertain_job(relance_smtp, smtp):
    r = relance_smtp
    r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
    a, b = r.enqueue("P", case="A"), r.enqueue("P", case="B")
    # As the sweeper leaves a job whose worker died during dispatch:
    r.sql("UPDATE jobs SET state = 'uncertain', attempt = 1, dispatch_started_at = '2026-01-01T00:00:00.000Z' WHERE id IN (?, ?)", (a, b))
    refused = r.run("jobs", "resolve", str(a), "resend", check=False)
    assert refused.returncode != 0 and "requeue, mark-sent, cancel" in refused.stderr
    r.run("jobs", "resolve", str(a), "requeue", "--note", "checked the mailbox: not received")
    r.run("jobs", "resolve", str(b), "mark-sent", "--note", "customer confirmed receipt")
    r.serve_until_idle()
    jobs = {j["id"]: j for j in r.jobs()}
    assert jobs[a]["state"] == "sent" and jobs[a]["attempt"] == 2
    assert jobs[b]["state"] == "sent" and smtp.count() == 1
    rescued = [e for e in r.trace(a) if e["event"] == "rescued"][0]
    assert "not received" in rescued["detail"] and '"by":"operator"' in rescued["detail"]
    busy = r.enqueue("P", case="C")
    refused = r.run("jobs", "resolve", str(busy), "cancel", check=False)
    assert refused.returncode != 0 and "only a finished job" in refused.stderr


def test_api_port_in_use_fails_fast_with_a_clear_error(tmp_path):
    import socket as socketlib
    from conftest import Relance

    with socketlib.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = Relance(tmp_path, extra=f"api:\n  listen: 127.0.0.1:{port}\n")
        r.run("migrate")
        started = time.monotonic()
        result = r.run("serve", check=False, timeout=60)
        assert result.returncode != 0
        assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
        # Regression: the cancelled dispatcher used to spin instead of exiting.
        assert time.monotonic() - started < 30


def test_an_invoice_ref_that_names_no_invoice_fails_instead_of_sending_blanks(relance_smtp, smtp):
    r = relance_smtp
    r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
    # Accepted at enqueue on the strength of invoice_ref (the invoice's data comes at dispatch) …
    job = r.enqueue("P", data=json.dumps({"invoice_ref": "F-NOPE"}))
    r.serve_until_idle()
    # … but there is no such invoice and no data of its own: failed, nothing sent.
    row = r.jobs()[0]
    assert row["id"] == job and row["state"] == "failed", row
    assert "invoice_ref names no registered invoice" in row["last_error"] and "/data/invoices" in row["last_error"]
    assert smtp.parsed() == []


def test_sql_rows_of_the_wrong_type_never_crash_a_tool_and_never_block_the_queue(relance_smtp, smtp):
    r = relance_smtp
    r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
    r.payer("VICTIM", "Victime SA", "fr-FR", "victim@example.fr")
    sample = (REPO / "Templates/samples/reminder-1.json").read_text()
    r.sql("INSERT INTO jobs(payer_ref, case_ref, channel, template, data, priority) "
          "VALUES ('P', 'C-BAD', 'email', 'reminder-1', ?, 'high')", (sample,))
    r.sql("INSERT INTO jobs(payer_ref, case_ref, channel, template, data, priority) "
          "VALUES ('P', 'C-BAD', 'email', 'reminder-1', ?, 1.5)", (sample,))
    r.sql("INSERT INTO jobs(payer_ref, case_ref, channel, template, data) "
          "VALUES ('VICTIM' || char(0) || 'attacker', 'C-NUL', 'email', 'reminder-1', ?)", (sample,))
    r.sql("INSERT INTO jobs(payer_ref, case_ref, channel, template, data) "
          "VALUES ('P', 'C-EMPTY', 'email', 'reminder-1', '{}')")
    good = r.enqueue("P", case="C-GOOD", extra=("--priority", "5"))
    # Every tool that reads jobs works on these rows.
    for args in (["jobs", "list"], ["jobs", "list", "--case", "C-BAD"], ["jobs", "show", "1"], ["jobs", "show", "2"],
                 ["jobs", "show", "3", "--json"], ["tail"]):
        r.run(*args)
    r.serve_until_idle(timeout=60)
    jobs = {j["id"]: j for j in r.jobs()}
    assert jobs[good]["state"] == "sent"
    assert jobs[1]["state"] == "failed" and "column priority: text 'high' is not an integer" in jobs[1]["last_error"]
    assert jobs[2]["state"] == "failed" and "column priority: real 1.5 is not an integer" in jobs[2]["last_error"]
    assert jobs[3]["state"] == "failed" and "column payer_ref: contains a NUL byte" in jobs[3]["last_error"]
    assert jobs[4]["state"] == "failed" and "/data/invoices: is required" in jobs[4]["last_error"], jobs[4]
    received = [m["To"] for m in smtp.parsed()]
    assert len(received) == 1 and "dupont@example.fr" in received[0], received
    r.run("cancel", "--case", "C-BAD")
