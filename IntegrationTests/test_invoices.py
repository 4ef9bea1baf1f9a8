"""Invoices looked after by a scenario (first part of the dunning scenarios): opening
schedules the steps once, a partial payment shows in the next message, a full payment
cancels what is pending and thanks the payer exactly once."""

import email
import email.policy

from conftest import Relance


def setup(tmp_path):
    r = Relance(tmp_path / "r")
    r.run("migrate")
    r.run("payer", "upsert", "--ref", "ACME", "--name", "Boulangerie Martin", "--email", "compta@martin.example.fr",
          "--phone", "06 12 34 56 78", "--address-line", "12 rue des Tanneurs", "--address-line", "69002 Lyon",
          "--channels", "email,sms,letter")
    return r


def open_invoice(r, due="2027-03-20"):
    return r.run("invoice", "open", "--payer", "ACME", "--number", "F-2027-0001", "--amount", "1250.00",
                 "--issued", "2027-02-20", "--due", due).stdout.splitlines()


def body(path):
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return message.get_body(preferencelist=("plain",)).get_content()


def test_opening_schedules_the_scenario_once(tmp_path):
    r = setup(tmp_path)
    first = open_invoice(r)
    assert first[0] == "invoice F-2027-0001 registered (scenario standard, balance 1250.00 EUR)"
    assert [" ".join(l.split()[2:]) for l in first[1:]] == [
        "2027-03-15 pre-due pre-due email", "2027-03-23 reminder-1 reminder-1 email",
        "2027-03-30 reminder-2 reminder-2 email", "2027-03-30 reminder-2 reminder-2 sms",
        "2027-04-09 formal-notice formal-notice letter", "2027-04-09 formal-notice formal-notice email",
    ]
    jobs = r.jobs()
    assert [j["idempotency_key"] for j in jobs][:2] == ["F-2027-0001:pre-due:email", "F-2027-0001:reminder-1:email"]
    # 09:00 in Paris (winter: 08:00 UTC; after the DST change on 2027-03-28: 07:00 UTC).
    assert jobs[0]["run_at"] == "2027-03-15T08:00:00.000Z" and jobs[2]["run_at"] == "2027-03-30T07:00:00.000Z"
    again = open_invoice(r)
    assert again[0].startswith("invoice F-2027-0001 already registered")
    assert all(" exists " in l for l in again[1:]) and len(r.jobs()) == 6


def test_a_partial_payment_shows_in_the_next_message_and_a_full_one_cancels_and_thanks_once(tmp_path):
    r = setup(tmp_path)
    open_invoice(r)
    r.run("invoice", "pay", "--number", "F-2027-0001", "--amount", "250.00")
    # The reminder-1 step falls due now.
    r.sql("UPDATE jobs SET run_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), due_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') "
          "WHERE idempotency_key = 'F-2027-0001:reminder-1:email'")
    r.serve_until_idle()
    reminder = [j for j in r.jobs() if j["template"] == "reminder-1"][0]
    assert reminder["state"] == "sent"
    text = body(r.state / "outbox" / f"job-{reminder['id']}-1.eml")
    assert "reste dû : 1\u202f000,00\u00a0€" in text.replace("\u00a0:", " :") and "1\u202f250,00" not in text, text
    paid = r.run("invoice", "pay", "--number", "F-2027-0001", "--amount", "1000.00").stdout
    assert "balance 0.00 EUR, paid" in paid and "cancelled 5 pending job(s)" in paid, paid
    refused = r.run("invoice", "pay", "--number", "F-2027-0001", "--amount", "1.00", check=False)
    assert refused.returncode != 0 and "already paid" in refused.stderr
    r.serve_until_idle()
    states = {j["template"] + "/" + j["channel"]: j["state"] for j in r.jobs()}
    assert states["thanks/email"] == "sent" and list(states.values()).count("sent") == 2, states
    assert all(s in ("sent", "cancelled") for s in states.values()), states
    thanks = [j for j in r.jobs() if j["template"] == "thanks"]
    assert len(thanks) == 1 and thanks[0]["idempotency_key"] == "F-2027-0001:thanks:email"
    cancelled = [e for e in r.sql("SELECT detail FROM delivery_events WHERE event = 'cancelled'")]
    assert len(cancelled) == 5 and all('"reason":"paid"' in e["detail"] for e in cancelled)


def test_a_hold_defers_the_pending_steps_past_its_end_and_lifting_gives_them_back(tmp_path):
    r = setup(tmp_path)
    open_invoice(r)  # due 2027-03-20: D+3 = 03-23, D+10 = 03-30, D+20 = 04-09
    out = r.run("invoice", "hold", "--number", "F-2027-0001", "--until", "2027-04-04", "--reason", "dispute").stdout
    assert "4 job(s) deferred" in out, out  # pre-due, reminder-1, reminder-2 by e-mail and SMS
    jobs = {j["idempotency_key"].split(":", 1)[1]: j for j in r.jobs()}
    # Held through 04-04: they go out the next morning, 09:00 Paris (07:00 UTC), not before.
    for key in ("pre-due:email", "reminder-1:email", "reminder-2:email", "reminder-2:sms"):
        assert jobs[key]["run_at"] == "2027-04-05T07:00:00.000Z", (key, jobs[key])
    assert jobs["formal-notice:email"]["run_at"] == "2027-04-09T07:00:00.000Z"
    deferred = r.sql("SELECT detail FROM delivery_events WHERE event = 'deferred'")
    assert len(deferred) == 4 and all('"reason":"hold"' in d["detail"] and "dispute" in d["detail"] for d in deferred)
    r.run("invoice", "hold", "--number", "F-2027-0001", "--lift")
    jobs = {j["idempotency_key"].split(":", 1)[1]: j for j in r.jobs()}
    assert jobs["reminder-1:email"]["run_at"] == "2027-03-23T08:00:00.000Z"
    assert jobs["reminder-2:sms"]["run_at"] == "2027-03-30T07:00:00.000Z"


def test_three_invoices_due_the_same_day_make_one_reminder_listing_all_three(tmp_path):
    r = setup(tmp_path)
    for number, amount in (("F-A", "100.00"), ("F-B", "200.00"), ("F-C", "300.00")):
        r.run("invoice", "open", "--payer", "ACME", "--number", number, "--amount", amount, "--issued", "2027-02-20",
              "--due", "2027-03-20")
    r.sql("UPDATE jobs SET run_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), due_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') "
          "WHERE idempotency_key LIKE '%:reminder-1:email'")
    r.serve_until_idle()
    reminders = [j for j in r.jobs() if j["template"] == "reminder-1"]
    sent = [j for j in reminders if j["state"] == "sent"]
    merged = [j for j in reminders if j["state"] == "cancelled"]
    assert len(sent) == 1 and len(merged) == 2, [(j["case_ref"], j["state"]) for j in reminders]
    text = body(r.state / "outbox" / f"job-{sent[0]['id']}-1.eml")
    assert all(n in text for n in ("F-A", "F-B", "F-C")) and "600,00" in text, text
    rendered = [e for e in r.trace(sent[0]["id"]) if e["event"] == "rendered"][0]["detail"]
    assert '"cases":["F-A","F-B","F-C"]' in rendered.replace(" ", ""), rendered
    for job in merged:
        cancelled = [e for e in r.trace(job["id"]) if e["event"] == "cancelled"][0]["detail"]
        assert '"reason":"merged"' in cancelled and f'"into_job":{sent[0]["id"]}' in cancelled


def test_a_hard_bounce_moves_the_step_to_a_letter_and_suppresses_the_address(tmp_path, smtp):
    import json
    r = Relance(tmp_path / "r", smtp_port=smtp.port)
    r.run("migrate")
    r.run("payer", "upsert", "--ref", "ACME", "--name", "Boulangerie Martin", "--email", "gone@martin.example.fr",
          "--address-line", "12 rue des Tanneurs", "--address-line", "69002 Lyon", "--channels", "email,letter")
    r.run("invoice", "open", "--payer", "ACME", "--number", "F-HB", "--amount", "400.00", "--issued", "2027-02-20",
          "--due", "2027-03-20")
    r.sql("UPDATE jobs SET run_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), due_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') "
          "WHERE idempotency_key = 'F-HB:reminder-1:email'")
    smtp.replies = ["550 5.1.1 <gone@martin.example.fr>: Recipient address rejected: User unknown"]
    r.serve_until_idle()
    jobs = {j["idempotency_key"]: j for j in r.jobs()}
    failed = jobs["F-HB:reminder-1:email"]
    assert failed["state"] == "failed" and "5.1.1" in failed["last_error"]
    letter = jobs["F-HB:reminder-1:letter"]
    assert letter["state"] == "sent" and letter["template"] == "reminder-1", letter
    assert (r.state / "spool" / f"job-{letter['id']}-1.pdf").exists()
    hop = [e for e in r.trace(failed["id"]) if e["event"] == "rescued"][0]
    detail = json.loads(hop["detail"])
    assert detail["reason"] == "channel fallback" and detail["to_channel"] == "letter"
    assert detail["new_job"] == letter["id"] and detail["suppressed"] == "email"
    assert r.sql("SELECT channel, contact FROM suppressions") == [{"channel": "email", "contact": "gone@martin.example.fr"}]
    # While suppressed, a new invoice schedules no e-mail; a new address lifts it.
    out = r.run("invoice", "open", "--payer", "ACME", "--number", "F-HB2", "--amount", "50.00", "--issued",
                "2027-02-20", "--due", "2027-03-20").stdout
    assert " email" not in out.split("skipped")[0].split("\n", 1)[1], out
    r.run("payer", "upsert", "--ref", "ACME", "--name", "Boulangerie Martin", "--email", "compta@martin.example.fr",
          "--address-line", "12 rue des Tanneurs", "--address-line", "69002 Lyon", "--channels", "email,letter")
    assert r.sql("SELECT count(*) AS n FROM suppressions")[0]["n"] == 0


def test_report_shows_which_steps_bring_cash_in(tmp_path):
    import json
    r = setup(tmp_path)
    for number, amount in (("F-R1", "100.00"), ("F-R2", "300.00")):
        r.run("invoice", "open", "--payer", "ACME", "--number", number, "--amount", amount, "--issued", "2027-02-01",
              "--due", "2027-03-01")
    # reminder-1 of both goes out now; F-R1 is then paid in full, F-R2 in part.
    r.sql("UPDATE jobs SET run_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), due_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') "
          "WHERE idempotency_key IN ('F-R1:reminder-1:email', 'F-R2:reminder-1:email')")
    r.serve_until_idle()
    assert {j["state"] for j in r.jobs() if j["template"] == "reminder-1"} == {"sent", "cancelled"}  # merged: one e-mail
    import datetime
    today = datetime.date.today()
    r.run("invoice", "pay", "--number", "F-R1", "--amount", "100.00", "--date", (today + datetime.timedelta(days=2)).isoformat())
    r.run("invoice", "pay", "--number", "F-R2", "--amount", "50.00", "--date", (today + datetime.timedelta(days=10)).isoformat())
    lines = [json.loads(l) for l in r.run("report", "--json").stdout.splitlines()]
    (reminder,) = [l for l in lines if l["step"] == "reminder-1"]
    # One e-mail listed both invoices: one message sent, two invoices reached; F-R1 paid in
    # full 2 days after it, 100.00 + 50.00 paid after it.
    assert reminder == {"scenario": "standard", "step": "reminder-1", "sent": 1, "delivered": 0, "undelivered": 0,
                        "complaints": 0, "invoices": 2,
                        "paid_within_7_days": 1, "paid_within_30_days": 1,
                        "recovered": [{"amount": "150.00", "currency": "EUR"}]}, reminder
    table = r.run("report").stdout.splitlines()
    assert table[0].split() == ["scenario", "step", "sent", "delivered", "undelivered", "complaints", "invoices", "paid<=7d", "paid<=30d",
                                "recovered", "after", "the", "step"], table
    assert [l.split() for l in table if " reminder-1 " in l] == [
        ["standard", "reminder-1", "1", "0", "0", "0", "2", "1", "1", "150.00", "EUR"]], table
    bad = r.run("report", "--scenario", "nope", check=False)
    assert bad.returncode != 0 and "no scenario 'nope'" in bad.stderr and "standard" in bad.stderr
    bad = r.run("report", "--since", "yesterday", check=False)
    assert bad.returncode != 0 and "since: 'yesterday' is not YYYY-MM-DD" in bad.stderr


def test_invoices_take_the_money_and_date_rules_of_job_data(tmp_path):
    r = setup(tmp_path)

    def opening(*args):
        base = {"--payer": "ACME", "--number": "F-X", "--amount": "1250.00", "--issued": "2027-02-20",
                "--due": "2027-03-20"}
        base.update(dict(zip(args[::2], args[1::2])))
        return r.run("invoice", "open", *[x for kv in base.items() for x in kv], check=False)

    for args, words in [
        (("--currency", "EQU"), "'EQU' is not an active ISO 4217 currency code"),
        (("--amount", "12.505"), "has more decimals than EUR takes (2)"),
        (("--issued", "2027-04-01"), "due_date: '2027-03-20' is before the issue date '2027-04-01'"),
        (("--issued", "0407-05-21"), "outside the years 1990 to 2999"),
    ]:
        result = opening(*args)
        assert result.returncode == 1 and words in result.stderr, (args, result.stderr)
    assert r.jobs() == []
    assert opening().returncode == 0
    over = r.run("invoice", "pay", "--number", "F-X", "--amount", "9000.00", check=False)
    assert over.returncode == 1 and "more than the balance of 1250.00 EUR" in over.stderr, over.stderr
    odd = r.run("invoice", "pay", "--number", "F-X", "--amount", "10.00", "--date", "0407-05-21", check=False)
    assert odd.returncode == 1 and "outside the years 1990 to 2999" in odd.stderr, odd.stderr
