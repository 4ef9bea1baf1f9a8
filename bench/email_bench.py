#!/usr/bin/env python3
"""End-to-end e-mail benchmark (make bench).

Sends N e-mail jobs through the real daemon — claim, render, MIME, SMTP into Postfix
smtp-sink, state and trace written to SQLite — and, in the same run, measures Postfix
smtp-source's raw rate into the same kind of sink with the same number of connections
and the same message size. Prints the figures; nothing here is timed in a test.
"""

import argparse
import json
import os
import pathlib
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
BIN = os.environ.get("RELANCE_BIN", str(REPO / ".build/release/relance"))
# A command to run the daemon under, for profiling: BENCH_WRAP="perf record -g -o /tmp/p.data".
WRAP = os.environ.get("BENCH_WRAP", "").split()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sink(port):
    cmd = ["smtp-sink"]
    if os.geteuid() == 0:
        cmd += ["-u", "nobody"]
    cmd += [f"127.0.0.1:{port}", "1024"]
    sink = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return sink
        except OSError:
            time.sleep(0.05)
    sink.kill()
    sys.exit("smtp-sink did not start")


def timed(cmd, **kwargs):
    """Runs cmd; returns (seconds, peak RSS in MiB, returncode); the CPU seconds it used
    (user + system, children included) are in timed.cpu."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, **kwargs)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    timed.cpu = usage.ru_utime + usage.ru_stime
    return elapsed, usage.ru_maxrss / 1024, proc.returncode


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=20000)
    # 16 connections: each SMTP transfer waits on four round trips to the sink, and 16
    # keep both cores busy where 8 left a fifth of them idle (docs/PERFORMANCE.md).
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--log-level", default="info")
    # PostgreSQL instead of SQLite (a URL with a schema of its own: it is dropped first).
    parser.add_argument("--database-url")
    # Daemons sending the same queue at once (separate processes, each --until-idle).
    parser.add_argument("--daemons", type=int, default=1)
    parser.add_argument("--skip-raw", action="store_true", help="skip the smtp-source baseline")
    # Jobs scheduled a year ahead, inserted before the run: the claim's cost must not grow with them.
    parser.add_argument("--future-jobs", type=int, default=0)
    # DKIM signatures on every message (docs/EMAIL.md): none, ed25519, rsa or both.
    parser.add_argument("--dkim", choices=["none", "ed25519", "rsa", "both"], default="none")
    # A VERP envelope sender per message (email.bounce_address).
    parser.add_argument("--verp", action="store_true")
    args = parser.parse_args()

    work = pathlib.Path(tempfile.mkdtemp(prefix="relance-bench-"))
    try:
        # 1. Postfix smtp-source: the raw rate of the same sink, same connections.
        sample = json.loads((REPO / "Templates/samples/reminder-1.json").read_text())
        size = 8000  # about the size of a rendered reminder-1 (text + HTML, QP-encoded)
        raw_seconds = None
        if not args.skip_raw:
            port = free_port()
            sink = start_sink(port)
            raw_seconds, _, rc = timed(
                ["smtp-source", "-d", "-s", str(args.concurrency), "-m", str(args.jobs), "-l", str(size),
                 "-f", "relances@bench.example", "-t", "payer@bench.example", f"127.0.0.1:{port}"],
                stdout=subprocess.DEVNULL)
            sink.kill()
            sink.wait()
            if rc != 0:
                sys.exit(f"smtp-source failed ({rc})")
        database = ""
        if args.database_url:
            import psycopg
            schema = dict(p.split("=", 1) for p in args.database_url.split("?", 1)[1].split("&"))["schema"]
            with psycopg.connect(args.database_url.split("?")[0], autocommit=True) as db:
                db.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            database = f"database:\n  url: {args.database_url}\n"

        # 2. Relance end to end into a fresh sink.
        port = free_port()
        sink = start_sink(port)
        config = work / "relance.yaml"
        config.write_text(f"""
state_directory: {work}/state
templates:
  directory: {REPO / 'Templates'}
email:
  from: relances@bench.example
smtp:
  host: 127.0.0.1
  port: {port}
  security: none
dispatcher:
  concurrency: {args.concurrency}
  batch_size: {args.batch}
  poll_interval: 0.05
log:
  level: {args.log_level}
api:
  enabled: false
""" + database)
        env = dict(os.environ, RELANCE_CONFIG=str(config))
        run = lambda *a, **k: subprocess.run([BIN, *a], env=env, check=True, capture_output=True, text=True, **k)
        extra = ""
        if args.dkim != "none":
            extra += "  dkim:\n"
            for algorithm in (["ed25519", "rsa"] if args.dkim == "both" else [args.dkim]):
                key = work / f"{algorithm}.key"
                run("dkim", "keygen", "--selector", f"bench-{algorithm}", "--domain", "bench.example",
                    "--algorithm", algorithm, "--key-file", str(key))
                extra += f"    {algorithm}:\n      selector: bench-{algorithm}\n      key_file: {key}\n"
        if args.verp:
            (work / "bounce-secret").write_text("bench-bounce-secret-0123456789\n")
            extra += f"  bounce_address: bounces@bounce.bench.example\n  bounce_secret_file: {work}/bounce-secret\n"
        if extra:
            config.write_text(config.read_text().replace("email:\n", "email:\n" + extra, 1))
        run("migrate")
        run("payer", "upsert", "--ref", "P", "--name", "Boulangerie Martin", "--locale", "fr-FR",
            "--email", "compta@martin.example.fr")
        lines = "\n".join(json.dumps({"payer_ref": "P", "template": "reminder-1", "channel": "email",
                                      "case_ref": f"C-{i}", "data": sample}) for i in range(args.jobs))
        t0 = time.monotonic()
        run("enqueue", "--stdin", input=lines)
        enqueue_seconds = time.monotonic() - t0
        if args.future_jobs:
            data = json.dumps(sample)
            if args.database_url:
                with psycopg.connect(args.database_url.split("?")[0], autocommit=True) as db:
                    db.execute(f"INSERT INTO {schema}.jobs(payer_ref, channel, template, data, run_at) "
                               "SELECT 'P', 'email', 'reminder-1', %s, now() + interval '365 days' "
                               "FROM generate_series(1, %s)", (data, args.future_jobs))
                    # As a queue filled over months would be: vacuumed and analysed, so that
                    # autovacuum does not run into the measurement.
                    db.execute(f"VACUUM ANALYZE {schema}.jobs")
                    db.execute(f"VACUUM ANALYZE {schema}.delivery_events")
            else:
                db = sqlite3.connect(work / "state/relance.sqlite")
                db.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
                           "INSERT INTO jobs(payer_ref, channel, template, data, run_at) "
                           "SELECT 'P', 'email', 'reminder-1', ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+365 days') "
                           "FROM n", (args.future_jobs, data))
                db.commit()
                db.close()
        log = open(work / "serve.log", "wb")
        if args.daemons == 1:
            seconds, rss, rc = timed(WRAP + [BIN, "serve", "--until-idle"], env=env, stdout=log,
                                     stderr=subprocess.STDOUT)
            cpu = timed.cpu
        else:
            # Several daemons at once: the time until the last one is idle; CPU and RSS summed.
            start = time.monotonic()
            procs = [subprocess.Popen([BIN, "serve", "--until-idle"], env=env, stdout=log, stderr=subprocess.STDOUT)
                     for _ in range(args.daemons)]
            cpu, rss, rc = 0.0, 0.0, 0
            for proc in procs:
                _, status, usage = os.wait4(proc.pid, 0)
                rc = rc or os.waitstatus_to_exitcode(status)
                cpu += usage.ru_utime + usage.ru_stime
                rss += usage.ru_maxrss / 1024
            seconds = time.monotonic() - start
        sink.kill()
        sink.wait()
        if rc != 0:
            sys.exit(f"relance serve failed ({rc}); see {work}/serve.log")
        if args.database_url:
            with psycopg.connect(args.database_url.split("?")[0], autocommit=True) as db:
                states = dict(db.execute(f"SELECT state, count(*) FROM {schema}.jobs GROUP BY state").fetchall())
                events = db.execute(f"SELECT count(*) FROM {schema}.delivery_events").fetchone()[0]
                db.execute(f"DROP SCHEMA {schema} CASCADE")
        else:
            db = sqlite3.connect(work / "state/relance.sqlite")
            states = dict(db.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())
            events = db.execute("SELECT count(*) FROM delivery_events").fetchone()[0]
        if args.future_jobs:
            states.pop("queued", None)
        if states != {"sent": args.jobs}:
            sys.exit(f"not every job was sent: {states}")
        log_lines = sum(1 for _ in open(work / "serve.log", "rb"))

        where = "PostgreSQL" if args.database_url else "SQLite"
        print(f"jobs: {args.jobs}, connections: {args.concurrency}, batch: {args.batch}, log level: {args.log_level}, "
              f"database: {where}, daemons: {args.daemons}, future jobs: {args.future_jobs}, dkim: {args.dkim}, "
              f"verp: {args.verp}")
        if raw_seconds:
            print(f"postfix smtp-source raw:  {args.jobs / raw_seconds:8.0f} msg/s  ({raw_seconds:.2f} s, {size} bytes/msg)")
        print(f"relance end to end:       {args.jobs / seconds:8.0f} msg/s  ({seconds:.2f} s), peak RSS {rss:.1f} MiB")
        # The daemon's CPU per message steadies the comparison of two builds: the rate
        # also moves with what else the two cores run.
        print(f"relance CPU per message:  {cpu / args.jobs * 1e6:8.0f} µs  (user + system, {cpu / seconds:.2f} cores)")
        print(f"relance enqueue (CLI, one transaction): {args.jobs / enqueue_seconds:.0f} jobs/s")
        print(f"states: {states}, trace events: {events}, log lines: {log_lines}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
