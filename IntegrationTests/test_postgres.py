"""Relance on PostgreSQL, against a real server: a throwaway cluster (pgcluster.py) started
for this module, one schema per test. The daemons are the real binary; the other
"service" is psycopg, as a billing application would use it."""

import collections
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import psycopg
import pytest

from conftest import REPO, Relance, kill, wait_for
from api_support import ApiServer, job_body

sys.path.insert(0, os.path.dirname(__file__))
import pgcluster  # noqa: E402

MID = re.compile(rb"^Message-ID:\s*<relance\.job-(\d+)\.(\d+)@", re.M | re.I)
FINAL = ("sent", "delivered", "undelivered", "failed", "dead", "cancelled", "uncertain")


@pytest.fixture(scope="module")
def pg():
    # Not under pytest's folders (0700, root's): the server runs as the postgres user.
    directory = tempfile.mkdtemp(prefix="relance-pg-")
    url = pgcluster.start(str(directory))
    try:
        yield {"url": url, "dir": str(directory)}
    finally:
        pgcluster.stop(str(directory))


@pytest.fixture
def schema(pg):
    name = "t_" + uuid.uuid4().hex[:12]
    yield name
    with psycopg.connect(pg["url"], autocommit=True) as db:
        db.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def on_postgres(tmp_path, pg, schema, smtp_port=None, extra="", name="node"):
    return Relance(tmp_path / name, smtp_port=smtp_port, extra=f"""
database:
  url: {pg['url']}?schema={schema}
""" + extra)


def sql(pg, query, params=()):
    with psycopg.connect(pg["url"], autocommit=True) as db:
        cursor = db.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def received_ids(smtp):
    ids = []
    for _, _, raw in list(smtp.messages):
        m = MID.search(raw)
        assert m, raw[:300]
        ids.append(int(m.group(1)))
    return ids


def test_migrate_enqueue_and_send_on_postgres(tmp_path, pg, schema, smtp):
    r = on_postgres(tmp_path, pg, schema, smtp_port=smtp.port)
    out = r.run("migrate").stdout
    assert "applied p1-jobs-payers-trace-invoices" in out and "postgres://relance@" in out
    assert "is up to date" in r.run("migrate").stdout
    r.payer("P-1", "Dupont & Fils", "fr-FR", "compta@dupont.example")
    first = r.enqueue("P-1", case="F-1")
    second = r.enqueue("P-1", template="thanks", case="F-2")
    r.serve_until_idle()
    assert sorted(received_ids(smtp)) == [first, second]
    states = dict(sql(pg, f"SELECT id, state FROM {schema}.jobs"))
    assert states == {first: "sent", second: "sent"}
    kinds = [k for (k,) in sql(pg, f"SELECT event FROM {schema}.delivery_events WHERE job_id = %s ORDER BY id", (first,))]
    assert kinds == ["enqueued", "claimed", "rendered", "dispatching", "accepted"]
    doctor = r.run("doctor", check=False).stdout
    assert "ok   database: postgres://relance@" in doctor and "schema is current" in doctor
    assert "ok   postgresql grants" in doctor


def test_only_a_committed_transaction_enqueues(tmp_path, pg, schema, smtp):
    """A billing service writes its invoice and enqueues the reminder in one transaction:
    the rolled-back one never exists, the committed one is sent once."""
    r = on_postgres(tmp_path, pg, schema, smtp_port=smtp.port)
    r.run("migrate")
    r.payer("P-1", "Dupont & Fils", "fr-FR", "compta@dupont.example")
    data = (REPO / "Templates" / "samples" / "reminder-1.json").read_text()
    with psycopg.connect(pg["url"]) as db:
        db.execute("CREATE TABLE IF NOT EXISTS public.billing_invoices (ref text PRIMARY KEY, total numeric)")
        db.commit()
        with db.transaction():
            db.execute("INSERT INTO public.billing_invoices VALUES (%s, 100)", (f"{schema}-A",))
            (kept,) = db.execute(
                f"SELECT {schema}.enqueue(payer_ref => 'P-1', channel => 'email', template => 'reminder-1', "
                "data => %s::jsonb, idempotency_key => %s, case_ref => 'F-A')",
                (data, f"{schema}-A:reminder-1"),
            ).fetchone()
        try:
            with db.transaction():
                db.execute("INSERT INTO public.billing_invoices VALUES (%s, 200)", (f"{schema}-B",))
                (dropped,) = db.execute(
                    f"SELECT {schema}.enqueue('P-1', 'email', 'reminder-1', %s::jsonb, NULL, %s, 'F-B')",
                    (data, f"{schema}-B:reminder-1"),
                ).fetchone()
                raise RuntimeError("the billing service fails after enqueueing: roll back")
        except RuntimeError:
            pass
        # The same key again: the existing job, nothing inserted.
        (again,) = db.execute(
            f"SELECT {schema}.enqueue('P-1', 'email', 'reminder-1', %s::jsonb, NULL, %s, 'F-A')",
            (data, f"{schema}-A:reminder-1"),
        ).fetchone()
        db.commit()
    assert again == kept
    r.serve_until_idle()
    assert received_ids(smtp) == [kept]
    assert [i for (i,) in sql(pg, f"SELECT id FROM {schema}.jobs")] == [kept]
    assert sql(pg, f"SELECT count(*) FROM {schema}.jobs WHERE id = %s", (dropped,)) == [(0,)]
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="channel 'fax' is not email, sms or letter"):
        sql(pg, f"SELECT {schema}.enqueue('P-1', 'fax', 'reminder-1')")


def test_two_nodes_migrating_at_once_apply_each_migration_once(tmp_path, pg, schema):
    nodes = [on_postgres(tmp_path, pg, schema, name=f"n{i}") for i in range(3)]
    env = [dict(os.environ, RELANCE_CONFIG=str(n.config)) for n in nodes]
    procs = [subprocess.Popen([str(REPO / ".build/debug/relance") if not os.environ.get("RELANCE_BIN")
                               else os.environ["RELANCE_BIN"], "migrate"], env=e,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for e in env]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    applied = [o for o, _ in outs if "applied" in o]
    assert len(applied) == 1, outs
    assert sql(pg, f"SELECT name FROM {schema}.schema_migrations ORDER BY name") == [
        ("p1-jobs-payers-trace-invoices",), ("p2-inlined-clock",), ("p3-due-at-trigger-when-needed",), ("p4-bank-lines",), ("p5-evidence",)]


def test_an_insert_by_plain_sql_wakes_an_idle_daemon(tmp_path, pg, schema, smtp):
    """LISTEN/NOTIFY: with a 30 s poll, a job inserted by another service's SQL is sent at once."""
    r = on_postgres(tmp_path, pg, schema, smtp_port=smtp.port)
    r.config.write_text(r.config.read_text().replace("poll_interval: 0.1", "poll_interval: 30"))
    r.run("migrate")
    r.payer("P-1", "Dupont & Fils", "fr-FR", "compta@dupont.example")
    daemon = r.start()
    try:
        log = tmp_path / "node" / "serve.log"
        assert wait_for(lambda: log.exists() and "listening for enqueued jobs" in log.read_text(), 20), \
            log.read_text() if log.exists() else ""
        time.sleep(0.5)  # the workers' first (empty) claim is behind them: they sleep for 30 s
        data = (REPO / "Templates" / "samples" / "reminder-1.json").read_text()
        started = time.monotonic()
        sql(pg, f"INSERT INTO {schema}.jobs(payer_ref, channel, template, data) VALUES ('P-1', 'email', 'reminder-1', %s)",
            (data,))
        assert wait_for(lambda: smtp.count() == 1, 10)
        assert time.monotonic() - started < 5
    finally:
        kill(daemon, signal.SIGTERM)


def test_three_daemons_a_kill_and_a_server_restart_lose_nothing_and_send_nothing_twice(tmp_path, pg, schema, smtp):
    """Three daemons (their own worker ids) share the job table; one is SIGKILLed mid-run
    and PostgreSQL is restarted (-m fast) mid-run. Every job ends final; no message is
    received twice; every job recorded sent was received; an uncertain one only where a
    dispatch was cut after its irrevocable write."""
    total = int(os.environ.get("RELANCE_TEST_PG_JOBS", "20000"))
    nodes = [on_postgres(tmp_path, pg, schema, smtp_port=smtp.port, name=f"n{i}") for i in range(3)]
    for n in nodes:
        n.config.write_text(n.config.read_text().replace("concurrency: 2", "concurrency: 4"))
    nodes[0].run("migrate")
    nodes[0].payer("P-1", "Dupont & Fils", "fr-FR", "compta@dupont.example")
    data = (REPO / "Templates" / "samples" / "reminder-1.json").read_text()
    sql(pg, f"SELECT {schema}.enqueue('P-1', 'email', 'reminder-1', %s::jsonb, NULL, 'k-' || n) "
            "FROM generate_series(1, %s) AS n", (data, total))
    daemons = [n.start() for n in nodes]
    restarted = killed = False
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            done = smtp.count()
            if not killed and done >= total // 4:
                kill(daemons[0])
                killed = True
            if killed and not restarted and done >= total // 2:
                pgcluster.restart(pg["dir"])
                restarted = True
            left = sql(pg, f"SELECT count(*) FROM {schema}.jobs WHERE state IN ('queued', 'running')")[0][0] \
                if restarted else 1
            if restarted and left == 0:
                break
            time.sleep(0.5)
        assert killed and restarted
        states = collections.Counter(s for (s,) in sql(pg, f"SELECT state FROM {schema}.jobs"))
        assert sum(states.values()) == total
        assert set(states) <= set(FINAL), states
        received = collections.Counter(received_ids(smtp))
        twice = [i for i, c in received.items() if c > 1]
        assert twice == [], f"received more than once: {twice[:10]}"
        sent = {i for (i,) in sql(pg, f"SELECT id FROM {schema}.jobs WHERE state = 'sent'")}
        lost = sent - set(received)
        assert lost == set(), f"recorded sent but never received: {sorted(lost)[:10]}"
        unsent = {i for (i,) in sql(pg, f"SELECT id FROM {schema}.jobs WHERE state <> 'sent'")}
        assert states["sent"] >= total - 200, states
        # A job not sent is uncertain (its dispatch was cut), never silently received.
        assert {i for i in unsent if i in received} <= {
            i for (i,) in sql(pg, f"SELECT id FROM {schema}.jobs WHERE state = 'uncertain'")}
        print(f"\n{total} jobs, states {dict(states)}, {len(received)} received", file=sys.stderr)
    finally:
        for d in daemons:
            if d.poll() is None:
                kill(d, signal.SIGTERM)


def test_the_readme_grants_let_a_service_enqueue_and_read_but_not_change_the_daemons_columns(tmp_path, pg, schema, smtp):
    r = on_postgres(tmp_path, pg, schema, smtp_port=smtp.port)
    r.run("migrate")
    r.payer("P-1", "Dupont & Fils", "fr-FR", "compta@dupont.example")
    readme = (REPO / "README.md").read_text()
    grants = readme.split("CREATE ROLE billing LOGIN;")[1].split("```")[0]
    role = "billing_" + schema
    statements = [g.strip() for g in grants.replace("relance.", f"{schema}.").replace("SCHEMA relance", f"SCHEMA {schema}")
                  .replace("billing", role).split(";") if g.strip() and not g.strip().startswith("--")]
    sql(pg, f"CREATE ROLE {role} LOGIN")
    for statement in statements:
        sql(pg, statement)
    service = pg["url"].replace("//relance@", f"//{role}@")
    data = (REPO / "Templates" / "samples" / "reminder-1.json").read_text()
    with psycopg.connect(service, autocommit=True) as db:
        (job,) = db.execute(f"SELECT {schema}.enqueue('P-1', 'email', 'reminder-1', %s::jsonb)", (data,)).fetchone()
        db.execute(f"INSERT INTO {schema}.jobs(payer_ref, channel, template, data) VALUES ('P-1', 'email', 'thanks', %s)",
                   ((REPO / "Templates" / "samples" / "thanks.json").read_text(),))
        assert db.execute(f"SELECT state FROM {schema}.jobs WHERE id = %s", (job,)).fetchone() == ("queued",)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            db.execute(f"UPDATE {schema}.jobs SET state = 'sent' WHERE id = %s", (job,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            db.execute(f"INSERT INTO {schema}.delivery_events(job_id, attempt, event, channel) VALUES (%s, 9, 'accepted', 'email')", (job,))
    r.serve_until_idle()
    assert smtp.count() == 2
    sql(pg, f"DROP OWNED BY {role}")
    sql(pg, f"DROP ROLE {role}")


def test_db_copy_moves_an_sqlite_installation_and_refuses_a_live_daemon(tmp_path, pg, schema, smtp):
    old = Relance(tmp_path / "sqlite")  # the embedded default: SQLite, outbox
    old.run("migrate")
    old.run("payer", "upsert", "--ref", "ACME", "--name", "Boulangerie Martin", "--locale", "fr-FR",
            "--email", "compta@martin.example.fr")
    sent = old.enqueue("ACME", case="INV-1")
    old.serve_until_idle()
    later = old.enqueue("ACME", case="INV-2", extra=("--run-at", "2030-01-01T09:00:00Z"))
    crashed = old.enqueue("ACME", case="INV-3")
    old.run("invoice", "open", "--payer", "ACME", "--number", "F-9", "--amount", "100.00",
            "--issued", "2027-02-20", "--due", "2027-03-20")
    old.run("invoice", "pay", "--number", "F-9", "--amount", "40.00")
    old.sql("INSERT INTO suppressions(payer_ref, channel, contact, reason) VALUES ('ACME', 'sms', '+33600000000', 'test')")
    # A job a crashed worker held: claimed, lease not expired, dispatch not started.
    old.sql("UPDATE jobs SET state = 'running', attempt = 1, lease_owner = 'dead:1:w0', "
            "lease_expires_at = '2099-01-01T00:00:00.000Z' WHERE id = ?", (crashed,))
    source = str(old.state / "relance.sqlite")
    target = f"{pg['url']}?schema={schema}"

    daemon = old.start()
    try:
        assert wait_for(lambda: "dispatcher started" in (tmp_path / "sqlite" / "serve.log").read_text(), 20)
        refused = old.run("db", "copy", "--from", source, "--to", target, check=False)
        assert refused.returncode == 1
        assert "a daemon is serving" in refused.stderr and "stop it first" in refused.stderr
    finally:
        kill(daemon, signal.SIGTERM)
    old.sql("UPDATE jobs SET state = 'running', attempt = 1, lease_owner = 'dead:1:w0', "
            "lease_expires_at = '2099-01-01T00:00:00.000Z', dispatch_started_at = NULL WHERE id = ?", (crashed,))

    before = {t: old.sql(f"SELECT count(*) AS n FROM {t}")[0]["n"]
              for t in ("payers", "invoices", "payments", "suppressions", "jobs", "delivery_events", "message_archive")}
    assert before["message_archive"] == 1
    out = old.run("db", "copy", "--from", source, "--to", target).stdout
    for table, n in before.items():
        assert re.search(rf"^{table}: {n} rows, sha256 [0-9a-f]{{16}} on both sides$", out, re.M), out
    assert "leases released: 1" in out
    assert "password" not in out
    again = old.run("db", "copy", "--from", source, "--to", target, check=False)
    assert again.returncode == 1 and f"the target schema {schema} is not empty" in again.stderr

    states = dict(sql(pg, f"SELECT id, state FROM {schema}.jobs"))
    assert states[sent] == "sent" and states[later] == "queued" and states[crashed] == "queued"
    assert sql(pg, f"SELECT attempt, lease_owner FROM {schema}.jobs WHERE id = %s", (crashed,)) == [(0, None)]
    assert sql(pg, f"SELECT balance, status FROM {schema}.invoices") == [("60.00", "open")]
    # The moved installation goes on from there: the next id follows the copied ones, and
    # a daemon on PostgreSQL sends what was left (the crashed job, the invoice's first
    # step if due), never the job already sent.
    moved = on_postgres(tmp_path, pg, schema, smtp_port=smtp.port, name="moved")
    # The evidence moves with it: the sent message's exact bytes, and the trace's hash
    # chain (sealed on SQLite, checked on PostgreSQL).
    assert moved.run("jobs", "show", str(sent), "--content").stdout == old.run("jobs", "show", str(sent), "--content").stdout
    exported = moved.run("case", "export", "INV-1", "--out", str(tmp_path / "inv-1.zip"))
    assert "chain head" in exported.stdout and "sealed event(s)" in exported.stdout, exported.stdout
    new = moved.enqueue("ACME", case="INV-4")
    assert new > max(states)
    moved.serve_until_idle()
    got = received_ids(smtp)
    assert sent not in got and crashed in got and new in got and later not in got
    assert len(got) == len(set(got))


def test_metrics_per_node_and_readyz_while_the_server_is_down(tmp_path, pg, schema, smtp):
    node = ApiServer(tmp_path / "api", smtp_port=smtp.port, extra=f"""
database:
  url: {pg['url']}?schema={schema}
""")
    node.start()
    try:
        node.put_payer("ACME")
        log = node.root / "serve.log"
        assert wait_for(lambda: "listening for enqueued jobs" in log.read_text(), 20)
        job = node.enqueue(job_body("ACME"))
        node.wait_job(job["id"], ("sent",))
        metrics = node.get("/metrics").text
        assert 'relance_db_pool_connections{state="size"} 10' in metrics, metrics
        assert re.search(r"^relance_claimed_jobs_total \d+", metrics, re.M), metrics
        assert re.search(r"^relance_notify_lag_seconds_count [1-9]", metrics, re.M), metrics
        assert node.get("/readyz", token=None).status_code == 200
        pgcluster.halt(pg["dir"])
        try:
            started = time.monotonic()
            assert wait_for(lambda: node.get("/readyz", token=None).status_code == 503, 15)
            assert time.monotonic() - started < 8
            assert node.get("/healthz").status_code == 200  # the process lives on
            refused = node.post("/v1/jobs", job_body("ACME"), timeout=30)
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"]["code"] == "unavailable" and refused.headers["Retry-After"] == "5"
        finally:
            pgcluster.resume(pg["dir"])
        assert wait_for(lambda: node.get("/readyz", token=None).status_code == 200, 30)
        again = node.enqueue(job_body("ACME"))
        node.wait_job(again["id"], ("sent",), timeout=30)
        assert sorted(received_ids(smtp)) == sorted([job["id"], again["id"]])
    finally:
        node.stop()


def test_connection_failures_are_told_at_once_with_their_reason(tmp_path, pg):
    port = pg["url"].split(":")[-1].split("/")[0]
    cases = [
        (f"postgres://relance@127.0.0.1:1/relance", "Connection refused"),
        (f"postgres://relance@127.0.0.1:{port}/nodb", 'database "nodb" does not exist'),
        (f"postgres://nobody@127.0.0.1:{port}/relance", 'role "nobody" does not exist'),
        (f"postgres://relance@127.0.0.1:{port}/relance?sslmode=require", "does not offer TLS"),
    ]
    for url, reason in cases:
        r = Relance(tmp_path / f"c{cases.index((url, reason))}", extra=f"database:\n  url: {url}\n")
        started = time.monotonic()
        out = r.run("migrate", check=False)
        assert out.returncode == 1, out
        assert reason.lower() in (out.stderr + out.stdout).lower(), (url, out.stderr)
        assert time.monotonic() - started < 15, (url, time.monotonic() - started)


def test_config_check_refuses_a_missing_ca_file_and_a_bad_port_and_names_the_variable(tmp_path, pg):
    r = Relance(tmp_path)
    bad = [
        ("RELANCE_DATABASE_URL", "postgres://u@127.0.0.1:99999/r", "port 99999 is outside 1…65535"),
        ("RELANCE_DATABASE_URL", "postgres://u@db.example.com/r?sslmode=verify-full&sslrootcert=/nonexistent.pem",
         "sslrootcert /nonexistent.pem is not a readable file"),
    ]
    for variable, value, message in bad:
        env = dict(os.environ, RELANCE_CONFIG=str(r.config), **{variable: value})
        out = subprocess.run([os.environ.get("RELANCE_BIN", str(REPO / ".build/debug/relance")), "config", "check"],
                             env=env, capture_output=True, text=True)
        assert out.returncode == 1 and message in out.stderr, out.stderr
    two_lines = tmp_path / "pw"
    two_lines.write_text("a\nb\n")
    env = dict(os.environ, RELANCE_CONFIG=str(r.config), RELANCE_DATABASE_URL=pg["url"],
               RELANCE_DATABASE_PASSWORD_FILE=str(two_lines))
    out = subprocess.run([os.environ.get("RELANCE_BIN", str(REPO / ".build/debug/relance")), "config", "check"],
                         env=env, capture_output=True, text=True)
    assert "RELANCE_DATABASE_PASSWORD_FILE (environment): database.password_file:" in out.stderr, out.stderr
    assert "holds more than one line" in out.stderr


def test_enqueue_by_sql_refuses_what_no_door_accepts(tmp_path, pg, schema):
    r = on_postgres(tmp_path, pg, schema)
    r.run("migrate")
    data = (REPO / "Templates" / "samples" / "reminder-1.json").read_text()
    refused = [
        (f"SELECT {schema}.enqueue('P', 'email', 'reminder-1', %s::jsonb, 'infinity')",
         psycopg.errors.DatetimeFieldOverflow, "is not an instant of the years 1970 to 2999"),
        (f"SELECT {schema}.enqueue('P', 'email', 'reminder-1', %s::jsonb, '9999-12-31')",
         psycopg.errors.DatetimeFieldOverflow, "is not an instant of the years 1970 to 2999"),
        (f"SELECT {schema}.enqueue('P', 'email', 'reminder-1', %s::jsonb, NULL, '')",
         psycopg.errors.InvalidParameterValue, "an empty idempotency_key"),
        (f"INSERT INTO {schema}.jobs(payer_ref, channel, template, data, run_at) VALUES ('P', 'email', 'x', %s, '-infinity')",
         psycopg.errors.CheckViolation, "jobs_run_at_check"),
        (f"INSERT INTO {schema}.jobs(payer_ref, channel, template, data, idempotency_key) VALUES ('P', 'email', 'x', %s, '')",
         psycopg.errors.CheckViolation, "jobs_idempotency_key_check"),
    ]
    for query, error, message in refused:
        with pytest.raises(error, match=message):
            sql(pg, query, (data,))
    huge = '{"pad": "' + "x" * 300_000 + '"}'
    with pytest.raises(psycopg.errors.StringDataRightTruncation, match="more than the 262144 allowed"):
        sql(pg, f"SELECT {schema}.enqueue('P', 'email', 'reminder-1', %s::jsonb)", (huge,))
    with pytest.raises(psycopg.errors.CheckViolation, match="jobs_data_check"):
        sql(pg, f"INSERT INTO {schema}.jobs(payer_ref, channel, template, data) VALUES ('P', 'email', 'x', %s)", (huge,))
    assert sql(pg, f"SELECT count(*) FROM {schema}.jobs") == [(0,)]


def test_a_line_break_in_a_payer_name_written_by_sql_never_starts_a_line(tmp_path, pg, schema, smtp):
    r = on_postgres(tmp_path, pg, schema, smtp_port=smtp.port)
    r.run("migrate")
    sql(pg, f"INSERT INTO {schema}.payers(ref, name, email) VALUES ('EVIL', %s, 'n@b.example')",
        ("Evil\r\nBcc: attacker@evil.example",))
    r.enqueue("EVIL")
    r.serve_until_idle()
    [message] = smtp.parsed()
    assert "attacker" not in message["Bcc"] if message["Bcc"] else True
    for part in message.walk():
        if part.get_content_maintype() == "text":
            text = part.get_content()
            assert not re.search(r"^\s*Bcc:", text, re.M), text[:400]
            assert "Evil Bcc: attacker@evil.example" in text or "Evil  Bcc: attacker@evil.example" in text


def make_ca(folder, name):
    """A CA and a server certificate for 127.0.0.1 signed by it (openssl)."""
    folder.mkdir(parents=True, exist_ok=True)
    run = lambda *a: subprocess.run(["openssl", *a], cwd=folder, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", f"/CN={name} test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
        "server.crt", "-days", "2", "-extfile", "san.ext")
    return folder


def test_tls_to_the_server_is_verified_against_the_given_ca(tmp_path):
    good = make_ca(tmp_path / "good", "Relance")
    other = make_ca(tmp_path / "other", "Someone else")
    cluster = tempfile.mkdtemp(prefix="relance-pg-tls-")
    try:
        url = pgcluster.start(cluster, tls=(str(good / "server.crt"), str(good / "server.key")))
        port = url.split(":")[-1].split("/")[0]
        base = f"postgres://relance@127.0.0.1:{port}/relance"
        r = Relance(tmp_path / "ok", extra=f"database:\n  url: {base}?sslmode=verify-full&sslrootcert={good / 'ca.pem'}\n")
        assert "applied" in r.run("migrate").stdout
        doctor = r.run("doctor", check=False).stdout
        assert re.search(r"ok   postgresql tls: TLSv1\.[23] \S+, certificate verified", doctor), doctor
        # A certificate from another CA is refused, whatever sslmode asks TLS.
        for mode in ("require", "verify-full"):
            bad = Relance(tmp_path / f"bad-{mode}",
                          extra=f"database:\n  url: {base}?sslmode={mode}&sslrootcert={other / 'ca.pem'}\n")
            out = bad.run("migrate", check=False)
            assert out.returncode == 1, out
            assert "certificate" in out.stderr.lower() or "tls" in out.stderr.lower(), out.stderr
    finally:
        pgcluster.stop(cluster)


def test_a_unix_socket_connection(tmp_path, pg, schema):
    port = pg["url"].split(":")[-1].split("/")[0]
    r = Relance(tmp_path, extra=f"database:\n  url: postgres://relance@:{port}/relance?host={pg['dir']}&schema={schema}\n")
    assert "applied" in r.run("migrate").stdout
    doctor = r.run("doctor", check=False).stdout
    assert f"ok   database: postgres://relance@/relance?host={pg['dir']} is writable" in doctor, doctor


def test_a_job_claimed_but_not_sent_when_the_store_fails_is_given_back_at_once(tmp_path, pg, schema, smtp):
    """The store fails between the claim and the dispatch (here: the first `dispatching`
    mark takes longer than query_timeout): nothing was sent, so the worker gives the job
    back as soon as the store answers, instead of leaving it to its lease (10 s here)."""
    r = Relance(tmp_path, smtp_port=smtp.port,
                extra=f"database:\n  url: {pg['url']}?schema={schema}&query_timeout=2\n")
    r.run("migrate")
    r.payer("P-1", "Dupont & Fils", "fr-FR", "compta@dupont.example")
    sql(pg, f"""
        CREATE SEQUENCE {schema}.slow_once;  -- nextval is not rolled back with the statement
        CREATE FUNCTION {schema}.slow_once() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.dispatch_started_at IS NOT NULL AND nextval('{schema}.slow_once') = 1 THEN
            PERFORM pg_sleep(4);
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER slow_once BEFORE UPDATE OF dispatch_started_at ON {schema}.jobs
          FOR EACH ROW EXECUTE FUNCTION {schema}.slow_once();
    """)
    job = r.enqueue("P-1")
    started = time.monotonic()
    r.serve_until_idle(timeout=60)
    took = time.monotonic() - started
    assert received_ids(smtp) == [job]
    assert sql(pg, f"SELECT state, attempt FROM {schema}.jobs") == [("sent", 1)]
    events = sql(pg, f"SELECT event, detail::json->>'reason' FROM {schema}.delivery_events WHERE job_id = %s ORDER BY id",
                 (job,))
    assert ("deferred", "store error before dispatch") in events, events
    assert took < 10, f"{took:.1f} s: the job waited for its lease"
