"""SMS through a real Kannel (bearerbox + smsbox + fakesmsc), delivery reports back
to Relance's HTTP API, gateway failures, send windows and forged callbacks."""

import datetime
import hashlib
import hmac
import json
import zoneinfo

import pytest
import requests

from conftest import REPO, Relance, free_port, kill, wait_for
from kannel import Kannel, decode, wait_received

SECRET = "dlr-secret-6b1f0e9a2c4d8e7f"


@pytest.fixture
def kannel(tmp_path):
    k = Kannel(tmp_path / "kannel").start()
    try:
        yield k
    finally:
        k.stop()


def sms_relance(root, kannel_url, password, sender="Relance", window="always"):
    """A Relance whose SMS go to Kannel and whose API takes the delivery reports."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (root / "kannel.pw").write_text(password + "\n")
    (root / "callback.secret").write_text(SECRET + "\n")
    (root / "tokens").write_text("ops admin adm-0123456789abcdef0123\n")
    windows = (
        'windows:\n  sms:\n    days: all\n    hours: ["00:00-24:00"]\n    holidays: none\n' if window == "always" else window
    )
    extra = f"""
api:
  listen: 127.0.0.1:{port}
  tokens_file: {root / 'tokens'}
  openapi_file: {REPO / 'openapi.yaml'}
sms:
  transport: kannel
  {'sender: ' + sender if sender else ''}
  rate: 50
  connect_timeout: 1
  timeout: 3
  callback_base_url: http://127.0.0.1:{port}
  callback_secret_file: {root / 'callback.secret'}
  kannel:
    url: {kannel_url}
    username: relance
    password_file: {root / 'kannel.pw'}
{windows}"""
    r = Relance(root / "relance", extra=extra)
    r.api = f"http://127.0.0.1:{port}"
    r.run("migrate")
    return r


def sms_payer(r, ref="ARTISAN", phone="06 12 34 56 78", locale="fr-FR", timezone="Europe/Paris"):
    r.run(
        "payer", "upsert", "--ref", ref, "--name", "Plomberie Dupont", "--locale", locale, "--timezone", timezone,
        "--phone", phone, "--channels", "sms",
    )


def enqueue_sms(r, payer="ARTISAN", template="reminder-1", data=None, case="F-2026-0142"):
    sample = data or (REPO / "Templates" / "samples" / f"{template}.json").read_text()
    out = r.run("enqueue", "--payer", payer, "--template", template, "--channel", "sms", "--case", case,
                "--data", sample)
    return int(out.stdout.split()[0])


def rendered_text(r, job_id):
    out = r.run("render", str(job_id)).stdout.splitlines()
    assert out[0].startswith("# to "), out
    return "\n".join(out[1:])


def state(r, job_id):
    return r.sql("SELECT state FROM jobs WHERE id = ?", (job_id,))[0]["state"]


def events(r, job_id):
    return [e["event"] for e in r.trace(job_id)]


def test_sms_goes_through_kannel_and_the_delivery_report_marks_it_delivered(tmp_path, kannel):
    r = sms_relance(tmp_path, kannel.url, kannel.password)
    sms_payer(r)  # a national French number, normalised with the payer's country
    assert r.sql("SELECT phone FROM payers")[0]["phone"] == "+33612345678"
    job = enqueue_sms(r)
    expected = rendered_text(r, job)
    daemon = r.start()
    try:
        assert wait_for(lambda: state(r, job) == "delivered", 30), (state(r, job), r.trace(job))
    finally:
        kill(daemon)
    got = wait_received(kannel, 1)
    assert len(got) == 1, got
    sender, receiver, payload, _ = got[0]
    assert (sender, receiver) == ("Relance", "+33612345678")
    rendered = json.loads(r.trace(job)[[e["event"] for e in r.trace(job)].index("rendered")]["detail"])
    assert rendered["encoding"] == "gsm7" and rendered["to"] == "+33612345678"
    assert rendered["segments"] == 2
    assert decode(payload, "gsm7") == expected
    assert "\u202f" not in expected and "1 934,60 €" in expected  # typography sanitised, amount intact
    kinds = events(r, job)
    assert kinds[-3:] == ["dispatching", "accepted", "delivered"], kinds
    delivered = json.loads(r.trace(job)[-1]["detail"])
    assert delivered["provider"] == "kannel" and delivered["type"] == 1
    accepted = json.loads(r.trace(job)[-2]["detail"])
    assert accepted["code"] == 202 and "Accepted" in accepted["response"]


def test_characters_outside_gsm7_arrive_intact_as_ucs2(tmp_path, kannel):
    r = sms_relance(tmp_path, kannel.url, kannel.password)
    sms_payer(r)
    data = json.loads((REPO / "Templates" / "samples" / "thanks.json").read_text())
    data["invoices"] = data["invoices"][:1]
    data["invoices"][0]["number"] = "Ф-2026/17 ✓"
    job = enqueue_sms(r, template="thanks", data=json.dumps(data))
    expected = rendered_text(r, job)
    assert "Ф-2026/17 ✓" in expected
    r.serve_until_idle()
    got = wait_received(kannel, 1)
    assert len(got) == 1, got
    _, _, payload, kind = got[0]
    rendered = json.loads(r.trace(job)[events(r, job).index("rendered")]["detail"])
    assert rendered["encoding"] == "ucs2"
    assert decode(payload, "ucs2") == expected
    assert state(r, job) in ("sent", "delivered")


def test_gateway_down_is_retried_with_backoff_then_dead(tmp_path, monkeypatch):
    closed = free_port()
    monkeypatch.setenv("RELANCE_RETRY_MAX_ATTEMPTS", "3")
    r = sms_relance(tmp_path, f"http://127.0.0.1:{closed}/cgi-bin/sendsms", "pw")
    sms_payer(r)
    job = enqueue_sms(r)
    daemon = r.start()
    try:
        assert wait_for(lambda: state(r, job) == "dead", 30), r.trace(job)
    finally:
        kill(daemon)
    row = r.jobs()[0]
    assert row["attempt"] == 3
    kinds = events(r, job)
    assert kinds.count("transient_error") == 3 and kinds[-1] == "dead", kinds
    first = json.loads(r.trace(job)[kinds.index("transient_error")]["detail"])
    assert first["reason"] == "network" and float(first["retry_in_seconds"]) > 0
    assert f"127.0.0.1:{closed}" in row["last_error"]
    assert "pw" not in row["last_error"].replace("password", "")  # no credential in errors


def test_gateway_answering_4xx_fails_the_job_with_its_answer(tmp_path):
    k = Kannel(tmp_path / "kannel", sender=False).start()
    try:
        # No sender here and no global sender in Kannel: smsbox answers 400.
        r = sms_relance(tmp_path, k.url, k.password, sender=None)
        sms_payer(r)
        job = enqueue_sms(r)
        r.serve_until_idle()
    finally:
        k.stop()
    row = r.jobs()[0]
    assert row["state"] == "failed", row
    assert "answered 400" in row["last_error"] and "Sender missing" in row["last_error"], row["last_error"]
    assert k.password not in row["last_error"]
    assert events(r, job)[-1] == "permanent_error"


def test_invalid_number_fails_without_calling_the_gateway(tmp_path, kannel):
    r = sms_relance(tmp_path, kannel.url, kannel.password)
    sms_payer(r)
    # A row written by another service with plain SQL, with an unusable number.
    r.sql("UPDATE payers SET phone = '06 12 34' WHERE ref = 'ARTISAN'")
    r.sql(
        "INSERT INTO jobs(payer_ref, case_ref, channel, template, data) VALUES ('ARTISAN', 'C1', 'sms', 'thanks', ?)",
        ((REPO / "Templates" / "samples" / "thanks.json").read_text(),),
    )
    r.serve_until_idle()
    row = r.jobs()[0]
    assert row["state"] == "failed", row
    assert "06 12 34" in row["last_error"] and "FR" in row["last_error"], row["last_error"]
    assert "dispatching" not in events(r, row["id"])
    assert kannel.received() == []


def test_enqueue_refuses_an_sms_job_for_a_payer_without_a_usable_number(tmp_path):
    r = sms_relance(tmp_path, "http://127.0.0.1:9/none", "pw")
    bad = r.run("payer", "upsert", "--ref", "P", "--name", "X", "--phone", "+33 6 12", check=False)
    assert bad.returncode != 0 and "phone" in bad.stderr, bad.stderr
    r.run("payer", "upsert", "--ref", "P", "--name", "X", "--email", "x@example.fr")
    out = r.run("enqueue", "--payer", "P", "--template", "thanks", "--channel", "sms", "--data",
                (REPO / "Templates" / "samples" / "thanks.json").read_text(), check=False)
    assert out.returncode != 0 and "no phone number" in out.stderr, out.stderr
    assert r.jobs() == []


def test_outside_the_send_window_the_job_is_deferred_without_using_an_attempt(tmp_path, kannel):
    today = datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Paris")).strftime("%a").lower()[:3]
    others = [d for d in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] if d != today]
    window = f'windows:\n  sms:\n    days: [{", ".join(others)}]\n    hours: ["09:00-12:00"]\n    holidays: fr\n'
    r = sms_relance(tmp_path, kannel.url, kannel.password, window=window)
    sms_payer(r)
    job = enqueue_sms(r)
    r.serve_until_idle()
    row = r.jobs()[0]
    assert row["state"] == "queued" and row["attempt"] == 0, row
    kinds = events(r, job)
    assert kinds == ["enqueued", "claimed", "deferred"], kinds
    detail = json.loads(r.trace(job)[-1]["detail"])
    assert detail["reason"] == "send_window" and detail["timezone"] == "Europe/Paris"
    opening = datetime.datetime.fromisoformat(row["run_at"].replace("Z", "+00:00"))
    local = opening.astimezone(zoneinfo.ZoneInfo("Europe/Paris"))
    assert local.strftime("%a").lower()[:3] != today and (local.hour, local.minute) >= (9, 0) and local.hour < 12
    assert detail["until"] == row["run_at"]
    assert kannel.received() == []


def test_forged_or_replayed_callbacks_are_rejected(tmp_path, kannel):
    r = sms_relance(tmp_path, kannel.url, kannel.password)
    sms_payer(r)
    job = enqueue_sms(r)
    daemon = r.start()
    try:
        assert wait_for(lambda: state(r, job) == "delivered", 30), r.trace(job)
        r.sql("UPDATE jobs SET state = 'sent' WHERE id = ?", (job,))  # as if no report came yet
        base = f"{r.api}/v1/callbacks/kannel/{job}/1"
        # No token, a wrong token, the right job with another attempt's URL.
        assert requests.get(base, params={"type": "2"}, timeout=5).status_code == 403
        assert requests.get(base, params={"type": "2", "token": "0" * 32}, timeout=5).status_code == 403
        other = f"{r.api}/v1/callbacks/kannel/{job}/2"
        good_token = delivered_token(r, job)
        assert requests.get(other, params={"type": "2", "token": good_token}, timeout=5).status_code == 403
        assert requests.get(f"{r.api}/v1/callbacks/nobody/{job}/1", params={"token": good_token}, timeout=5
                            ).status_code == 404
        assert state(r, job) == "sent"
        # The genuine URL still works, and an unknown report type is refused.
        assert requests.get(base, params={"type": "99", "token": good_token}, timeout=5).status_code == 422
        answer = requests.get(base, params={"type": "2", "answer": "NACK/0x0b", "token": good_token}, timeout=5)
        assert answer.status_code == 200 and answer.json()["state"] == "undelivered", answer.text
    finally:
        kill(daemon)
    log = (r.root / "serve.log").read_text()
    assert "delivery report rejected: bad token" in log
    assert SECRET not in log


def delivered_token(r, job):
    """The token Relance puts in the callback URL: an HMAC of provider, job and attempt."""
    message = f"relance-callback:v1:kannel:{job}:1".encode()
    return hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()[:32]


def kannel_groups(text):
    """deploy/kannel.conf as [(group, {key: value})], in order."""
    groups = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = (part.strip() for part in line.partition("="))
        if key == "group":
            groups.append((value, {}))
        else:
            groups[-1][1][key] = value.strip('"')
    return groups


def test_the_sample_kannel_conf_matches_relance_and_delivers_a_long_sms_whole(tmp_path):
    sample = (REPO / "deploy/kannel.conf").read_text()
    groups = kannel_groups(sample)
    user = next(g for name, g in groups if name == "sendsms-user")
    smsc = next(g for name, g in groups if name == "smsc")
    smsbox = next(g for name, g in groups if name == "smsbox")
    assert user["concatenation"] == "true" and int(user["max-messages"]) >= 6  # sms.max_segments' default
    assert smsbox["immediate-sendsms-reply"] == "false"
    relance_sample = (REPO / "deploy/relance.yaml").read_text()
    assert f"smsc: {smsc['smsc-id']}" in relance_sample and user["forced-smsc"] == smsc["smsc-id"]
    # Kannel itself takes the file: the same file with loopback ports and paths of the
    # test, and the operator's SMPP connection played by fakesmsc under the same id.
    k = Kannel(tmp_path / "kannel")
    rewritten = []
    for name, values in groups:
        if name == "core":
            values |= {"admin-port": k.admin_port, "admin-password": f"admin-{k.admin_port}",
                       "smsbox-port": k.box_port, "log-file": k.root / "bearerbox.log",
                       "store-location": k.root / "kannel.store"}
        if name == "smsc":
            values = {"smsc": "fake", "smsc-id": smsc["smsc-id"], "port": k.smsc_port, "our-host": "127.0.0.1",
                      "connect-allow-ip": "127.0.0.1", "max-sms-octets": smsc["max-sms-octets"]}
        if name == "smsbox":
            values |= {"bearerbox-port": k.box_port, "sendsms-port": k.sendsms_port,
                       "log-file": k.root / "smsbox.log"}
        if name == "sendsms-user":
            k.username, k.password = values["username"], values["password"]
        rewritten.append(f"group = {name}\n" + "".join(f"{key} = {value}\n" for key, value in values.items()))
    k.config.write_text("\n".join(rewritten).replace('text = \n', 'text = ""\n'))
    k.start()
    try:
        r = sms_relance(tmp_path, k.url, k.password)
        r.config.write_text(r.config.read_text().replace("  kannel:\n", f"  kannel:\n    smsc: {smsc['smsc-id']}\n"))
        sms_payer(r)
        long_text = {"invoices": json.loads((REPO / "Templates/samples/reminder-1.json").read_text())["invoices"] * 3,
                     "total_due": {"amount": "5803.80", "currency": "EUR"}}  # the balances, three times
        job = enqueue_sms(r, data=json.dumps(long_text))
        expected = rendered_text(r, job)
        r.serve_until_idle()
        assert state(r, job) == "sent", r.trace(job)
        got = wait_received(k, 1)
        assert len(got) == 1, got
        assert decode(got[0][2], "gsm7") == expected and len(expected) > 160, (len(expected), got)
    finally:
        k.stop()
