"""The bounce parser on real bounces it was not written from: the corpus flufl.bounce
collected (Mailman's bounce detector; Apache-2.0; fetched by `make deps-python` from its
source distribution into .venv/bounce-corpus), with flufl.bounce itself as the second
opinion on which recipients failed permanently or were delayed. The files where the two
differ are listed, each with why; any other difference fails, and so does a listed one
that no longer differs (the list must be kept true)."""

import email
import json
import pathlib
import subprocess

from flufl.bounce import all_failures

from conftest import BIN, REPO

CORPUS = REPO / ".venv" / "bounce-corpus" / "flufl_bounce-6.0.0" / "tests" / "data"

KNOWN = {
    "aol_01.txt": "AOL's bare screen name: flufl adds @aol.com; Relance finds no address (still `failed`)",
    "llnl_01.txt": "the address only in prose of a custom notice: Relance says `other`",
    "microsoft_01.txt": "an X.400 address line: Relance finds no address (still `failed`)",
    "simple_02.txt": "the address only in a quoted To: line: Relance says `other`",
    "simple_07.txt": "the address only in prose: Relance finds none (still `failed`)",
    "simple_14.txt": "a second address only in the returned message: Relance keeps the one the notice names",
    "simple_24.txt": "the address only in prose: Relance finds none (still `failed`)",
    "simple_27.txt": "Spanish wording: Relance says `other`",
    "simple_35.txt": "a warning: both say delayed; Relance finds no address in its wording",
    "simple_39.txt": "Russian wording with the address in prose: Relance finds none (still `failed`)",
    "simple_44.txt": "'4.4.4 Temporary server error': Relance reads the 4.x.x code as a delay, flufl as permanent",
    "sina_01.txt": "Chinese wording: Relance says `other`",
    "smtp32_05.txt": "the address only in prose: Relance finds none (still `failed`)",
    "yahoo_12.txt": "the address only in prose: Relance finds none (still `failed`)",
    "yale_01.txt": "Relance takes an example address from the help text (a false positive; the payer's "
                   "address check keeps it from suppressing anything)",
}


def lowered(addresses):
    return {a.decode(errors="replace").lower() if isinstance(a, bytes) else a.lower() for a in addresses}


def test_the_parser_agrees_with_flufl_bounce_on_its_corpus():
    files = sorted(CORPUS.glob("*.txt"))
    assert len(files) >= 100, f"the corpus is missing: run `make deps-python` ({CORPUS})"
    out = subprocess.run([BIN, "bounce", "--dry-run", *map(str, files)], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    ours = {pathlib.Path(r["file"]).name: r for r in map(json.loads, out.splitlines())}
    assert len(ours) == len(files)
    differ = {}
    missed = []
    for path in files:
        temporary, permanent = all_failures(email.message_from_bytes(path.read_bytes()))
        report = ours[path.name]
        failed = {r["address"].lower() for r in report["recipients"] if r["action"] == "failed"}
        delayed = {r["address"].lower() for r in report["recipients"] if r["action"] == "delayed"}
        if report["kind"] not in ("failed", "delayed"):
            failed, delayed = set(), set()
        if report["kind"] == "other" and (permanent or temporary):
            missed.append(path.name)
        if (failed, delayed) != (lowered(permanent), lowered(temporary)):
            differ[path.name] = (report["kind"], sorted(failed), sorted(lowered(permanent)))
    assert sorted(differ) == sorted(KNOWN), {n: d for n, d in differ.items() if n not in KNOWN}
    # Every file flufl.bounce reads as a bounce is, for Relance too, a bounce or a delay,
    # but for the four listed `other` ones.
    assert sorted(missed) == ["llnl_01.txt", "simple_02.txt", "simple_27.txt", "sina_01.txt"], missed
