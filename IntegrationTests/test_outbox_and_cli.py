"""The quickstart: three payers, the outbox transport, `relance tail`."""

import email
import email.policy
import json


def test_three_payers_get_messages_in_their_language_and_tone(relance_outbox):
    r = relance_outbox
    r.payer("FR", "Boulangerie Martin", "fr-FR", "compta@martin.example.fr", segment="standard")
    r.payer("GB", "Britannia Holdings plc", "en-GB", "ap@britannia.example.co.uk", segment="strategic",
            timezone="Europe/London")
    r.payer("DE", "Müller GmbH", "de-DE", "buchhaltung@mueller.example.de", timezone="Europe/Berlin")
    r.payer("PT", "Lusitana Lda", "pt-PT", "contabilidade@lusitana.example.pt", timezone="Europe/Lisbon")
    ids = {p: r.enqueue(p, case=f"CASE-{p}") for p in ("FR", "GB", "DE", "PT")}
    r.serve_until_idle()

    outbox = r.state / "outbox"
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 4
    by_job = {}
    for f in files:
        message = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        by_job[int(message["X-Relance-Job"])] = message
    fr, gb, de, pt = by_job[ids["FR"]], by_job[ids["GB"]], by_job[ids["DE"]], by_job[ids["PT"]]
    assert str(fr["Subject"]).startswith("Rappel de règlement")
    assert "Madame, Monsieur" in fr.get_body(("plain",)).get_content()
    # Strategic: a courteous account statement, not a reminder.
    assert str(gb["Subject"]).startswith("Your account summary")
    assert "reminder" not in gb.get_body(("plain",)).get_content().lower()
    assert str(de["Subject"]).startswith("Zahlungserinnerung")
    assert "Sehr geehrte Damen und Herren" in de.get_body(("plain",)).get_content()
    # No Portuguese templates: the default locale (en) is used, with its formats.
    assert str(pt["Subject"]).startswith("Payment reminder")

    tail = r.run("tail").stdout.splitlines()
    for job_id in ids.values():
        kinds = [line.split()[4] for line in tail if f" job={job_id} " in line]
        assert kinds == ["enqueued", "claimed", "rendered", "dispatching", "accepted"], kinds
    rendered = [line for line in tail if f"job={ids['GB']} " in line and " rendered " in line][0]
    assert "variant=strategic" in rendered and "locale=en" in rendered
    rendered_de = [line for line in tail if f"job={ids['DE']} " in line and " rendered " in line][0]
    assert "reminder-1/de/email-subject.mustache" in rendered_de and "locale=de" in rendered_de
    rendered_pt = [line for line in tail if f"job={ids['PT']} " in line and " rendered " in line][0]
    assert "reminder-1/en/email-subject.mustache" in rendered_pt and "locale=en" in rendered_pt

    as_json = [json.loads(line) for line in r.run("tail", "--json", "--case", "CASE-FR").stdout.splitlines()]
    assert {e["event"] for e in as_json} == {"enqueued", "claimed", "rendered", "dispatching", "accepted"}
    assert all(e["case_ref"] == "CASE-FR" for e in as_json)

    show = r.run("jobs", "show", str(ids["FR"])).stdout
    assert " sent " in show and "accepted" in show


def test_render_prints_without_sending(relance_outbox):
    r = relance_outbox
    r.payer("FR", "Boulangerie Martin", "fr-FR", "compta@martin.example.fr")
    out = r.run("render", "--payer", "FR", "--template", "formal-notice").stdout
    assert "reminder" not in out and "formal-notice/fr/email-text.mustache" in out
    assert "L441-10" in out or "L. 441-10" in out
    assert not (r.state / "outbox").exists() or not list((r.state / "outbox").glob("*.eml"))
    assert r.jobs() == []


def test_templates_check_passes_and_catches_a_broken_template(relance_outbox, tmp_path):
    r = relance_outbox
    assert "0 problem(s)" in r.run("templates", "check").stdout
    import shutil
    from conftest import REPO
    broken = tmp_path / "tpl"
    shutil.copytree(REPO / "Templates", broken)
    (broken / "thanks/fr/email-text.mustache").write_text("Merci {{#payer}}\n")
    result = r.run("templates", "check", "--directory", str(broken), check=False)
    assert result.returncode != 0 and "thanks/fr/email-text.mustache:" in result.stderr


def test_templates_check_measures_every_sms_against_its_budget(relance_outbox, tmp_path):
    """Every shipped SMS fits in 2 GSM-7 segments with the sample data; a longer one fails."""
    r = relance_outbox
    out = r.run("templates", "check").stdout
    lines = [l for l in out.splitlines() if l.startswith("sms ")]
    # 6 messages x 2 locales x (standard, consumer + the message's variants)
    assert len(lines) >= 24, out
    for line in lines:
        assert "GSM-7 characters" in line and ("1 segment " in line or "2 segments" in line), line
    import shutil
    from conftest import REPO
    long = tmp_path / "tpl"
    shutil.copytree(REPO / "Templates", long)
    (long / "thanks/en/sms.mustache").write_text("Thank you. " * 30)
    result = r.run("templates", "check", "--directory", str(long), check=False)
    assert result.returncode != 0
    assert "FAIL thanks/en/sms (standard): the SMS is 3 segments (329 GSM-7 characters, 153 per segment), over the limit of 2" in result.stdout, result.stdout


def test_broken_config_is_refused_with_the_key_and_file(tmp_path):
    from conftest import Relance
    r = Relance(tmp_path, extra="dispatcher_typo: 3\n")
    result = r.run("config", "check", check=False)
    assert result.returncode != 0 and "unknown key 'dispatcher_typo'" in result.stderr and "relance.yaml" in result.stderr
    r2 = Relance(tmp_path / "b", extra="")
    r2.config.write_text(r2.config.read_text().replace("concurrency: 2", "concurrency: many"))
    result = r2.run("config", "check", check=False)
    assert result.returncode != 0 and "dispatcher.concurrency: 'many' is not a whole number" in result.stderr
    # A bad environment variable is named as such, not blamed on the file.
    import os
    import subprocess
    from conftest import BIN
    good = Relance(tmp_path / "c", extra="")
    env = dict(os.environ, RELANCE_CONFIG=str(good.config), RELANCE_DISPATCHER_BATCH_SIZE="lots")
    result = subprocess.run([BIN, "config", "check"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode != 0
    assert "RELANCE_DISPATCHER_BATCH_SIZE (environment): dispatcher.batch_size: 'lots'" in result.stderr, result.stderr


def test_scenarios_check_and_plan(relance_outbox, tmp_path):
    r = relance_outbox
    out = r.run("scenarios", "check").stdout
    assert "3 scenario(s), 0 problem(s)" in out, out
    assert "scenario strategic [strategic]: statement-before D-7, statement-after D+5" in out
    r.run("payer", "upsert", "--ref", "SB", "--name", "Plomberie Dupont", "--segment", "small-business",
          "--phone", "06 12 34 56 78", "--address-line", "12 rue des Tanneurs", "--address-line", "69002 Lyon",
          "--channels", "sms,letter")
    plan = r.run("scenarios", "plan", "--payer", "SB", "--due", "2026-12-15", "--balance", "1250.00",
                 "--case", "F-9").stdout.splitlines()
    assert plan[1:] == [
        "2026-12-12  pre-due  pre-due  sms  key=F-9:pre-due:sms",
        "2026-12-18  reminder-1  reminder-1  sms  key=F-9:reminder-1:sms",
        "2026-12-25  reminder-2  reminder-2  sms  key=F-9:reminder-2:sms",
        "2026-12-25  reminder-2  reminder-2  letter  key=F-9:reminder-2:letter",
        "2027-01-04  formal-notice  formal-notice  letter  key=F-9:formal-notice:letter",
    ], plan
    # A broken scenario file is refused with its file and line.
    import shutil
    from conftest import REPO
    scenarios = tmp_path / "scenarios"
    shutil.copytree(REPO / "Templates" / "scenarios", scenarios)
    (scenarios / "standard.yaml").write_text((scenarios / "standard.yaml").read_text().replace("offset: 3d", "offset: soon"))
    r.config.write_text(r.config.read_text() + f"\nscenarios:\n  directory: {scenarios}\n")
    bad = r.run("scenarios", "check", check=False)
    assert bad.returncode != 0 and "standard.yaml:" in bad.stderr and "'offset' must be days" in bad.stderr, bad.stderr


def test_payer_upsert_with_flags_keeps_what_is_not_given(relance_outbox):
    r = relance_outbox
    r.payer("GB", "Britannia Holdings plc", "en-GB", "ap@britannia.example.co.uk", segment="strategic",
            timezone="Europe/London")
    r.run("payer", "upsert", "--ref", "GB", "--address-line", "10 Downing Street", "--address-line",
          "London SW1A 2AA", "--channels", "email,letter")
    r.run("payer", "upsert", "--ref", "GB", "--name", "Britannia Holdings plc (renamed)")
    payer = json.loads(r.run("payer", "show", "GB").stdout)
    assert payer["name"] == "Britannia Holdings plc (renamed)"
    assert (payer["locale"], payer["timezone"], payer["segment"], payer["email"]) == (
        "en-GB", "Europe/London", "strategic", "ap@britannia.example.co.uk")
    assert payer["postal_address"] == ["10 Downing Street", "London SW1A 2AA"]
    assert payer["channels"] == ["email", "letter"]
    # --json alone replaces the whole profile (here: no address any more).
    whole = dict(payer, postal_address=None, channels=["email"])
    r.run("payer", "upsert", "--json", json.dumps(whole))
    shown = json.loads(r.run("payer", "show", "GB").stdout)
    assert shown.get("postal_address") is None and shown == {k: v for k, v in whole.items() if k in shown}
    r.run("payer", "upsert", "--json", "-", input=json.dumps(payer))
    assert json.loads(r.run("payer", "show", "GB").stdout) == payer
    # A new payer needs a name; --json is the whole profile and takes no field flag.
    new = r.run("payer", "upsert", "--ref", "NEW", "--email", "a@b.example", check=False)
    assert new.returncode != 0 and "--name" in new.stderr
    mixed = r.run("payer", "upsert", "--json", json.dumps(payer), "--name", "Other", check=False)
    assert mixed.returncode != 0 and "--json" in mixed.stderr
    assert json.loads(r.run("payer", "show", "GB").stdout) == payer


def test_a_sent_job_is_not_requeued_without_force(relance_outbox):
    r = relance_outbox
    r.payer("FR", "Boulangerie Martin", "fr-FR", "compta@martin.example.fr")
    job = r.enqueue("FR", case="F-1")
    r.serve_until_idle()
    refused = r.run("jobs", "resolve", str(job), "requeue", check=False)
    assert refused.returncode != 0 and "already sent" in refused.stderr and "--force" in refused.stderr
    assert [j["state"] for j in r.jobs()] == ["sent"]
    r.run("jobs", "resolve", str(job), "requeue", "--force", "--note", "the payer asked for a copy")
    r.serve_until_idle()
    assert len(list((r.state / "outbox").glob("job-*.eml"))) == 2


def test_empty_idempotency_key_is_refused(relance_outbox):
    r = relance_outbox
    r.payer("FR", "Boulangerie Martin", "fr-FR", "compta@martin.example.fr")
    refused = r.run("enqueue", "--payer", "FR", "--template", "reminder-1", "--idempotency-key", "", check=False)
    assert refused.returncode != 0 and "idempotency" in refused.stderr
    assert r.jobs() == []


def test_empty_config_means_defaults_and_an_empty_section_is_no_error(tmp_path):
    from conftest import BIN, REPO
    import subprocess
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("RELANCE_")}
    cases = {
        "empty.yaml": ("", 0, "configuration ok"),
        "comments.yaml": ("# nothing set yet\n# smtp:\n#   host: mail.example.com\n", 0, "configuration ok"),
        "section.yaml": ("templates:\n  # directory: /srv/templates\n", 0, "configuration ok"),
        "value.yaml": ("templates: 3\n", 1, "value.yaml:1: 'templates' is a section, not a value"),
    }
    for name, (text, code, expected) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        # Run where the built-in default finds the checkout's Templates (config check
        # refuses a templates directory that does not exist).
        result = subprocess.run([BIN, "config", "check", "--config", str(path)], capture_output=True, text=True,
                                env=env, cwd=REPO, timeout=60)
        assert (result.returncode != 0) == bool(code), (name, result.stderr)
        assert expected in result.stdout + result.stderr, (name, result.stdout, result.stderr)


def test_options_that_cannot_apply_are_refused_not_ignored(relance_outbox, tmp_path):
    r = relance_outbox
    r.payer("FR", "Boulangerie Martin", "fr-FR", "compta@martin.example.fr")
    cases = [
        (("render", "--payer", "FR", "--template", "reminder-1", "--out", str(tmp_path / "x.txt")),
         "--out writes a letter's PDF"),
        (("tail", "--channel", "fax"), "unknown channel 'fax'"),
        (("jobs", "list", "--limit=0"), "--limit must be at least 1"),
        (("enqueue", "--stdin", "--payer", "FR"), "--stdin reads every job"),
    ]
    for args, expected in cases:
        result = r.run(*args, input="", check=False)
        assert result.returncode != 0 and expected in result.stderr, (args, result.stderr)
    assert not (tmp_path / "x.txt").exists() and r.jobs() == []
    r.run("payer", "upsert", "--ref", "FR", "--address-line", "3 place Bellecour", "--address-line", "69002 Lyon")
    result = r.run("render", "--payer", "FR", "--template", "reminder-2", "--channel", "letter", "--out",
                   "/nonexistent/dir/x.pdf", check=False)
    assert result.returncode != 0
    assert "cannot write /nonexistent/dir/x.pdf: No such file or directory" in result.stderr, result.stderr
