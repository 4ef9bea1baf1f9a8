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
