"""Postal letters: PDF checked with poppler (pdftotext -bbox, pdffonts, pdfinfo) and
qpdf; spool and HTTP upload transports; NF Z10-011 address rules; the letter attached
to an e-mail."""

import cgi
import email
import email.policy
import hashlib
import json
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import REPO, Relance

MM = 72 / 25.4
ZONES = {  # envelope presets: address zone in mm from the top-left corner
    "fr-dl-right": ((110, 195), (55, 88)),
    "uk-dl-left": ((24.6, 120), (39.5, 66.3)),
    "din-5008-b": ((20, 105), (45, 90)),
}
ADDRESS = ["12, rue des Tanneurs", "69002 Lyon"]


def letter_relance(root, extra=""):
    r = Relance(root, extra=extra)
    r.run("migrate")
    return r


def payer(r, ref="ACME", name="Boulangerie Martin & Fils", segment="standard", locale="fr-FR", lines=ADDRESS,
          kind="business", channels="letter", check=True):
    args = ["payer", "upsert", "--ref", ref, "--name", name, "--segment", segment, "--locale", locale,
            "--timezone", "Europe/Paris", "--channels", channels, "--kind", kind]
    for line in lines:
        args += ["--address-line", line]
    return r.run(*args, check=check)


def sample(template):
    return json.loads((REPO / "Templates" / "samples" / f"{template}.json").read_text())


def render_pdf(r, path, ref="ACME", template="formal-notice", data=None, env=None):
    args = ["render", "--payer", ref, "--template", template, "--channel", "letter", "--case", "F-2026-0142",
            "--out", str(path)]
    if data is not None:
        args += ["--data", json.dumps(data)]
    full = dict(os.environ, RELANCE_CONFIG=str(r.config), **(env or {}))
    result = subprocess.run([os.environ.get("RELANCE_BIN", str(REPO / ".build/debug/relance")), *args],
                            capture_output=True, text=True, env=full, timeout=60)
    return result


def words(pdf):
    """[(page, xMin, yMin, xMax, yMax, word)] from pdftotext -bbox."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    out, page = [], 0
    for line in html.splitlines():
        if "<page " in line:
            page += 1
        m = re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', line)
        if m:
            out.append((page, *map(float, m.groups()[:4]), m.group(5)))
    return out


def text(pdf):
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("preset", sorted(ZONES))
def test_address_prints_inside_the_window_zone_and_nothing_else_does(tmp_path, preset):
    r = letter_relance(tmp_path / "r")
    payer(r)
    pdf = tmp_path / "letter.pdf"
    result = render_pdf(r, pdf, env={"RELANCE_LETTERS_ENVELOPE": preset})
    assert result.returncode == 0, result.stderr
    (x0, x1), (y0, y1) = ZONES[preset]
    inside, address_words = [], set("BOULANGERIE MARTIN & FILS 12 RUE DES TANNEURS 69002 LYON".split())
    for page, xa, ya, xb, yb, word in words(pdf):
        overlaps = xa < x1 * MM and xb > x0 * MM and ya < y1 * MM and yb > y0 * MM
        if overlaps:
            assert page == 1 and xa >= x0 * MM and xb <= x1 * MM and ya >= y0 * MM and yb <= y1 * MM, word
            inside.append(word.replace("&amp;", "&"))
    assert " ".join(inside) == "Boulangerie Martin & Fils 12 rue des Tanneurs 69002 LYON", inside
    assert {w.upper() for w in inside} == address_words


def test_pdf_is_valid_with_embedded_fonts_and_metadata(tmp_path):
    r = letter_relance(tmp_path / "r")
    payer(r)
    pdf = tmp_path / "letter.pdf"
    assert render_pdf(r, pdf).returncode == 0
    subprocess.run(["qpdf", "--check", str(pdf)], check=True, capture_output=True)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # the "emb" column
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+595.276 x 841.89 pts \(A4\)", info), info
    assert re.search(r"PDF version:\s+1\.[5-9]", info), info
    assert re.search(r"Title:\s+Mise en demeure de payer", info) and re.search(r"Author:\s+Lumen Conseil SAS", info)


def test_french_and_english_letters_read_as_expected(tmp_path):
    r = letter_relance(tmp_path / "r")
    payer(r)
    payer(r, ref="UK", name="Smith & Sons Ltd", locale="en-GB", lines=["10 Downing Street", "London SW1A 2AA"])
    fr, en = tmp_path / "fr.pdf", tmp_path / "en.pdf"
    assert render_pdf(r, fr).returncode == 0
    assert render_pdf(r, en, ref="UK").returncode == 0
    fr_text, en_text = text(fr), text(en)
    for expected in ["Lumen Conseil SAS", "Paris, le", "Objet : Mise en demeure de payer", "Madame, Monsieur,",
                     "nous vous mettons en demeure", "6 386,00 €", "L441-10", "40 €"]:
        assert expected in fr_text, (expected, fr_text)
    for expected in ["Smith & Sons Ltd", "LONDON\n", "SW1A 2AA\n",
                     "ROYAUME-UNI", "Subject:", "formal notice", "£" if "£" in en_text else "€6,386.00",
                     "Yours faithfully"]:
        assert expected in en_text, (expected, en_text)


def test_sixty_invoices_flow_onto_pages_with_the_header_repeated_and_the_right_total(tmp_path):
    r = letter_relance(tmp_path / "r")
    payer(r)
    data = sample("formal-notice")
    data["invoices"] = [
        {"number": f"F-2026-{i:04d}", "issue_date": "2026-08-01", "due_date": "2026-09-01",
         "amount": {"amount": f"{100 + i}.50", "currency": "EUR"},
         "balance": {"amount": f"{100 + i}.50", "currency": "EUR"}}
        for i in range(60)]
    total = sum(100 + i + 0.5 for i in range(60))
    data["total_due"] = {"amount": f"{total:.2f}", "currency": "EUR"}
    pdf = tmp_path / "long.pdf"
    result = render_pdf(r, pdf, data=data)
    assert result.returncode == 0, result.stderr
    pages = int(re.search(r"(\d+) page", result.stdout).group(1))
    assert pages >= 2
    per_page = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout.split("\f")
    assert all("Facture" in page and "Reste dû" in page for page in per_page[:2]), per_page[1][:400]
    assert f"{pages}/{pages}" in per_page[pages - 1]
    assert "F-2026-0059" in text(pdf) and "7 800,00 €" in text(pdf)  # 60 × 100.50 + (0 + … + 59)


def test_consumers_never_get_the_40_euro_indemnity(tmp_path):
    r = letter_relance(tmp_path / "r")
    payer(r, ref="BIZ")
    payer(r, ref="CONSO", name="Jeanne Dupont", kind="consumer")
    # The kind decides, whatever the segment: a consumer in the small-business segment gets
    # no €40 either, and a business in the strategic segment still does.
    payer(r, ref="PART", name="Jean Martin", segment="small-business", kind="consumer")
    payer(r, ref="BIZ2", segment="strategic")
    # A segment named after a kind is no segment the templates know: refused, pointing to kind.
    refused = r.run("payer", "upsert", "--ref", "X", "--name", "X", "--segment", "Consumer", check=False)
    assert refused.returncode == 1 and "unknown segment 'Consumer'" in refused.stderr, refused.stderr
    assert "`kind`" in refused.stderr, refused.stderr
    biz, conso = tmp_path / "biz.pdf", tmp_path / "conso.pdf"
    for template in ("formal-notice", "reminder-2"):
        for business in ("BIZ", "BIZ2"):
            assert render_pdf(r, biz, ref=business, template=template).returncode == 0
            assert "40 €" in text(biz) and "D441-5" in text(biz)
        for consumer in ("CONSO", "PART"):
            assert render_pdf(r, conso, ref=consumer, template=template).returncode == 0
            assert "40 €" not in text(conso) and "D441-5" not in text(conso) and "L441-10" not in text(conso)
    # A kind that is neither is refused.
    bad = r.run("payer", "upsert", "--ref", "X", "--name", "X", "--kind", "particulier", check=False)
    assert bad.returncode == 1 and "/kind: 'particulier' is not business or consumer" in bad.stderr, bad.stderr


@pytest.mark.parametrize("lines,rule", [
    (["Bât. A", "Résidence Les Pins", "Escalier 3", "Appartement 12", "12 rue des Tanneurs", "BP 12", "69002 Lyon"],
     "at most 6"),
    (["12 rue des Tanneurs et de la Grande Fontaine Royale", "69002 Lyon"], "at most 38"),
    (["12 rue des Tanneurs", "Lyon"], "5-digit postcode"),
])
def test_unusable_addresses_fail_with_the_rule(tmp_path, lines, rule):
    r = letter_relance(tmp_path / "r")
    payer(r, lines=["1 rue X", "69002 Lyon"])
    # The CLI refuses to enqueue, naming the rule…
    r.sql("UPDATE payers SET postal_address = ? WHERE ref = 'ACME'", (json.dumps(lines),))
    refused = r.run("enqueue", "--payer", "ACME", "--template", "reminder-2", "--channel", "letter",
                    "--data", json.dumps(sample("reminder-2")), check=False)
    assert refused.returncode != 0 and rule in refused.stderr and "postal_address" in refused.stderr, refused.stderr
    # …and a job written with SQL fails at dispatch with it, the daemon going on.
    r.sql("INSERT INTO jobs(payer_ref, case_ref, channel, template, data) VALUES ('ACME', 'C', 'letter', 'reminder-2', ?)",
          (json.dumps(sample("reminder-2")),))
    r.serve_until_idle()
    job = r.jobs()[0]
    assert job["state"] == "failed" and rule in job["last_error"] and "NF Z10-011" in job["last_error"], job


def test_spool_writes_pdf_and_manifest_and_the_trace_keeps_the_proof(tmp_path):
    r = letter_relance(tmp_path / "r")
    payer(r)
    job = int(r.run("enqueue", "--payer", "ACME", "--template", "formal-notice", "--channel", "letter", "--case",
                    "F-2026-0142", "--data", json.dumps(sample("formal-notice"))).stdout.split()[0])
    r.serve_until_idle()
    assert r.jobs()[0]["state"] == "sent"
    spool = r.state / "spool"
    pdf = (spool / f"job-{job}-1.pdf").read_bytes()
    manifest = json.loads((spool / f"job-{job}-1.json").read_text())
    digest = hashlib.sha256(pdf).hexdigest()
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", str(spool / f"job-{job}-1.pdf")], capture_output=True, text=True).stdout).group(1))
    assert manifest["sha256"] == digest and manifest["bytes"] == len(pdf) and manifest["pages"] == pages
    assert manifest["address"] == ["Boulangerie Martin & Fils", "12 rue des Tanneurs", "69002 LYON"]
    assert manifest["case_ref"] == "F-2026-0142" and manifest["pdf"] == f"job-{job}-1.pdf"
    accepted = [e for e in r.trace(job) if e["event"] == "accepted"][0]
    proof = json.loads(accepted["detail"])
    assert proof["sha256"] == digest and proof["pages"] == pages and proof["bytes"] == len(pdf)
    rendered = json.loads([e for e in r.trace(job) if e["event"] == "rendered"][0]["detail"])
    assert rendered["pdf_sha256"] == digest and rendered["envelope"] == "fr-dl-right"


def test_formal_notice_by_email_with_the_letter_attached(tmp_path, smtp):
    r = Relance(tmp_path / "r", smtp_port=smtp.port, extra="letters:\n  attach_to_email: [formal-notice]\n")
    r.run("migrate")
    r.run("payer", "upsert", "--ref", "ACME", "--name", "Boulangerie Martin", "--email", "compta@martin.example.fr",
          "--address-line", "12 rue des Tanneurs", "--address-line", "69002 Lyon")
    job = r.enqueue("ACME", template="formal-notice", case="F-2026-0142")
    r.serve_until_idle()
    (message,) = smtp.parsed()
    attachments = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(attachments) == 1 and attachments[0].get_filename() == "formal-notice-F-2026-0142.pdf"
    pdf = attachments[0].get_content()
    assert pdf.startswith(b"%PDF-1.")
    rendered = json.loads([e for e in r.trace(job) if e["event"] == "rendered"][0]["detail"])
    assert rendered["attachment_sha256"] == hashlib.sha256(pdf).hexdigest() and rendered["attachment_pages"] >= 1


def test_http_upload_to_a_print_provider(tmp_path):
    """The print provider is a local fake (a real one cannot run here): it parses the
    multipart body like a real endpoint would and answers with its reference."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            form = cgi.FieldStorage(fp=self.rfile, headers=self.headers, environ={"REQUEST_METHOD": "POST"})
            received.append({"auth": self.headers.get("Authorization"), "file": form["file"].value,
                             "filename": form["file"].filename, "manifest": json.loads(form["manifest"].value)})
            body = json.dumps({"data": {"id": "PRN-%d" % len(received)}}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        (tmp_path / "headers").write_text("Authorization: Bearer print-key-77\n")
        r = letter_relance(tmp_path / "r", extra=f"""
letters:
  transport: http-upload
  connect_timeout: 2
  timeout: 6
  http_upload:
    url: http://127.0.0.1:{server.server_address[1]}/v1/letters
    headers_file: {tmp_path / 'headers'}
    id_field: data.id
""")
        payer(r)
        r.run("enqueue", "--payer", "ACME", "--template", "statement", "--channel", "letter", "--data",
              json.dumps(sample("statement")))
        served = r.serve_until_idle()
    finally:
        server.shutdown()
    job = r.jobs()[0]
    assert job["state"] == "sent" and job["provider_ref"] == "PRN-1", job
    (upload,) = received
    assert upload["auth"] == "Bearer print-key-77" and upload["filename"] == f"job-{job['id']}-1.pdf"
    assert upload["file"].startswith(b"%PDF") and upload["manifest"]["sha256"] == hashlib.sha256(upload["file"]).hexdigest()
    # The daemon's log (its stdout) never shows the provider's secret header.
    assert "print-key-77" not in served.stdout + served.stderr
    assert "http-upload http://127.0.0.1" in served.stdout


def test_a_line_break_in_the_name_adds_no_line_to_the_address(tmp_path):
    r = letter_relance(tmp_path / "r")
    payer(r, name="Placeholder")
    # Written by SQL: the CLI and the API would keep a name as it is, but a row may hold anything.
    r.sql("UPDATE payers SET name = ? WHERE ref = 'ACME'", ("Evil\r\nCorp\x07",))
    pdf = tmp_path / "letter.pdf"
    result = render_pdf(r, pdf)
    assert result.returncode == 0, result.stderr
    assert "address: Evil Corp / 12 rue des Tanneurs / 69002 LYON" in result.stdout, result.stdout
    (x0, x1), (y0, y1) = ZONES["fr-dl-right"]
    rows = {round(ya) for page, xa, ya, xb, yb, w in words(pdf)
            if page == 1 and xa >= x0 * MM and xb <= x1 * MM and ya >= y0 * MM and yb <= y1 * MM}
    assert len(rows) == 3, rows


def test_characters_no_font_can_print_refuse_the_letter_naming_them(tmp_path):
    r = letter_relance(tmp_path / "r")
    # No font on this machine covers Japanese (fonts-dejavu-core only): the letter would
    # show boxes with hexadecimal codes in them.
    assert subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True).stdout.strip() == ""
    # A payer who gets letters is refused where it is written, naming them...
    refused = payer(r, ref="JP", name="山田商事", lines=["12 rue des Tanneurs", "69002 Lyon"], check=False)
    assert refused.returncode != 0 and "山 (U+5C71)" in refused.stderr and "postal_address" in refused.stderr, \
        refused.stderr
    # ...and one who gets e-mails only is kept, but its letter is refused.
    payer(r, ref="JP", name="山田商事", lines=["12 rue des Tanneurs", "69002 Lyon"], channels="email")
    result = render_pdf(r, tmp_path / "jp.pdf", ref="JP")
    assert result.returncode == 1, result.stdout
    assert "the fonts cannot print" in result.stderr and "山 (U+5C71)" in result.stderr and "田 (U+7530)" in result.stderr, result.stderr
    # Accents, the euro sign and typographic punctuation are in the font: no refusal.
    payer(r, ref="FR", name="Société Générale d’Œuvres – « Ça »")
    assert render_pdf(r, tmp_path / "fr.pdf", ref="FR").returncode == 0


def enqueue_letter(r, ref="ACME", template="formal-notice", data=None, extra=()):
    return r.run("enqueue", "--payer", ref, "--template", template, "--channel", "letter", "--case", "F-2026-0142",
                 "--data", json.dumps(sample(template) if data is None else data), *extra, check=False)


@pytest.mark.parametrize("preset", sorted(ZONES))
def test_an_address_the_window_cannot_hold_is_refused_at_enqueue_not_at_dispatch(tmp_path, preset):
    r = letter_relance(tmp_path / "r", extra=f"letters:\n  envelope: {preset}\n")
    # Within the rules of NF Z10-011 (38 characters) but too wide in the window at 8 pt:
    # capitals of the widest glyph.
    # Refused where the payer is written when it gets letters...
    upsert = payer(r, ref="WIDE", name="W" * 38, check=False)
    assert upsert.returncode != 0 and "too wide for the window of " + preset in upsert.stderr, upsert.stderr
    # ...and at enqueue of a letter for one that gets e-mails.
    payer(r, ref="WIDE", name="W" * 38, channels="email")
    refused = enqueue_letter(r, ref="WIDE")
    assert refused.returncode == 1, refused.stdout
    assert "too wide for the window of " + preset in refused.stderr and "/payer/postal_address" in refused.stderr, \
        refused.stderr
    # Characters the fonts lack: refused at enqueue too, named.
    payer(r, ref="JP", name="山田商事", channels="email")
    refused = enqueue_letter(r, ref="JP")
    assert refused.returncode == 1 and "山 (U+5C71)" in refused.stderr, refused.stderr
    # The documented width fits: 38 characters of an ordinary name.
    payer(r, ref="OK", name="Établissements Dupont-Martin et Fils")
    assert enqueue_letter(r, ref="OK").returncode == 0
    assert r.jobs() and all(job["payer_ref"] == "OK" for job in r.jobs())


def test_french_labels_keep_a_no_break_space_before_colons_and_the_sender_email_stays_whole(tmp_path):
    r = letter_relance(tmp_path / "r")
    r.config.write_text(r.config.read_text().replace(
        "email: compta@lumen-conseil.example", "email: recouvrement.clients-professionnels@lumen-conseil.example"))
    payer(r)
    pdf = tmp_path / "r1.pdf"
    result = render_pdf(r, pdf, template="reminder-1", data=sample("reminder-1"))
    assert result.returncode == 0, result.stderr
    # pdftotext prints a no-break space as a space; what shows is that no line starts
    # with the punctuation (the template scan in ShippedTemplatesTests checks the spaces).
    placed = words(pdf)
    marks = [(page, ya) for page, xa, ya, xb, yb, w in placed if w in (":", ";", "!", "?")]
    assert len(marks) >= 3, marks
    for page, ya in marks:
        assert any(p == page and abs(y - ya) < 1 and w not in (":", ";", "!", "?") for p, x, y, _, _, w in placed), \
            (page, ya)
    # The address is one word on one line, never cut at its hyphen.
    address = "recouvrement.clients-professionnels@lumen-conseil.example"
    assert any(w == address for *_, w in words(pdf)), [w for *_, w in words(pdf) if "@" in w or "lumen" in w]


def test_a_deadline_too_close_is_refused_and_one_left_out_is_computed_when_sent(tmp_path):
    import datetime
    r = letter_relance(tmp_path / "r")
    payer(r)
    data = sample("formal-notice")
    assert "payment_deadline" not in data  # the sample leaves it to be computed
    today = datetime.date.today()
    for deadline in ("2020-01-01", (today + datetime.timedelta(days=7)).isoformat()):
        refused = enqueue_letter(r, data=data | {"payment_deadline": deadline})
        assert refused.returncode == 1, refused.stdout
        assert "/data/payment_deadline" in refused.stderr and "less than 8 days" in refused.stderr, refused.stderr
    # The documented limit is configurable.
    r.config.write_text(r.config.read_text() + "templates:\n  deadline_days: 15\n"
                        if "templates:" not in r.config.read_text() else
                        r.config.read_text().replace("templates:\n", "templates:\n  deadline_days: 15\n", 1))
    refused = enqueue_letter(r, data=data | {"payment_deadline": (today + datetime.timedelta(days=10)).isoformat()})
    assert refused.returncode == 1 and "less than 15 days" in refused.stderr, refused.stderr
    # Left out: the letter states the day deadline_days after its own date.
    assert enqueue_letter(r, data=data).returncode == 0
    # Written by SQL with a past deadline: fails at dispatch with the rule, nothing printed.
    r.sql("INSERT INTO jobs(payer_ref, case_ref, channel, template, data) VALUES ('ACME', 'X', 'letter', "
          "'formal-notice', ?)", (json.dumps(data | {"payment_deadline": "2020-01-01"}),))
    r.serve_until_idle()
    jobs = {job["case_ref"]: job for job in r.jobs()}
    assert jobs["X"]["state"] == "failed" and "payment_deadline" in jobs["X"]["last_error"], jobs["X"]
    assert "less than 15 days" in jobs["X"]["last_error"], jobs["X"]
    sent = jobs["F-2026-0142"]
    assert sent["state"] == "sent", sent
    pdf = next((r.state / "spool").glob(f"job-{sent['id']}-*.pdf"))
    expected = today + datetime.timedelta(days=15)
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre"]
    day = "1er" if expected.day == 1 else str(expected.day)
    assert f"au plus tard le {day} {months[expected.month - 1]} {expected.year}" in " ".join(text(pdf).split()), \
        text(pdf)[:3000]
