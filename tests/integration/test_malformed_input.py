"""Malformed input at every door never crashes Relance: it is refused with an error that
says what and where (issue "Nothing malformed gets in")."""

import shutil

import pytest

from conftest import REPO, Relance


def relance_with_templates(tmp_path, change):
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "Templates", templates)
    change(templates)
    r = Relance(tmp_path / "r")
    r.config.write_text(r.config.read_text().replace(f"  directory: {REPO / 'Templates'}\n",
                                                     f"  directory: {templates}\n"))
    r.run("migrate")
    return r, templates


def partial_loop(templates):
    (templates / "partials/fr/loop-a.mustache").write_text("a {{> loop-b}}")
    (templates / "partials/fr/loop-b.mustache").write_text("b {{> loop-a}}")
    (templates / "reminder-1/fr/email-text.mustache").write_text("{{> loop-a}}")


def deep_nesting(templates):
    (templates / "reminder-2/fr/email-text.mustache").write_text("{{#a}}" * 10_000 + "{{/a}}" * 10_000)


@pytest.mark.parametrize("change, words", [(partial_loop, "partials include each other"),
                                           (deep_nesting, "sections nested more than 50 deep")])
def test_partial_loops_and_deep_nesting_are_refused_by_every_command_not_a_crash(tmp_path, change, words):
    r, templates = relance_with_templates(tmp_path, change)
    for args in (["templates", "check"], ["templates", "check", "--directory", str(templates)],
                 ["render", "--payer", "X", "--template", "reminder-1"], ["serve", "--until-idle"]):
        out = r.run(*args, check=False)
        assert out.returncode == 1, (args, out.returncode, out.stderr)
        assert words in out.stderr + out.stdout, (args, out.stderr)


def config_check(r, env=None):
    import os
    import subprocess
    from conftest import BIN
    environment = dict(os.environ, RELANCE_CONFIG=str(r.config), **(env or {}))
    return subprocess.run([BIN, "config", "check"], capture_output=True, text=True, env=environment, timeout=60)


def test_config_with_a_byte_that_is_not_utf8_even_in_a_comment_is_refused_with_its_line(tmp_path):
    r = Relance(tmp_path)
    text = r.config.read_bytes()
    r.config.write_bytes(b"# r\xe9sum\xe9 des relances\n" + text)
    out = config_check(r)
    assert out.returncode == 1 and f"{r.config}:1:4: not valid UTF-8" in out.stderr, out.stderr


def test_config_list_where_a_number_belongs_is_refused_with_its_line(tmp_path):
    r = Relance(tmp_path)
    r.config.write_text(r.config.read_text().replace("concurrency: 2", "concurrency: 2\n  batch_size: [1, 2]"))
    out = config_check(r)
    assert out.returncode == 1 and "dispatcher.batch_size: a list, where a whole number belongs" in out.stderr, out.stderr
    assert f"{r.config}:" in out.stderr


def test_unknown_relance_variables_are_refused_with_a_suggestion(tmp_path):
    r = Relance(tmp_path)
    out = config_check(r, {"RELANCE_SMTP_HOTS": "mail.example"})
    assert out.returncode == 1
    assert "unknown variable RELANCE_SMTP_HOTS (did you mean RELANCE_SMTP_HOST?)" in out.stderr, out.stderr
    assert config_check(r, {"RELANCE_TEST_ANYTHING": "1"}).returncode == 0


def test_control_characters_in_header_bound_values_are_refused(tmp_path):
    r = Relance(tmp_path)
    out = config_check(r, {"RELANCE_EMAIL_MESSAGE_ID_DOMAIN": "example.fr\r\nBcc: evil@attacker.example"})
    assert out.returncode == 1
    assert "email.message_id_domain: contains a line break" in out.stderr, out.stderr


def test_duplicate_tokens_and_latin1_in_the_tokens_file_are_refused_with_the_line(tmp_path):
    r = Relance(tmp_path)
    tokens = tmp_path / "tokens"
    tokens.write_text("ops admin tok-0123456789abcdef\nbilling enqueue tok-0123456789abcdef\n")
    r.config.write_text(r.config.read_text().replace("api:\n  enabled: false\n", f"api:\n  tokens_file: {tokens}\n"))
    out = config_check(r)
    assert out.returncode == 1 and f"{tokens}:2: the same token as line 1" in out.stderr, out.stderr
    tokens.write_bytes(b"# cl\xe9s\nops admin tok-0123456789abcdef\n")
    out = config_check(r)
    assert out.returncode == 1 and "not valid UTF-8" in out.stderr and f"{tokens}:1:" in out.stderr, out.stderr


def test_config_check_refuses_a_missing_templates_directory_and_redacts_url_credentials(tmp_path):
    r = Relance(tmp_path)
    r.config.write_text(r.config.read_text().replace(f"  directory: {REPO / 'Templates'}\n",
                                                     f"  directory: {tmp_path / 'nowhere'}\n"))
    out = config_check(r)
    assert out.returncode == 1 and "does not exist" in out.stderr and "nowhere" in out.stderr, out.stderr
    r2 = Relance(tmp_path / "b")
    out = config_check(r2, {"RELANCE_SMS_TRANSPORT": "webhook", "RELANCE_DISPATCHER_LEASE": "60",
                            "RELANCE_SMS_WEBHOOK_URL": "http://user:URLPASS@127.0.0.1:9/sms?api_key=QUERYKEY"})
    assert out.returncode == 0, out.stderr
    assert "URLPASS" not in out.stdout and "QUERYKEY" not in out.stdout, out.stdout
    assert "sms.webhook.url = http://<redacted>@127.0.0.1:9/sms?<redacted>" in out.stdout, out.stdout
    assert "dispatcher.lease (effective) = " in out.stdout
