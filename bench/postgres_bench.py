#!/usr/bin/env python3
"""PostgreSQL benchmarks (make bench-postgres; figures in docs/PERFORMANCE.md).

On a throwaway cluster (IntegrationTests/pgcluster.py, fsync on: durable commits, as a
real server), in one run so that the machine's drift touches every figure alike:
  1. e-mail end to end (bench/email_bench.py, Postfix smtp-sink): SQLite, PostgreSQL with
     one daemon, PostgreSQL with two daemons, alternated, ROUNDS times;
  2. the same with a million jobs scheduled a year ahead already queued, against none;
  3. the HTTP API's batched enqueue (bench/api_bench.py) on PostgreSQL;
  4. enqueue → claimed: single jobs through the API to an idle daemon whose workers poll
     every 5 s, so that only the LISTEN/NOTIFY wake-up can explain a short delay.
Nothing here is timed in a test.
"""

import json
import os
import pathlib
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import psycopg

REPO = pathlib.Path(__file__).resolve().parents[1]
BIN = os.environ.get("RELANCE_BIN", str(REPO / ".build/release/relance"))
PY = sys.executable
sys.path.insert(0, str(REPO / "IntegrationTests"))
import pgcluster  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
TOKEN = "bench-token-0123456789abcdef"


def email(url, *args):
    env = dict(os.environ, RELANCE_BIN=BIN)
    cmd = [PY, str(REPO / "bench/email_bench.py"), "--skip-raw", *args]
    if url:
        cmd += ["--database-url", url]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"email_bench failed: {out.stdout}\n{out.stderr}")
    rate = float(re.search(r"relance end to end:\s+(\d+) msg/s", out.stdout).group(1))
    cpu = float(re.search(r"relance CPU per message:\s+(\d+) µs", out.stdout).group(1))
    return rate, cpu


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def latency(url, jobs=300):
    """Enqueue → claimed for single jobs sent one at a time to an idle daemon."""
    work = pathlib.Path(tempfile.mkdtemp(prefix="relance-latency-"))
    port = free_port()
    (work / "tokens").write_text(f"bench admin {TOKEN}\n")
    config = work / "relance.yaml"
    config.write_text(f"""
state_directory: {work}/state
templates:
  directory: {REPO / 'Templates'}
email:
  from: relances@bench.example
dispatcher:
  concurrency: 4
  poll_interval: 5
log:
  level: warning
api:
  listen: 127.0.0.1:{port}
  tokens_file: {work / 'tokens'}
database:
  url: {url}
""")
    env = dict(os.environ, RELANCE_CONFIG=str(config))
    subprocess.run([BIN, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([BIN, "payer", "upsert", "--ref", "P", "--name", "Boulangerie Martin", "--email",
                    "compta@martin.example.fr"], env=env, check=True, capture_output=True)
    daemon = subprocess.Popen([BIN, "serve"], env=env, stdout=open(work / "serve.log", "wb"), stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(6)  # past the workers' first empty claims: they sleep until woken
        sample = json.loads((REPO / "Templates/samples/reminder-1.json").read_text())
        sent = {}
        for _ in range(jobs):
            body = json.dumps({"payer_ref": "P", "channel": "email", "template": "reminder-1", "data": sample}).encode()
            request = urllib.request.Request(base + "/v1/jobs", data=body, method="POST", headers={
                "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
            t0 = time.time()
            job = json.loads(urllib.request.urlopen(request, timeout=10).read())
            sent[job["id"]] = t0
            time.sleep(0.05)
        time.sleep(1)
        schema = dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&"))["schema"]
        with psycopg.connect(url.split("?")[0], autocommit=True) as db:
            claimed = dict(db.execute(
                f"SELECT job_id, extract(epoch FROM at)::float8 FROM {schema}.delivery_events WHERE event = 'claimed'"
            ).fetchall())
            db.execute(f"DROP SCHEMA {schema} CASCADE")
        delays = sorted((claimed[i] - t0) * 1000 for i, t0 in sent.items() if i in claimed)
        return len(delays), delays[len(delays) // 2], delays[int(len(delays) * 0.95)]
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def main():
    cluster = tempfile.mkdtemp(prefix="relance-pg-bench-")
    base = pgcluster.start(cluster, fsync=True)
    try:
        url = lambda name: f"{base}?schema={name}"
        results = {"sqlite": [], "pg1": [], "pg2": []}
        for _ in range(ROUNDS):
            results["sqlite"].append(email(None))
            results["pg1"].append(email(url("bench1")))
            results["pg2"].append(email(url("bench2"), "--daemons", "2"))
        for name, label in (("sqlite", "SQLite, one daemon"), ("pg1", "PostgreSQL, one daemon"),
                            ("pg2", "PostgreSQL, two daemons")):
            rates = ", ".join(f"{r:.0f}" for r, _ in results[name])
            cpus = ", ".join(f"{c:.0f}" for _, c in results[name])
            print(f"e-mail end to end, 20,000 jobs, {label}: {rates} msg/s (CPU per message {cpus} µs)")
        ratio = statistics.mean(r for r, _ in results["pg1"]) / statistics.mean(r for r, _ in results["sqlite"])
        print(f"PostgreSQL / SQLite, one daemon: {ratio:.0%}")
        for future in (0, 1_000_000, 0, 1_000_000):
            rate, cpu = email(url("future"), "--jobs", "5000", "--future-jobs", str(future))
            print(f"e-mail end to end, 5,000 due jobs, {future:,} future jobs queued, PostgreSQL: {rate:.0f} msg/s "
                  f"(CPU per message {cpu:.0f} µs)")
        env = dict(os.environ, RELANCE_BIN=BIN, RELANCE_DATABASE_URL=url("api"))
        api = subprocess.run([PY, str(REPO / "bench/api_bench.py")], capture_output=True, text=True, env=env)
        print("HTTP API on PostgreSQL:\n" + api.stdout.strip() + (api.stderr.strip() and "\n" + api.stderr.strip()))
        n, p50, p95 = latency(url("latency"))
        print(f"enqueue (API, single jobs, 20/s) → claimed, LISTEN/NOTIFY, workers polling every 5 s: "
              f"{n} jobs, p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    finally:
        pgcluster.stop(cluster)


if __name__ == "__main__":
    main()
