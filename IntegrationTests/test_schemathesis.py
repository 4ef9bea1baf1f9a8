"""Schemathesis against the live `relance serve` with the document it serves at
/openapi.yaml, every check (`--checks all`), positive and negative modes, with each
token (admin, enqueue-only, read-only): no 5xx; every answer conforms to the document
(status, media type, body schema, headers); what the document forbids is refused; what
it allows is accepted, but for the 422s it describes and no schema can state (a payer
that must exist, a phone number's numbering plan, ...: schemathesis_hooks.py, which
replaces the built-in positive_data_acceptance with that one difference).

Bounded: at most MAX_EXAMPLES cases per operation and phase, one worker, a hard time
limit on each run. The stateful phase follows the links schemathesis infers (a job
created by POST /v1/jobs, then read by id). docs/RELIABILITY.md has the long run."""

import os
import pathlib
import shutil
import subprocess
import sys
import time
from xml.etree import ElementTree

import pytest

from api_support import TOKENS, ApiServer, in_one_hour, job_body

MAX_EXAMPLES = int(os.environ.get("RELANCE_TEST_SCHEMATHESIS_MAX_EXAMPLES", "30"))
# Seconds for one token's run; it normally takes under a minute at 30 examples.
TIME_LIMIT = int(os.environ.get("RELANCE_TEST_SCHEMATHESIS_TIME_LIMIT", "300"))
HOOKS = pathlib.Path(__file__).with_name("schemathesis_hooks.py")


def seed(server):
    """Data for the generated requests to find: the payer and case of the document's
    examples, a job that was sent, one that waits, one cancelled."""
    server.put_payer("ACME")
    server.put_payer("BRIT", name="Britannia Holdings plc", locale="en-GB", timezone="Europe/London",
                     segment="strategic", email="ap@britannia.example.co.uk",
                     phone="+442071234567", postal_address=["1 Fleet Street", "London EC4Y 1AA"])
    sent = server.enqueue(job_body("ACME", case_ref="F-2026-0001", idempotency_key="seed-sent"))["id"]
    server.enqueue(job_body("BRIT", case_ref="F-2026-0142", run_at=in_one_hour(), idempotency_key="seed-later"))
    server.enqueue(job_body("ACME", template="thanks", case_ref="F-2026-0002", run_at=in_one_hour()))
    r = server.post("/v1/cases/F-2026-0002/cancel", {"reason": "paid"})
    assert r.status_code == 200, r.text
    server.wait_job(sent, {"sent"})


@pytest.mark.parametrize("token", ["admin", "enqueue", "read"])
def test_schemathesis_finds_no_server_error_and_no_contract_violation(tmp_path, token):
    server = ApiServer(tmp_path / "api").start()
    try:
        seed(server)
        # The CLI installed beside this interpreter (the venv's), else the one on PATH.
        schemathesis = pathlib.Path(sys.executable).with_name("schemathesis")
        if not schemathesis.exists():
            schemathesis = shutil.which("schemathesis")
        assert schemathesis, "schemathesis is not installed: pip install -r IntegrationTests/requirements-api.txt"
        report = tmp_path / "junit.xml"
        command = [
            str(schemathesis), "--no-color", "run", f"{server.base}/openapi.yaml",
            "--url", server.base,
            "--checks", "all", "--exclude-checks", "positive_data_acceptance",
            "--max-examples", str(MAX_EXAMPLES),
            "--phases", "examples,coverage,fuzzing,stateful",
            "--mode", "all",
            "--workers", "1",
            "--seed", os.environ.get("RELANCE_TEST_SCHEMATHESIS_SEED", "20261123"),
            "--header", f"Authorization: Bearer {TOKENS[token]}",
            "--generation-with-security-parameters", "false",
            "--generation-database", "none",
            "--request-timeout", "20",
            "--max-failures", "50",
            "--suppress-health-check", "all",
            "--report", "junit", "--report-junit-path", str(report),
        ]
        started = time.monotonic()
        result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=TIME_LIMIT,
                                env=dict(os.environ, NO_COLOR="1", SCHEMATHESIS_HOOKS=str(HOOKS)))
        elapsed = time.monotonic() - started
        output = result.stdout + result.stderr
        (tmp_path / "schemathesis.out").write_text(output)
        assert result.returncode == 0, (
            f"schemathesis exited {result.returncode} after {elapsed:.0f}s:\n{output[-20000:]}\n"
            f"--- serve.log (tail) ---\n{server.log()[-4000:]}")
        # It did test every operation (schemathesis leaves out the document's own path).
        tested = {case.get("name") for case in ElementTree.parse(report).iter("testcase")}
        assert tested >= {"POST /v1/jobs", "GET /v1/jobs", "GET /v1/jobs/{id}", "PUT /v1/payers/{ref}",
                          "GET /v1/payers/{ref}", "POST /v1/cases/{case_ref}/cancel", "GET /healthz",
                          "GET /readyz", "GET /metrics"}, tested
        # The daemon is still healthy afterwards.
        r = server.get("/readyz", token=None)
        assert r.status_code == 200, r.text
    finally:
        server.stop()
