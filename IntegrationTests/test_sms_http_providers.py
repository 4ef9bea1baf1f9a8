"""The Twilio-compatible and generic webhook providers, against local HTTP servers
written here. These two are fakes, and named so: Twilio's API and a customer's SMS
webhook cannot run on this machine. Kannel, which can, is tested for real in
test_sms_kannel.py."""

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from conftest import REPO, Relance, free_port, kill, wait_for

SECRET = "dlr-secret-twilio-webhook-0001"


class FakeGateway:
    """Records every request; answers from a script, else with `default`."""

    def __init__(self, default):
        self.requests = []
        self.script = []
        self.default = default
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                gateway.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, payload = gateway.script.pop(0) if gateway.script else gateway.default(len(gateway.requests))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def relance_with(tmp_path, provider_yaml):
    port = free_port()
    (tmp_path / "callback.secret").write_text(SECRET)
    (tmp_path / "secret").write_text("auth-token-9f8e7d6c\n")
    (tmp_path / "headers").write_text("Authorization: Bearer hook-key-5a4b3c\n")
    (tmp_path / "tokens").write_text("ops admin adm-0123456789abcdef0123\n")
    extra = f"""
api:
  listen: 127.0.0.1:{port}
  tokens_file: {tmp_path / 'tokens'}
  openapi_file: {REPO / 'openapi.yaml'}
sms:
  sender: ACME
  rate: none
  connect_timeout: 1
  timeout: 3
  callback_base_url: http://127.0.0.1:{port}
  callback_secret_file: {tmp_path / 'callback.secret'}
{provider_yaml}
windows:
  sms:
    days: all
    hours: ["00:00-24:00"]
    holidays: none
"""
    r = Relance(tmp_path / "relance", extra=extra)
    r.api = f"http://127.0.0.1:{port}"
    r.run("migrate")
    r.run("payer", "upsert", "--ref", "P1", "--name", "Jane Smith", "--locale", "en-GB", "--timezone",
          "Europe/London", "--phone", "07700 900123", "--channels", "sms")
    return r


def enqueue(r, template="reminder-1"):
    data = (REPO / "Templates" / "samples" / f"{template}.json").read_text()
    return int(r.run("enqueue", "--payer", "P1", "--template", template, "--channel", "sms", "--case", "INV-7",
                     "--data", data).stdout.split()[0])


def job(r, job_id):
    return r.sql("SELECT * FROM jobs WHERE id = ?", (job_id,))[0]


def test_twilio_compatible_provider_and_status_callback(tmp_path):
    def accepted(n):
        return 201, {"sid": f"SM{n:032d}", "status": "queued"}

    with FakeGateway(accepted) as twilio:
        r = relance_with(tmp_path, f"""  transport: twilio
  twilio:
    url: http://127.0.0.1:{twilio.port}
    account_sid: AC0123456789abcdef
    auth_token_file: {tmp_path / 'secret'}""")
        job_id = enqueue(r)
        text = "\n".join(r.run("render", str(job_id)).stdout.splitlines()[1:])
        r.serve_until_idle()
        row = job(r, job_id)
        assert row["state"] == "sent" and row["provider_ref"] == "SM" + "1".zfill(32), row
        (request,) = twilio.requests
        assert request["path"] == "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json"
        auth = base64.b64decode(request["headers"]["Authorization"].split()[1]).decode()
        assert auth == "AC0123456789abcdef:auth-token-9f8e7d6c"
        form = urllib.parse.parse_qs(request["body"].decode(), strict_parsing=True)
        assert form["To"] == ["+447700900123"] and form["From"] == ["ACME"] and form["Body"] == [text]
        callback = form["StatusCallback"][0]
        assert callback.startswith(f"{r.api}/v1/callbacks/twilio/{job_id}/1?token=")

        daemon = r.start()
        try:
            assert wait_for(lambda: _up(r), 15)
            # An intermediate status changes nothing; a report naming another message is refused.
            sent = twilio_post(callback, {"MessageSid": row["provider_ref"], "MessageStatus": "sent"})
            assert sent.status_code == 200 and sent.json()["applied"] is False
            other = twilio_post(callback, {"MessageSid": "SMforged", "MessageStatus": "delivered"})
            assert other.status_code == 409, other.text
            # Without the signature, with a signature by another token, or over other fields: refused.
            delivered = {"MessageSid": row["provider_ref"], "MessageStatus": "delivered"}
            assert twilio_post(callback, delivered, sign=False).status_code == 403
            assert twilio_post(callback, delivered, token="another-token").status_code == 403
            signed_for_sent = twilio_signature(callback, {"MessageSid": row["provider_ref"], "MessageStatus": "sent"})
            forged = requests.post(callback, data=delivered, timeout=5, headers={"X-Twilio-Signature": signed_for_sent})
            assert forged.status_code == 403
            # A callback without MessageSid is refused.
            no_sid = twilio_post(callback, {"MessageStatus": "delivered"})
            assert no_sid.status_code == 422, no_sid.text
            final = twilio_post(
                callback, {"MessageSid": row["provider_ref"], "MessageStatus": "undelivered", "ErrorCode": "30003"})
            assert final.status_code == 200 and final.json()["state"] == "undelivered", final.text
        finally:
            kill(daemon)
        event = r.trace(job_id)[-1]
        assert event["event"] == "undelivered"
        assert json.loads(event["detail"]) == {"provider": "twilio", "status": "undelivered", "error_code": "30003"}
        log = (r.root / "serve.log").read_text()
        assert "auth-token-9f8e7d6c" not in log and SECRET not in log


def twilio_signature(url, fields, token="auth-token-9f8e7d6c"):
    """X-Twilio-Signature as Twilio computes it: Base64 of HMAC-SHA1(auth token, URL +
    the POST fields' names and values sorted by name)."""
    text = url + "".join(k + v for k, v in sorted(fields.items()))
    return base64.b64encode(hmac.new(token.encode(), text.encode(), hashlib.sha1).digest()).decode()


def twilio_post(url, fields, token="auth-token-9f8e7d6c", sign=True):
    """POSTs a status callback as Twilio does, signed unless told not to."""
    headers = {"X-Twilio-Signature": twilio_signature(url, fields, token)} if sign else {}
    return requests.post(url, data=fields, headers=headers, timeout=5)


def _up(r):
    try:
        return requests.get(r.api + "/healthz", timeout=1).ok
    except requests.ConnectionError:
        return False


def test_twilio_error_answer_is_kept_in_last_error(tmp_path):
    def refused(n):
        return 400, {"code": 21211, "message": "The 'To' number +447700900123 is not a valid phone number.",
                     "status": 400}

    with FakeGateway(refused) as twilio:
        r = relance_with(tmp_path, f"""  transport: twilio
  twilio:
    url: http://127.0.0.1:{twilio.port}
    account_sid: AC1
    auth_token_file: {tmp_path / 'secret'}""")
        job_id = enqueue(r)
        r.serve_until_idle()
    row = job(r, job_id)
    assert row["state"] == "failed"
    assert row["last_error"] == (f"twilio http://127.0.0.1:{twilio.port} answered 400: (21211) "
                                 "The 'To' number +447700900123 is not a valid phone number.")


def test_webhook_provider_with_configured_fields_and_json_reports(tmp_path):
    def accepted(n):
        return 200, {"data": {"id": f"msg-{n}"}}

    with FakeGateway(accepted) as hook:
        hook.script = [(503, {"error": "maintenance"})]  # first try: transient, retried
        r = relance_with(tmp_path, f"""  transport: webhook
  webhook:
    url: http://127.0.0.1:{hook.port}/v2/sms
    headers_file: {tmp_path / 'headers'}
    headers: ["X-Tenant: lumen"]
    to_field: msisdn
    text_field: message
    encoding_field: coding
    id_field: data.id""")
        job_id = enqueue(r, "thanks")
        daemon = r.start()
        try:
            assert wait_for(lambda: job(r, job_id)["state"] == "sent", 30), r.trace(job_id)
            assert len(hook.requests) == 2
            body = json.loads(hook.requests[1]["body"])
            assert body["msisdn"] == "+447700900123" and body["from"] == "ACME" and body["coding"] == "gsm7"
            assert body["reference"] == f"relance-{job_id}-2"
            headers = hook.requests[1]["headers"]
            assert headers["Authorization"] == "Bearer hook-key-5a4b3c" and headers["X-Tenant"] == "lumen"
            assert job(r, job_id)["provider_ref"] == "msg-2"
            # A report whose reference names another job attempt is refused.
            other = requests.post(body["callback_url"], timeout=5,
                                  json={"status": "undelivered", "id": "msg-2", "reference": f"relance-{job_id}-1"})
            assert other.status_code == 409, other.text
            report = requests.post(body["callback_url"], timeout=5,
                                   json={"status": "delivered", "id": "msg-2", "reference": f"relance-{job_id}-2"})
            assert report.status_code == 200 and report.json()["state"] == "delivered", report.text
        finally:
            kill(daemon)
    kinds = [e["event"] for e in r.trace(job_id)]
    assert "transient_error" in kinds and kinds[-1] == "delivered", kinds
    assert "hook-key-5a4b3c" not in (r.root / "serve.log").read_text()
