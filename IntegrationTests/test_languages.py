"""Every reminder in the payer's language: letters rendered to PDF and read back with
pdftotext for payers in six locales (one language, one set of formats throughout), the
creditor's late-payment law, the destination's address order checked at upsert, and the
hunspell check of the shipped templates."""

import datetime
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import BIN, REPO, Relance

MONTHS = {
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "en": "January February March April May June July August September October November December",
}


def long_date(language, day):
    month = MONTHS[language].split()[day.month - 1]
    return {
        "de": f"{day.day}. {month} {day.year}",
        "es": f"{day.day} de {month} de {day.year}",
        "it": f"{'1°' if day.day == 1 else day.day} {month} {day.year}",
        "nl": f"{day.day} {month} {day.year}",
        "fr": f"{'1er' if day.day == 1 else day.day} {month} {day.year}",
        "en": f"{day.day} {month} {day.year}",
    }[language]


# The formal notice's total (6386.00 EUR in the sample) as each locale writes it, and the
# way other locales would: a letter must hold its own and none of the others. Spaces are
# normalised (pdftotext gives U+00A0 and U+202F as they are). CLDR groups thousands from
# 10,000 only in Spanish and Italian, and writes a foreign currency's code in Switzerland.
TOTALS = {
    "de-DE": "6.386,00 €", "de-CH": "EUR 6’386.00", "es-ES": "6386,00 €", "it-IT": "6386,00 €",
    "nl-BE": "€ 6.386,00", "fr-BE": "6 386,00 €",
}
FOREIGN_TOTALS = {"€6,386.00", "6 386,00 €", "6.386,00 €", "€ 6.386,00", "EUR 6’386.00", "6386,00 €"}

STOP_WORDS = {
    "fr": {"nous", "vous", "votre", "vos", "les", "des", "pour", "avec", "est", "sur", "au", "aux", "cette"},
    "en": {"the", "you", "your", "we", "our", "of", "and", "for", "with", "this", "please"},
    "de": {"der", "die", "das", "und", "sie", "ihre", "wir", "ist", "nicht", "mit", "bitte", "für", "den", "zu"},
    "es": {"el", "los", "las", "que", "su", "sus", "del", "por", "para", "nuestro", "y", "este", "esta"},
    "it": {"il", "di", "che", "della", "delle", "dei", "gli", "sono", "nostro", "vostro", "alla", "entro"},
    "nl": {"het", "een", "van", "wij", "u", "uw", "ons", "onze", "voor", "niet", "op", "te", "aan"},
}

PAYERS = {
    "de-DE": ["Hauptstraße 5", "10115 Berlin"],
    "de-CH": ["Bahnhofstrasse 1", "8001 Zürich"],
    "es-ES": ["Calle Mayor 1", "28013 Madrid"],
    "it-IT": ["Via Roma 10", "00184 Roma RM"],
    "nl-BE": ["Meir 1", "2000 Antwerpen"],
    "fr-BE": ["Rue Neuve 123", "1000 Bruxelles"],
}


def scores(text):
    words = re.findall(r"[^\W\d_]+", text.lower())
    return {lang: sum(w in stops for w in words) for lang, stops in STOP_WORDS.items()}


def upsert(r, ref, locale, lines, kind="business", check=True):
    args = ["payer", "upsert", "--ref", ref, "--name", "Kunde & Cie", "--segment", "standard", "--locale", locale,
            "--timezone", "Europe/Paris", "--channels", "letter", "--kind", kind]
    for line in lines:
        args += ["--address-line", line]
    return r.run(*args, check=check)


def render_text(r, tmp_path, ref, env=None):
    pdf = tmp_path / f"{ref}.pdf"
    full = dict(os.environ, RELANCE_CONFIG=str(r.config), **(env or {}))
    result = subprocess.run([BIN, "render", "--payer", ref, "--template", "formal-notice", "--channel", "letter",
                             "--case", "F-2026-0142", "--out", str(pdf)], capture_output=True, text=True, env=full,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"[\u00a0\u202f]", " ", out)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    r = Relance(tmp_path_factory.mktemp("languages"))
    r.run("migrate")
    for locale, lines in PAYERS.items():
        upsert(r, locale.upper(), locale, lines)
    return r


@pytest.mark.parametrize("locale", sorted(PAYERS))
def test_a_formal_notice_letter_is_in_one_language_with_its_formats(installed, tmp_path, locale):
    text = render_text(installed, tmp_path, locale.upper())
    language = locale[:2]
    found = scores(text)
    assert max(found, key=found.get) == language, found
    norm = lambda s: s.replace("\u00a0", " ").replace("\u202f", " ")
    assert norm(TOTALS[locale]) in text, text
    # (The table's "2.160,00 € 6.386,00 €" holds "€ 6.386,00": the right ones are taken out first.)
    rest = text.replace(norm(TOTALS[locale]), "|")
    for other in FOREIGN_TOTALS - {TOTALS[locale]}:
        assert norm(other) not in rest, f"{other} in a {locale} letter"
    today = datetime.datetime.now(datetime.timezone.utc).astimezone(datetime.timezone(datetime.timedelta(hours=1)))
    dated = long_date(language, today.date())
    assert dated in text or long_date(language, (today - datetime.timedelta(days=1)).date()) in text, text
    # A French creditor (the default jurisdiction) cites its own law, in the payer's language.
    assert "L441-10" in text and "D441-5" in text
    assert "Madame, Monsieur" not in text or language == "fr"


def test_german_creditor_cites_bgb_to_business_payers_and_nothing_to_consumers(installed, tmp_path):
    upsert(installed, "DE-CONSUMER", "de-DE", PAYERS["de-DE"], kind="consumer")
    env = {"RELANCE_CREDITOR_JURISDICTION": "DE"}
    business = render_text(installed, tmp_path, "DE-DE", env)
    assert "§ 288" in business and "BGB" in business and "40 €" in business
    assert "L441-10" not in business
    consumer = render_text(installed, tmp_path, "DE-CONSUMER", env)
    for cited in ("288", "BGB", "40 €", "L441-10"):
        assert cited not in consumer, cited


def test_an_unknown_jurisdiction_is_refused_at_start(installed):
    env = dict(os.environ, RELANCE_CONFIG=str(installed.config), RELANCE_CREDITOR_JURISDICTION="UK")
    result = subprocess.run([BIN, "config", "check"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode != 0
    assert "creditor.jurisdiction" in result.stderr and "GB" in result.stderr, result.stderr


@pytest.mark.parametrize("locale,lines,message", [
    ("de-DE", ["Hauptstraße 5", "Berlin 10115"], "in Germany the postcode goes before the town"),
    ("it-IT", ["Via Roma 10", "Roma"], "must start with the postcode (5 digits)"),
    ("nl-NL", ["Keizersgracht 1", "Amsterdam"], "4 digits and 2 letters"),
    ("en-GB", ["1 Fleet Street", "London"], "UK postcode on its own line"),
])
def test_a_foreign_address_in_the_wrong_order_is_refused_at_upsert(installed, locale, lines, message):
    result = upsert(installed, "BAD-" + locale, locale, lines, check=False)
    assert result.returncode != 0
    assert message in result.stderr and "postal_address" in result.stderr, result.stderr
    shown = installed.run("payer", "show", "BAD-" + locale, check=False)
    assert shown.returncode != 0, "a refused payer was stored"


def test_a_british_address_on_one_line_is_printed_on_two(installed, tmp_path):
    upsert(installed, "GB-ONE", "en-GB", ["1 Fleet Street", "London ec4y 1aa"])
    text = render_text(installed, tmp_path, "GB-ONE")
    lines = [line.strip() for line in text.splitlines()]
    at = lines.index("LONDON")
    assert lines[at + 1] == "EC4Y 1AA" and lines[at + 2] == "ROYAUME-UNI", lines[at - 2:at + 3]


def test_spelling_passes_on_the_shipped_templates_and_names_a_misspelt_word(installed, tmp_path):
    result = installed.run("templates", "check", "--spelling")
    assert "spelling: 0 word(s) refused" in result.stdout and "0 problem(s)" in result.stdout, result.stdout
    broken = tmp_path / "templates"
    shutil.copytree(REPO / "Templates", broken)
    letter = broken / "reminder-1" / "de" / "letter.mustache"
    letter.write_text(letter.read_text().replace("Sehr geehrte", "Sehr geehrtte", 1))
    text = broken / "thanks" / "es" / "email-text.mustache"
    text.write_text(text.read_text() + "\nGracias por su pagoo.\n")
    result = installed.run("templates", "check", "--spelling", "--directory", str(broken), check=False)
    assert result.returncode != 0
    assert re.search(r"reminder-1/de/letter.mustache:\d+: 'geehrtte' is not in de_DE", result.stdout), result.stdout
    assert re.search(r"thanks/es/email-text.mustache:\d+: 'pagoo' is not in es_ES", result.stdout), result.stdout
    # An accepted word is accepted only in its language.
    (broken / "spelling" / "es.words").write_text("pagoo\n")
    result = installed.run("templates", "check", "--spelling", "--directory", str(broken), check=False)
    assert "'pagoo'" not in result.stdout and "'geehrtte'" in result.stdout


def test_a_language_without_its_wording_is_refused(installed, tmp_path):
    broken = tmp_path / "templates"
    shutil.copytree(REPO / "Templates", broken)
    (broken / "wording" / "it.json").unlink()
    result = installed.run("templates", "check", "--directory", str(broken), check=False)
    assert result.returncode != 0
    assert "wording/it.json: missing" in result.stdout + result.stderr


def test_hidden_characters_in_an_address_are_refused_at_upsert(installed):
    for line in ("Friedrich\u0000straße 12", "Friedrich\u202estraße 12", "Rue\u001b[2J 1"):
        body = json.dumps({"ref": "HIDDEN", "name": "T", "locale": "de-DE", "email": "a@b.example",
                           "channels": ["letter"], "postal_address": [line, "10117 Berlin"]})
        result = installed.run("payer", "upsert", "--json", "-", input=body, check=False)
        assert result.returncode != 0 and "/postal_address/0" in result.stderr, result.stderr
        assert "a control or bidi character" in result.stderr, result.stderr


def test_a_strategic_payer_without_a_strategic_letter_gets_the_standard_subject(installed, tmp_path):
    installed.run("payer", "upsert", "--ref", "GB-STRAT", "--name", "Britannia plc", "--segment", "strategic",
                  "--locale", "en-GB", "--timezone", "Europe/London", "--channels", "letter",
                  "--address-line", "1 Fleet Street", "--address-line", "London", "--address-line", "EC4Y 1AA")
    pdf = tmp_path / "strat.pdf"
    env = dict(os.environ, RELANCE_CONFIG=str(installed.config))
    result = subprocess.run([BIN, "render", "--payer", "GB-STRAT", "--template", "reminder-2", "--channel", "letter",
                             "--out", str(pdf)], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    # No reminder-2 letter for the strategic segment: the standard letter, under its own subject
    # (not "Your account: update as at …" over a second reminder).
    subject = next(line for line in text.splitlines() if "Subject:" in line)
    assert "Second reminder" in subject and "Your account" not in subject, subject


def test_payer_locales_are_read_whatever_their_case(installed, tmp_path):
    upsert(installed, "CASE-DE", "DE-de", PAYERS["de-DE"])
    text = render_text(installed, tmp_path, "CASE-DE")
    found = scores(text)
    assert max(found, key=found.get) == "de", found
    assert "6.386,00 €" in text
