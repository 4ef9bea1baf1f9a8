"""The HTTP API of `relance serve` (see openapi.yaml and docs/API.md), over real HTTP
against the real binary, with the outbox transport."""

import concurrent.futures
import json
import sqlite3
import time

import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from api_support import (  # noqa: F401  (api is a fixture)
    REPO, TOKENS, ApiServer, api, describe, error_of, in_one_hour, job_body, payer_body, pointers, sample,
)

JOB_FIELDS = {
    "id", "idempotency_key", "payer_ref", "case_ref", "channel", "template", "state", "attempt", "run_at",
    "priority", "last_error", "provider_ref", "created_at", "updated_at", "data",
}
TRACE_FIELDS = {"id", "job_id", "attempt", "at", "event", "channel", "case_ref", "detail"}
PAYER_FIELDS = {"ref", "name", "locale", "timezone", "segment", "email", "phone", "postal_address", "channels",
                "kind"}


def all_jobs(api, **params):
    r = api.get("/v1/jobs", params=params)
    assert r.status_code == 200, describe(r)
    return r.json()["jobs"]


# Authentication and scopes


def test_missing_or_unknown_token_is_401_with_www_authenticate(api):
    for token in (None, "not-a-token", TOKENS["admin"] + "x"):
        for method, path, body in (("GET", "/v1/jobs", None), ("POST", "/v1/jobs", job_body()),
                                   ("GET", "/v1/jobs/1", None), ("PUT", "/v1/payers/ACME", payer_body()),
                                   ("GET", "/v1/payers/ACME", None),
                                   ("POST", "/v1/cases/C1/cancel", {"reason": "paid"})):
            r = api.request(method, path, token=token, json_body=body)
            error_of(r, 401, "unauthorized")
            assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), describe(r)
    # Not a bearer scheme at all.
    r = api.request("GET", "/v1/jobs", token=None, headers={"Authorization": f"Basic {TOKENS['admin']}"})
    error_of(r, 401, "unauthorized")
    assert all_jobs(api) == []
    error_of(api.get("/v1/payers/ACME"), 404, "not_found")


def test_a_token_without_the_scope_is_403(api):
    api.put_payer("ACME")
    error_of(api.post("/v1/jobs", job_body(), token="read"), 403, "forbidden")
    error_of(api.put("/v1/payers/ACME", payer_body(), token="read"), 403, "forbidden")
    error_of(api.post("/v1/cases/C1/cancel", {"reason": "paid"}, token="read"), 403, "forbidden")
    error_of(api.get("/v1/jobs/1", token="enqueue"), 403, "forbidden")
    error_of(api.get("/v1/jobs", token="enqueue"), 403, "forbidden")
    error_of(api.get("/v1/payers/ACME", token="enqueue"), 403, "forbidden")
    assert all_jobs(api) == []

    # Each scope does what it grants.
    created = api.post("/v1/jobs", job_body(run_at=in_one_hour()), token="enqueue")
    assert created.status_code == 201, describe(created)
    job_id = created.json()["id"]
    assert api.get(f"/v1/jobs/{job_id}", token="read").status_code == 200
    assert api.get("/v1/jobs", token="read").status_code == 200
    assert api.get("/v1/payers/ACME", token="read").status_code == 200
    assert api.put("/v1/payers/ACME", payer_body(), token="enqueue").status_code == 200
    r = api.post("/v1/cases/C1/cancel", {"reason": "manual"}, token="enqueue")
    assert r.status_code == 200, describe(r)


def test_health_readiness_metrics_and_openapi_are_open_by_default(api):
    r = api.get("/healthz", token=None)
    assert r.status_code == 200 and r.json() == {"status": "ok"}, describe(r)
    r = api.get("/readyz", token=None)
    assert r.status_code == 200, describe(r)
    assert r.json() == {"status": "ready", "checks": {"database": "ok", "templates": "ok"}}
    assert api.get("/metrics", token=None).status_code == 200
    assert api.get("/openapi.yaml", token=None).status_code == 200


def test_closed_health_and_metrics_need_a_token(tmp_path):
    server = ApiServer(tmp_path / "closed", api_extra="open_health: false\nopen_metrics: false").start()
    try:
        for path in ("/healthz", "/readyz", "/metrics"):
            r = server.get(path, token=None)
            error_of(r, 401, "unauthorized")
            assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), describe(r)
            assert server.get(path, token="admin").status_code == 200, path
    finally:
        server.stop()


# Body limits, JSON and media type


def test_a_body_over_max_body_bytes_is_413(tmp_path):
    server = ApiServer(tmp_path / "small", api_extra="max_body_bytes: 4096").start()
    try:
        server.put_payer("ACME")
        big = job_body(data=dict(sample(), padding="x" * 10_000))
        assert len(json.dumps(big)) > 10_000
        error_of(server.post("/v1/jobs", big), 413, "payload_too_large")
        error_of(server.post("/v1/jobs", [job_body(case_ref=f"C{i}") for i in range(12)]), 413, "payload_too_large")
        error_of(server.put("/v1/payers/ACME", payer_body(name="N" * 10_000)), 413, "payload_too_large")

        # Without a Content-Length (chunked), the limit holds all the same.
        def chunks():
            yield b'{"payer_ref": "ACME", "channel": "email", "template": "reminder-1", "data": {"x": "'
            for _ in range(10):
                yield b"x" * 1024
            yield b'"}}'
        r = server.request("POST", "/v1/jobs", data=chunks(), headers={"Content-Type": "application/json"})
        error_of(r, 413, "payload_too_large")
        assert all_jobs(server) == []
        # Under the limit is fine.
        r = server.post("/v1/jobs", job_body(run_at=in_one_hour()))
        assert r.status_code == 201, describe(r)
    finally:
        server.stop()


def test_malformed_json_is_400_and_another_media_type_is_415(api):
    api.put_payer("ACME")
    for text in ('{"payer_ref":', "{payer_ref: 'ACME'}", "", "[1, 2", '{"a": 1} trailing'):
        r = api.request("POST", "/v1/jobs", data=text.encode(), headers={"Content-Type": "application/json"})
        error_of(r, 400, "malformed_json")
    r = api.request("PUT", "/v1/payers/ACME", data=b'{"name": "x"', headers={"Content-Type": "application/json"})
    error_of(r, 400, "malformed_json")
    # Deep nesting is refused, not a crash.
    r = api.request("POST", "/v1/jobs", data=b"[" * 100_000 + b"]" * 100_000, headers={"Content-Type": "application/json"})
    error_of(r, 400, "malformed_json")
    assert api.get("/healthz").status_code == 200

    valid = json.dumps(job_body()).encode()
    for media_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        r = api.request("POST", "/v1/jobs", data=valid, headers={"Content-Type": media_type})
        error_of(r, 415, "unsupported_media_type")
    r = api.request("PUT", "/v1/payers/ACME", data=json.dumps(payer_body()).encode(),
                    headers={"Content-Type": "text/plain"})
    error_of(r, 415, "unsupported_media_type")
    r = api.request("POST", "/v1/cases/C/cancel", data=b'{"reason": "paid"}', headers={"Content-Type": "text/plain"})
    error_of(r, 415, "unsupported_media_type")
    assert all_jobs(api) == []

    # A charset parameter is still application/json.
    r = api.request("POST", "/v1/jobs", data=json.dumps(job_body(run_at=in_one_hour())).encode(),
                    headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 201, describe(r)


def test_unknown_paths_ids_and_methods(api):
    error_of(api.get("/v1/jobs/999999"), 404, "not_found")
    error_of(api.get("/v1/jobs/abc"), 404, "not_found")
    error_of(api.get("/v1/jobs/1.5"), 404, "not_found")
    error_of(api.get("/v1/payers/NOBODY"), 404, "not_found")
    error_of(api.get("/v1/nothing-here"), 404, "not_found")
    error_of(api.get("/nothing-here"), 404, "not_found")
    error_of(api.request("DELETE", "/v1/jobs"), 405, "method_not_allowed")
    error_of(api.request("PATCH", "/v1/payers/ACME", json_body={"name": "x"}), 405, "method_not_allowed")
    error_of(api.get("/v1/cases/C1/cancel"), 405, "method_not_allowed")


# Validation


def test_validation_errors_name_the_field_and_insert_nothing(api):
    api.put_payer("ACME")

    bad_phone = job_body(payer=payer_body("NEW", phone="0612"), run_at=in_one_hour())
    del bad_phone["payer_ref"]
    assert "/payer/phone" in pointers(api.post("/v1/jobs", bad_phone))

    assert "/template" in pointers(api.post("/v1/jobs", job_body(template="reminder-9")))

    batch = [job_body(case_ref="B1", run_at=in_one_hour()), job_body(template="no-such-template", case_ref="B1")]
    found = pointers(api.post("/v1/jobs", batch))
    assert "/1/template" in found and not any(p.startswith("/0") for p in found), found

    assert "/payer_ref" in pointers(api.post("/v1/jobs", job_body(payer_ref="NOBODY")))
    no_payer = job_body()
    del no_payer["payer_ref"]
    assert "/payer_ref" in pointers(api.post("/v1/jobs", no_payer))

    # The data is rendered once: a bad amount is refused at /data (or, more precisely, inside it).
    bad_amount = job_body(data={"total_due": {"amount": "12,50", "currency": "EUR"}})
    found = pointers(api.post("/v1/jobs", bad_amount))
    assert any(p == "/data" or p.startswith("/data/") for p in found), found

    assert "/channel" in pointers(api.post("/v1/jobs", job_body(channel="fax")))
    missing_channel = job_body()
    del missing_channel["channel"]
    assert "/channel" in pointers(api.post("/v1/jobs", missing_channel))
    assert "/run_at" in pointers(api.post("/v1/jobs", job_body(run_at="next tuesday")))
    assert "/priority" in pointers(api.post("/v1/jobs", job_body(priority=1001)))
    assert "/idempotency_key" in pointers(api.post("/v1/jobs", job_body(idempotency_key="k" * 201)))
    assert "/colour" in pointers(api.post("/v1/jobs", job_body(colour="blue")))
    # Header and field disagree.
    r = api.post("/v1/jobs", job_body(idempotency_key="A"), headers={"Idempotency-Key": "B"})
    assert "/idempotency_key" in pointers(r)
    # Several errors at once, with the index in a batch.
    found = pointers(api.post("/v1/jobs", [job_body(template="x"), job_body(), job_body(channel="pigeon")]))
    assert "/0/template" in found and "/2/channel" in found, found
    # Not an object, empty batch, batch over 1000.
    assert api.post("/v1/jobs", "reminder").status_code == 422
    assert api.post("/v1/jobs", 42).status_code == 422
    error_of(api.post("/v1/jobs", []), 422, "validation_failed")
    error_of(api.post("/v1/jobs", [job_body(case_ref=f"C{i}") for i in range(1001)]), 422, "validation_failed")

    # An e-mail job needs a payer with an e-mail address.
    r = api.put("/v1/payers/NOMAIL", {"name": "Sans Courriel", "postal_address": ["1 rue X", "75001 Paris"]})
    assert r.status_code == 201, describe(r)
    error_of(api.post("/v1/jobs", job_body(payer_ref="NOMAIL")), 422, "validation_failed")

    # A payer row another service wrote badly is a field error, alone or beside a job that
    # does not even parse (that answer goes through the checks without inserting).
    with sqlite3.connect(api.state / "relance.sqlite", timeout=30) as db:
        db.execute("INSERT INTO payers(ref, name, channels) VALUES ('BADROW', 'Y', 'not json')")
    for body in ([job_body(payer_ref="BADROW")], [job_body(payer_ref="BADROW"), {"channel": "pigeon"}]):
        error = error_of(api.post("/v1/jobs", body), 422, "validation_failed")
        assert any(f["pointer"] == "/0/payer_ref" and "column channels" in f["message"] for f in error["fields"]), error

    assert all_jobs(api) == []
    r = api.get("/v1/jobs")
    assert r.json() == {"jobs": [], "next_cursor": None}, describe(r)
    # The invalid inline payer was not stored either.
    error_of(api.get("/v1/payers/NEW"), 404, "not_found")


def test_an_inline_payer_is_created_with_the_job(api):
    body = job_body(payer=payer_body("INLINE", locale="en-GB", timezone="Europe/London",
                                     email="ap@britannia.example.co.uk"), run_at=in_one_hour())
    del body["payer_ref"]
    r = api.post("/v1/jobs", body)
    assert r.status_code == 201, describe(r)
    job = api.job(r.json()["id"])
    assert job["payer_ref"] == "INLINE"
    payer = api.get("/v1/payers/INLINE").json()
    assert payer["locale"] == "en-GB" and payer["email"] == "ap@britannia.example.co.uk"


# Enqueuing


def test_single_job_answer_and_stored_job(api):
    api.put_payer("ACME")
    body = job_body(case_ref="F-2026-0142", run_at="2099-11-24T09:00:00+01:00", priority=5,
                    idempotency_key="F-2026-0142:reminder-1")
    r = api.post("/v1/jobs", body)
    assert r.status_code == 201, describe(r)
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    created = r.json()
    assert set(created) == {"id", "state", "created"} and created["state"] == "queued" and created["created"] is True
    assert isinstance(created["id"], int)

    job = api.job(created["id"])
    assert set(job) == JOB_FIELDS | {"trace"}, sorted(job)
    assert job["id"] == created["id"]
    assert job["idempotency_key"] == "F-2026-0142:reminder-1"
    assert job["payer_ref"] == "ACME" and job["case_ref"] == "F-2026-0142"
    assert job["channel"] == "email" and job["template"] == "reminder-1"
    assert job["state"] == "queued" and job["attempt"] == 0 and job["priority"] == 5
    assert job["run_at"] == "2099-11-24T08:00:00.000Z"
    assert job["last_error"] is None and job["provider_ref"] is None
    assert job["data"] == body["data"]
    assert job["trace"], job
    for event in job["trace"]:
        assert set(event) == TRACE_FIELDS, event
        assert event["job_id"] == job["id"] and isinstance(event["detail"], dict)
    assert job["trace"][0]["event"] == "enqueued" and job["trace"][0]["case_ref"] == "F-2026-0142"

    # Optional fields left out: nulls and defaults.
    r = api.post("/v1/jobs", job_body(run_at=in_one_hour()))
    assert r.status_code == 201, describe(r)
    job = api.job(r.json()["id"])
    assert job["idempotency_key"] is None and job["case_ref"] is None and job["priority"] == 0


def test_repeated_idempotency_key_header_returns_the_same_job(api):
    api.put_payer("ACME")
    body = job_body(case_ref="F-1", run_at=in_one_hour())
    first = api.post("/v1/jobs", body, headers={"Idempotency-Key": "F-1:reminder-1"})
    assert first.status_code == 201, describe(first)
    assert first.json()["created"] is True
    second = api.post("/v1/jobs", body, headers={"Idempotency-Key": "F-1:reminder-1"})
    assert second.status_code == 200, describe(second)
    assert second.json() == {"id": first.json()["id"], "state": "queued", "created": False}
    # The field is the same key; header and field may both be given when equal.
    third = api.post("/v1/jobs", dict(body, idempotency_key="F-1:reminder-1"), headers={"Idempotency-Key": "F-1:reminder-1"})
    assert third.status_code == 200 and third.json()["id"] == first.json()["id"], describe(third)
    assert api.job(first.json()["id"])["idempotency_key"] == "F-1:reminder-1"
    assert len(all_jobs(api)) == 1


def test_concurrent_requests_with_one_idempotency_key_make_one_job(api):
    api.put_payer("ACME")

    def one(_):
        with requests.Session() as session:
            return session.post(api.base + "/v1/jobs", json=job_body(case_ref="F-9", run_at=in_one_hour()),
                                headers={"Authorization": f"Bearer {TOKENS['enqueue']}", "Idempotency-Key": "F-9:r1"},
                                timeout=30)

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(one, range(16)))
    assert sorted(r.status_code for r in answers) == [200] * 15 + [201], [describe(r) for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert len(all_jobs(api)) == 1


def test_batch_is_answered_in_order_and_repeated_batch_creates_nothing(api):
    api.put_payer("ACME")
    api.put_payer("BRIT", name="Britannia Holdings plc", locale="en-GB", timezone="Europe/London",
                  segment="strategic", email="ap@britannia.example.co.uk")
    batch = [
        job_body("ACME", case_ref="F-1", idempotency_key="F-1:r1", run_at=in_one_hour()),
        job_body("BRIT", template="reminder-2", case_ref="F-2", idempotency_key="F-2:r2", run_at=in_one_hour()),
        job_body("ACME", template="thanks", case_ref="F-3", run_at=in_one_hour()),
    ]
    # The header is ignored for an array.
    r = api.post("/v1/jobs", batch, headers={"Idempotency-Key": "ignored"})
    assert r.status_code == 201, describe(r)
    answer = r.json()
    assert set(answer) == {"jobs"} and len(answer["jobs"]) == 3
    ids = [j["id"] for j in answer["jobs"]]
    assert len(set(ids)) == 3 and all(j == {"id": j["id"], "state": "queued", "created": True} for j in answer["jobs"])
    for job_id, sent in zip(ids, batch):
        job = api.job(job_id)
        assert (job["payer_ref"], job["template"], job["case_ref"]) == (sent["payer_ref"], sent["template"], sent["case_ref"])

    again = api.post("/v1/jobs", batch[:2])
    assert again.status_code == 200, describe(again)
    assert again.json() == {"jobs": [{"id": ids[0], "state": "queued", "created": False},
                                     {"id": ids[1], "state": "queued", "created": False}]}
    mixed = api.post("/v1/jobs", [batch[0], job_body("ACME", case_ref="F-4", run_at=in_one_hour())])
    assert mixed.status_code == 201, describe(mixed)
    assert [j["created"] for j in mixed.json()["jobs"]] == [False, True]
    assert mixed.json()["jobs"][0]["id"] == ids[0]
    assert len(all_jobs(api)) == 4


# Listing


def test_list_filters_pages_and_rejects_bad_query_values(api):
    api.put_payer("ACME")
    api.put_payer("BRIT", email="ap@britannia.example.co.uk", locale="en-GB")
    ids = []
    for i in range(5):
        ids.append(api.enqueue(job_body("ACME", case_ref="CASE-A", run_at=in_one_hour()))["id"])
    ids.append(api.enqueue(job_body("BRIT", case_ref="CASE-B", run_at=in_one_hour()))["id"])
    api.post("/v1/cases/CASE-B/cancel", {"reason": "dispute"})

    page = api.get("/v1/jobs").json()
    assert set(page) == {"jobs", "next_cursor"} and page["next_cursor"] is None
    assert sorted(j["id"] for j in page["jobs"]) == sorted(ids)
    for job in page["jobs"]:
        assert set(job) == JOB_FIELDS, sorted(job)

    assert {j["id"] for j in all_jobs(api, case_ref="CASE-A")} == set(ids[:5])
    assert {j["id"] for j in all_jobs(api, payer_ref="BRIT")} == {ids[5]}
    assert {j["id"] for j in all_jobs(api, state="cancelled")} == {ids[5]}
    assert {j["id"] for j in all_jobs(api, state="queued", payer_ref="ACME")} == set(ids[:5])
    assert all_jobs(api, state="sent") == []
    assert all_jobs(api, case_ref="CASE-A", payer_ref="BRIT") == []

    seen, cursor, pages = [], None, 0
    while pages < 10:
        params = {"limit": 2, "case_ref": "CASE-A"}
        if cursor:
            params["cursor"] = cursor
        r = api.get("/v1/jobs", params=params)
        assert r.status_code == 200, describe(r)
        page = r.json()
        assert len(page["jobs"]) <= 2
        seen += [j["id"] for j in page["jobs"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str) and cursor
    assert sorted(seen) == sorted(ids[:5]) and len(seen) == 5, seen
    assert pages in (3, 4)

    for params, pointer in (({"state": "paid"}, "/state"), ({"limit": 0}, "/limit"), ({"limit": 501}, "/limit"),
                            ({"limit": "ten"}, "/limit"), ({"limit": -1}, "/limit"),
                            ({"cursor": "not-a-cursor"}, "/cursor"), ({"cursor": "0" * 19}, "/cursor"),
                            ({"cursor": ""}, "/cursor")):
        assert pointer in pointers(api.get("/v1/jobs", params=params)), params
    assert len(api.get("/v1/jobs", params={"limit": 500}).json()["jobs"]) == 6
    assert len(api.get("/v1/jobs", params={"limit": 1}).json()["jobs"]) == 1


# Payers


def test_put_and_get_payer(api):
    r = api.put("/v1/payers/ACME", {"name": "Boulangerie Martin"})
    assert r.status_code == 201, describe(r)
    assert r.json() == {"ref": "ACME", "name": "Boulangerie Martin", "locale": "fr-FR", "timezone": "Europe/Paris",
                        "segment": "standard", "email": None, "phone": None, "postal_address": None,
                        "channels": r.json()["channels"], "kind": "business"}
    assert isinstance(r.json()["channels"], list)

    full = payer_body("ACME", name="Boulangerie Martin & Fils", phone="+33612345678",
                      postal_address=["12 rue des Tanneurs", "69002 Lyon"], channels=["email", "letter"],
                      segment="small-business", kind="consumer")
    r = api.put("/v1/payers/ACME", full)
    assert r.status_code == 200, describe(r)
    assert r.json() == full
    r = api.get("/v1/payers/ACME")
    assert r.status_code == 200 and r.json() == full, describe(r)
    assert set(r.json()) == PAYER_FIELDS

    # Path with characters that need encoding.
    r = api.put("/v1/payers/ACME%20SA%2F01", {"name": "Acme SA"})
    assert r.status_code == 201 and r.json()["ref"] == "ACME SA/01", describe(r)
    assert api.get("/v1/payers/ACME%20SA%2F01").json()["name"] == "Acme SA"

    assert "/ref" in pointers(api.put("/v1/payers/ACME", payer_body("OTHER")))
    assert "/phone" in pointers(api.put("/v1/payers/ACME", payer_body(phone="06 12 34")))
    # A national number is read with the country of the payer's locale and stored in E.164.
    r = api.put("/v1/payers/NATIONAL", payer_body("NATIONAL", phone="06 12 34 56 78"))
    assert r.status_code == 201 and r.json()["phone"] == "+33612345678", describe(r)
    assert "/email" in pointers(api.put("/v1/payers/ACME", payer_body(email="not an address")))
    assert "/name" in pointers(api.put("/v1/payers/ACME", {"locale": "fr-FR"}))
    assert "/timezone" in pointers(api.put("/v1/payers/ACME", payer_body(timezone="Mars/Olympus")))
    assert "/postal_address" in pointers(api.put("/v1/payers/ACME", payer_body(postal_address=[])))
    assert "/nickname" in pointers(api.put("/v1/payers/ACME", payer_body(nickname="Bob")))
    assert api.get("/v1/payers/ACME").json() == full
    error_of(api.get("/v1/payers/UNKNOWN"), 404, "not_found")


# Cancelling


def test_cancel_stops_the_queued_jobs_of_the_case_only(api):
    api.put_payer("ACME")
    later = in_one_hour()
    a1 = api.enqueue(job_body(case_ref="CASE-A", run_at=later))["id"]
    a2 = api.enqueue(job_body(template="reminder-2", case_ref="CASE-A", run_at=later))["id"]
    b1 = api.enqueue(job_body(case_ref="CASE-B", run_at=later))["id"]

    r = api.post("/v1/cases/CASE-A/cancel", {"reason": "paid"})
    assert r.status_code == 200, describe(r)
    assert r.json() == {"case_ref": "CASE-A", "reason": "paid", "cancelled": 2, "in_flight": 0}

    for job_id in (a1, a2):
        job = api.job(job_id)
        assert job["state"] == "cancelled", job
        events = [e for e in job["trace"] if e["event"] == "cancelled"]
        assert len(events) == 1 and events[0]["case_ref"] == "CASE-A", job["trace"]
        assert "paid" in json.dumps(events[0]["detail"]), events[0]
    assert api.job(b1)["state"] == "queued"
    assert not any(e["event"] == "cancelled" for e in api.job(b1)["trace"])

    # Again: nothing left to cancel. An unknown case is not an error.
    r = api.post("/v1/cases/CASE-A/cancel", {"reason": "paid"})
    assert r.status_code == 200 and r.json()["cancelled"] == 0, describe(r)
    r = api.post("/v1/cases/NO-SUCH-CASE/cancel", {"reason": "manual"})
    assert r.status_code == 200, describe(r)
    assert r.json() == {"case_ref": "NO-SUCH-CASE", "reason": "manual", "cancelled": 0, "in_flight": 0}

    assert "/reason" in pointers(api.post("/v1/cases/CASE-B/cancel", {"reason": "bored"}))
    assert "/reason" in pointers(api.post("/v1/cases/CASE-B/cancel", {}))
    assert "/why" in pointers(api.post("/v1/cases/CASE-B/cancel", {"reason": "paid", "why": "x"}))
    assert api.job(b1)["state"] == "queued"


def test_cancel_a_case_whose_ref_needs_percent_encoding(api):
    api.put_payer("ACME")
    job_id = api.enqueue(job_body(case_ref="F 2026/0142", run_at=in_one_hour()))["id"]
    r = api.post("/v1/cases/F%202026%2F0142/cancel", {"reason": "paid"})
    assert r.status_code == 200, describe(r)
    assert r.json() == {"case_ref": "F 2026/0142", "reason": "paid", "cancelled": 1, "in_flight": 0}
    assert api.job(job_id)["state"] == "cancelled"


# Dispatch, metrics


def metric_families(api):
    r = api.get("/metrics", token=None)
    assert r.status_code == 200, describe(r)
    content_type = r.headers.get("Content-Type", "")
    assert content_type.startswith("text/plain") and "version=0.0.4" in content_type, content_type
    return {f.name: f for f in text_string_to_metric_families(r.text)}


def sample_value(families, family, sample_name, **labels):
    total = 0.0
    for s in families[family].samples if family in families else ():
        if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items()):
            total += s.value
    return total


def test_a_job_enqueued_over_http_is_sent_and_counted(api):
    api.put_payer("ACME")
    before = metric_families(api)

    r = api.post("/v1/jobs", job_body(case_ref="F-2026-0142"))
    assert r.status_code == 201, describe(r)
    job_id = r.json()["id"]
    job = api.wait_job(job_id, {"sent", "failed", "dead", "uncertain"})
    assert job["state"] == "sent", job
    assert [e["event"] for e in job["trace"]] == ["enqueued", "claimed", "rendered", "dispatching", "accepted"]
    assert job["attempt"] == 1 and job["last_error"] is None
    outbox = sorted((api.state / "outbox").glob("*.eml"))
    assert len(outbox) == 1 and f"job-{job_id}-" in outbox[0].name, outbox
    assert b"compta@martin.example.fr" in outbox[0].read_bytes()

    after = metric_families(api)
    assert after["relance_jobs"].type == "gauge"
    assert after["relance_oldest_due_job_age_seconds"].type == "gauge"
    assert after["relance_dispatch_duration_seconds"].type == "histogram"
    # The parser drops "_total" from counter family names.
    for family in ("relance_provider_responses", "relance_jobs_enqueued", "relance_http_requests"):
        assert after[family].type == "counter", family
    assert sample_value(after, "relance_provider_responses", "relance_provider_responses_total",
                        channel="email", **{"class": "accepted"}) == \
        sample_value(before, "relance_provider_responses", "relance_provider_responses_total",
                     channel="email", **{"class": "accepted"}) + 1
    assert sample_value(after, "relance_jobs_enqueued", "relance_jobs_enqueued_total", channel="email") == \
        sample_value(before, "relance_jobs_enqueued", "relance_jobs_enqueued_total", channel="email") + 1
    assert sample_value(after, "relance_jobs", "relance_jobs", state="sent", channel="email") == \
        sample_value(before, "relance_jobs", "relance_jobs", state="sent", channel="email") + 1
    assert sample_value(after, "relance_dispatch_duration_seconds", "relance_dispatch_duration_seconds_count",
                        channel="email") >= 1
    buckets = [s for s in after["relance_dispatch_duration_seconds"].samples
               if s.name.endswith("_bucket") and s.labels.get("channel") == "email"]
    assert any(s.labels["le"] == "+Inf" and s.value >= 1 for s in buckets), buckets
    assert sample_value(after, "relance_http_requests", "relance_http_requests_total", method="POST",
                        status="201") >= 1
    routes = {s.labels.get("route") for s in after["relance_http_requests"].samples}
    # Routes are patterns, not raw paths (bounded cardinality).
    assert not any(route and str(job_id) in route.split("/") for route in routes), routes
    assert sample_value(after, "relance_oldest_due_job_age_seconds", "relance_oldest_due_job_age_seconds") >= 0


def test_a_job_enqueued_over_http_is_sent_over_smtp(tmp_path, smtp):
    server = ApiServer(tmp_path / "smtp", smtp_port=smtp.port).start()
    try:
        server.put_payer("BRIT", name="Britannia Holdings plc", locale="en-GB", timezone="Europe/London",
                         email="ap@britannia.example.co.uk")
        job_id = server.enqueue(job_body("BRIT", case_ref="INV-1"))["id"]
        job = server.wait_job(job_id, {"sent", "failed", "dead", "uncertain"})
        assert job["state"] == "sent", job
        assert smtp.count() == 1
        message = smtp.parsed()[0]
        assert message["To"].addresses[0].addr_spec == "ap@britannia.example.co.uk"
        assert str(message["Subject"]).startswith("Payment reminder")
        accepted = [e for e in job["trace"] if e["event"] == "accepted"]
        assert accepted and "250" in json.dumps(accepted[0]["detail"])
    finally:
        server.stop()


def test_readyz_and_the_served_openapi_document(api):
    r = api.get("/readyz", token=None)
    assert r.status_code == 200, describe(r)
    assert r.json() == {"status": "ready", "checks": {"database": "ok", "templates": "ok"}}

    r = api.get("/openapi.yaml", token=None)
    assert r.status_code == 200, describe(r)
    assert r.headers.get("Content-Type", "").split(";")[0].strip() == "application/yaml"
    document = yaml.safe_load(r.text)
    assert str(document["openapi"]).startswith("3.1."), document.get("openapi")
    assert document == yaml.safe_load((REPO / "openapi.yaml").read_text())
    from openapi_spec_validator import validate
    validate(document)
    assert set(document["paths"]) == {
        "/v1/jobs", "/v1/jobs/{id}", "/v1/jobs/{id}/content", "/v1/payers/{ref}", "/v1/cases/{case_ref}/cancel", "/v1/callbacks/{provider}/{job_id}/{attempt}",
        "/v1/invoices", "/v1/invoices/{number}", "/v1/invoices/{number}/payments", "/v1/invoices/{number}/hold",
        "/v1/reports/steps", "/healthz", "/readyz", "/metrics", "/openapi.yaml",
        "/v1/payments/statements", "/v1/payments/unmatched", "/v1/payments/lines/{line}/dismiss",
    }


def test_requests_in_parallel_all_get_answers(api):
    """A small bounded burst of concurrent requests (the daemon dispatches meanwhile)."""
    api.put_payer("ACME")

    # A session per thread: requests.Session is not thread-safe.
    def isolated(i):
        session = requests.Session()
        try:
            headers = {"Authorization": f"Bearer {TOKENS['admin']}"}
            if i % 3 == 0:
                return session.post(api.base + "/v1/jobs", json=job_body(case_ref=f"P-{i}", run_at=in_one_hour(),
                                                                         idempotency_key=f"P-{i}"),
                                    headers=headers, timeout=30).status_code
            if i % 3 == 1:
                return session.get(api.base + "/v1/jobs", params={"limit": 5}, headers=headers, timeout=30).status_code
            return session.get(api.base + "/metrics", timeout=30).status_code
        finally:
            session.close()

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(isolated, range(60)))
    assert statuses.count(201) == 20 and statuses.count(200) == 40, statuses
    assert time.monotonic() - started < 60
    assert len(all_jobs(api, limit=500)) == 20


def test_invoices_over_http(api):
    api.put_payer("ACME", phone="+33612345678", channels=["email", "sms"])
    body = {"number": "F-2099-0001", "payer_ref": "ACME", "amount": {"amount": "1250.00", "currency": "EUR"},
            "issue_date": "2099-01-01", "due_date": "2099-02-01"}
    r = api.post("/v1/invoices", body)
    assert r.status_code == 201, describe(r)
    opened = r.json()
    assert opened["created"] is True and opened["invoice"]["balance"] == {"amount": "1250.00", "currency": "EUR"}
    assert [(j["step"], j["channel"], j["day"]) for j in opened["jobs"]] == [
        ("pre-due", "email", "2099-01-27"), ("reminder-1", "email", "2099-02-04"),
        ("reminder-2", "email", "2099-02-11"), ("reminder-2", "sms", "2099-02-11"),
        ("formal-notice", "email", "2099-02-21"),
    ]
    assert opened["skipped"] == ["formal-notice: no usable letter contact point"]
    again = api.post("/v1/invoices", body)
    assert again.status_code == 200 and again.json()["created"] is False
    assert [j["id"] for j in again.json()["jobs"]] == [j["id"] for j in opened["jobs"]]
    assert not any(j["created"] for j in again.json()["jobs"])
    # Validation, unknown invoice, wrong currency, scopes.
    assert "/amount/amount" in pointers(api.post("/v1/invoices", {**body, "amount": {"amount": "-3", "currency": "EUR"}}))
    assert "/due_date" in pointers(api.post("/v1/invoices", {**body, "due_date": "2099-02-30"}))
    assert api.post("/v1/invoices/NOPE/payments", {"amount": {"amount": "1.00", "currency": "EUR"}}).status_code == 404
    assert "/amount/currency" in pointers(
        api.post("/v1/invoices/F-2099-0001/payments", {"amount": {"amount": "1.00", "currency": "USD"}}))
    assert api.post("/v1/invoices", body, token="read").status_code == 403
    # A partial then a full payment.
    part = api.post("/v1/invoices/F-2099-0001/payments", {"amount": {"amount": "250.00", "currency": "EUR"}}).json()
    assert part["settled"] is False and part["invoice"]["balance"]["amount"] == "1000.00"
    full = api.post("/v1/invoices/F-2099-0001/payments",
                    {"amount": {"amount": "1000.00", "currency": "EUR"}, "date": "2099-01-15"}).json()
    assert full["settled"] is True and full["cancelled"] == 5 and len(full["thanks"]) == 1
    assert full["invoice"]["status"] == "paid" and full["invoice"]["paid_at"]
    assert api.post("/v1/invoices/F-2099-0001/payments",
                    {"amount": {"amount": "1.00", "currency": "EUR"}}).status_code == 409
    shown = api.get("/v1/invoices/F-2099-0001", token="read").json()
    states = sorted((j["template"], j["state"]) for j in shown["jobs"])
    assert [t for t, _ in states].count("thanks") == 1  # queued, running or sent by now
    assert sum(1 for _, s in states if s == "cancelled") == 5
    # The effectiveness report once the thanks has gone out: the step on payment has no
    # payment figures.
    deadline = time.monotonic() + 30
    while True:
        report = api.get("/v1/reports/steps", token="read")
        assert report.status_code == 200, describe(report)
        if report.json()["steps"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert report.json()["steps"] == [
        {"scenario": "standard", "step": "thanks", "sent": 1, "delivered": 0, "undelivered": 0, "complaints": 0, "invoices": 1,
         "paid_within_7_days": None, "paid_within_30_days": None, "recovered": None}]
    assert api.get("/v1/reports/steps?scenario=strategic", token="read").json() == {"steps": []}
    assert "/scenario" in pointers(api.get("/v1/reports/steps?scenario=nope", token="read"))
    assert "/since" in pointers(api.get("/v1/reports/steps?since=2099-13-45", token="read"))
    assert api.get("/v1/reports/steps", token="enqueue").status_code == 403
