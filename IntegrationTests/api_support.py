"""Helpers for the HTTP API tests: a `relance serve` with an `api:` section, three
tokens (admin, enqueue-only, read-only), and a small `requests` client.

Everything listens on 127.0.0.1 and every wait is bounded."""

import datetime
import json
import pathlib
import signal
import subprocess
import time

import pytest
import requests

from conftest import REPO, Relance, free_port

TOKENS = {
    "admin": "adm-7f3c9e1d2b4a6f80c1d2e3f4a5b6c7d8",
    "enqueue": "enq-0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "read": "rd-99887766554433221100ffeeddccbbaa",
}

TOKENS_FILE = f"""# NAME SCOPES TOKEN
ops admin {TOKENS['admin']}

billing enqueue {TOKENS['enqueue']}
dashboard read {TOKENS['read']}
"""

SAMPLES = REPO / "Templates" / "samples"


def sample(template="reminder-1"):
    return json.loads((SAMPLES / f"{template}.json").read_text())


def in_one_hour():
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def payer_body(ref="ACME", **overrides):
    body = {
        "ref": ref,
        "name": "Boulangerie Martin",
        "locale": "fr-FR",
        "timezone": "Europe/Paris",
        "segment": "standard",
        "email": "compta@martin.example.fr",
    }
    body.update(overrides)
    return body


def job_body(payer_ref="ACME", template="reminder-1", case_ref=None, **overrides):
    known = (SAMPLES / f"{template}.json").exists()
    body = {"payer_ref": payer_ref, "channel": "email", "template": template, "data": sample(template if known else "reminder-1")}
    if case_ref is not None:
        body["case_ref"] = case_ref
    body.update(overrides)
    return body


class ApiServer:
    """A Relance installation in `root` whose daemon serves the HTTP API."""

    def __init__(self, root, api_extra="", extra="", smtp_port=None):
        self.root = pathlib.Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.tokens_file = self.root / "tokens"
        self.tokens_file.write_text(TOKENS_FILE)
        self.tokens_file.chmod(0o600)
        api = f"""
api:
  listen: 127.0.0.1:{self.port}
  tokens_file: {self.tokens_file}
  openapi_file: {REPO / 'openapi.yaml'}
"""
        for line in api_extra.strip().splitlines():
            api += f"  {line.strip()}\n"
        self.relance = Relance(self.root, smtp_port=smtp_port, extra=api + extra)
        self.relance.run("migrate")
        self.process = None
        self.session = requests.Session()

    @property
    def state(self):
        return self.relance.state

    def log(self):
        path = self.root / "serve.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, timeout=30):
        self.process = self.relance.start()
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"relance serve exited {self.process.returncode}:\n{self.log()}")
            try:
                r = requests.get(self.base + "/healthz", timeout=2,
                                 headers={"Authorization": f"Bearer {TOKENS['admin']}"})
                if r.status_code == 200:
                    return self
                last = f"{r.status_code} {r.text[:200]}"
            except requests.RequestException as e:
                last = repr(e)
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"/healthz did not answer 200 within {timeout}s (last: {last}):\n{self.log()}")

    def stop(self, timeout=40):
        self.session.close()
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise AssertionError(f"relance serve did not stop within {timeout}s of SIGTERM:\n{self.log()}")

    # HTTP

    def request(self, method, path, token="admin", json_body=None, data=None, headers=None, params=None,
                timeout=15):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {TOKENS.get(token, token)}"
        if json_body is not None:
            data = json.dumps(json_body).encode()
            h.setdefault("Content-Type", "application/json")
        return self.session.request(method, self.base + path, data=data, headers=h, params=params, timeout=timeout)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, json_body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, json_body=body, **kw)

    # Shortcuts that assert success

    def put_payer(self, ref="ACME", **overrides):
        body = payer_body(ref, **overrides)
        r = self.put(f"/v1/payers/{ref}", body)
        assert r.status_code in (200, 201), describe(r)
        return r.json()

    def enqueue(self, body, headers=None):
        r = self.post("/v1/jobs", body, headers=headers)
        assert r.status_code in (200, 201), describe(r)
        return r.json()

    def job(self, job_id):
        r = self.get(f"/v1/jobs/{job_id}")
        assert r.status_code == 200, describe(r)
        return r.json()

    def wait_job(self, job_id, states, timeout=30):
        deadline = time.monotonic() + timeout
        job = None
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job["state"] in states:
                return job
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} not in {states} after {timeout}s: {job}\n{self.log()[-3000:]}")


def describe(response):
    """A readable account of a response for assertion messages."""
    req = response.request
    body = req.body if isinstance(req.body, (bytes, type(None))) else req.body.encode()
    shown = (body or b"")[:500].decode(errors="replace")
    return (f"{req.method} {req.url} {shown!r}\n→ {response.status_code} "
            f"{response.headers.get('Content-Type')} {response.text[:1500]}")


def error_of(response, status, code):
    """Checks an error answer's status, media type and shape; returns the error object."""
    assert response.status_code == status, describe(response)
    assert response.headers.get("Content-Type", "").split(";")[0].strip() == "application/json", describe(response)
    body = response.json()
    assert set(body) == {"error"}, describe(response)
    error = body["error"]
    assert error["code"] == code, describe(response)
    assert isinstance(error["message"], str) and error["message"], describe(response)
    return error


def pointers(response):
    error = error_of(response, 422, "validation_failed")
    fields = error.get("fields")
    assert isinstance(fields, list) and fields, describe(response)
    for f in fields:
        assert isinstance(f["pointer"], str) and isinstance(f["message"], str) and f["message"], describe(response)
    return [f["pointer"] for f in fields]


@pytest.fixture
def api(tmp_path):
    server = ApiServer(tmp_path / "api").start()
    try:
        yield server
    finally:
        server.stop()
