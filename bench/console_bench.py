#!/usr/bin/env python3
"""The web console with a large installation (make bench; docs/PERFORMANCE.md, "Console").

Seeds a SQLite database with 100,000 payers, 200,000 invoices and 1,000,000 jobs (most of
them finished over the last 60 days, some queued months ahead, a few needing a person),
each with its `enqueued` trace event, then starts the daemon with the console and times
the overview and a payer's page as a signed-in admin (the goal: each under 200 ms).
Prints the figures; nothing here is timed in a test.
"""

import argparse
import datetime
import os
import pathlib
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

import requests

REPO = pathlib.Path(__file__).resolve().parents[1]
BIN = os.environ.get("RELANCE_BIN", str(REPO / ".build/release/relance"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def seed(db_path, payers, jobs, rng):
    now = datetime.datetime.now(datetime.timezone.utc)
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA synchronous = OFF")
    db.executemany(
        "INSERT INTO payers(ref, name, locale, email, channels) VALUES (?, ?, 'fr-FR', ?, '[\"email\"]')",
        ((f"P{n:06d}", f"Payeur {n} SARL", f"compta{n}@example.fr") for n in range(payers)))
    invoices = []
    for n in range(payers):
        for k in range(2):
            due = (now + datetime.timedelta(days=rng.randint(-200, 30))).date().isoformat()
            paid = rng.random() < 0.7
            amount = f"{rng.randint(100, 500000) / 100:.2f}"
            invoices.append((f"F-{n:06d}-{k}", f"P{n:06d}", "standard", "EUR", amount, "0.00" if paid else amount,
                             "2026-01-01", due, "paid" if paid else "open"))
    db.executemany(
        "INSERT INTO invoices(ref, payer_ref, scenario, currency, amount, balance, issue_date, due_date, status) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", invoices)
    states = ["sent"] * 60 + ["delivered"] * 25 + ["cancelled"] * 5 + ["failed", "dead", "uncertain"] + ["queued"] * 7

    def rows():
        for i in range(jobs):
            n = rng.randrange(payers)
            state = rng.choice(states)
            created = now - datetime.timedelta(seconds=rng.randint(0, 60 * 86400))
            finished = None if state == "queued" else iso(created + datetime.timedelta(seconds=30))
            run_at = iso(now + datetime.timedelta(days=rng.randint(1, 180))) if state == "queued" else iso(created)
            yield (f"P{n:06d}", f"F-{n:06d}-{i % 2}", rng.choice(["email"] * 8 + ["sms", "letter"]),
                   rng.choice(["reminder-1", "reminder-2", "formal-notice", "pre-due"]), run_at, state,
                   0 if state == "queued" else 1, iso(created), iso(created), finished)
    db.executemany(
        "INSERT INTO jobs(payer_ref, case_ref, channel, template, data, run_at, state, attempt, created_at, "
        "updated_at, finished_at) VALUES (?, ?, ?, ?, '{}', ?, ?, ?, ?, ?, ?)", rows())
    # The trace's chain is not what is measured here: the seeded events count as sealed.
    db.execute("UPDATE delivery_events SET chain_prev = '', chain_hash = 'seed', chain_seq = id")
    db.commit()
    db.execute("ANALYZE")
    db.close()


def timings(session, url, runs):
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        r = session.get(url, timeout=60)
        out.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, (url, r.status_code)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--payers", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    rng = random.Random(20261207)
    root = pathlib.Path(tempfile.mkdtemp(prefix="relance-console-bench-"))
    port = free_port()
    config = root / "relance.yaml"
    config.write_text(f"""
state_directory: {root / 'state'}
templates:
  directory: {REPO / 'Templates'}
api:
  enabled: false
console:
  listen: 127.0.0.1:{port}
  users_file: {root / 'users'}
""")
    env = dict(os.environ, RELANCE_CONFIG=str(config))
    subprocess.run([BIN, "console", "user", "add", "bench", "--role", "admin", "--file", str(root / "users"),
                    "--password-stdin"], input="bench-password-1\n", text=True, check=True, env=env,
                   capture_output=True)
    subprocess.run([BIN, "migrate"], check=True, env=env, capture_output=True)
    started = time.monotonic()
    seed(root / "state" / "relance.sqlite", args.payers, args.jobs, rng)
    print(f"seeded {args.payers} payers, {2 * args.payers} invoices, {args.jobs} jobs in "
          f"{time.monotonic() - started:.0f} s")
    log = open(root / "serve.log", "wb")
    daemon = subprocess.Popen([BIN, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        session = requests.Session()
        deadline = time.monotonic() + 60
        while True:
            try:
                page = session.get(base + "/login", timeout=5)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    sys.exit("the console did not start")
                time.sleep(0.2)
        token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
        time.sleep(3)  # someone typing a name and a password
        r = session.post(base + "/login", data={"login_token": token, "name": "bench",
                                                "password": "bench-password-1", "next": "/payers"}, timeout=30)
        assert r.status_code == 200 and "Payers" in r.text, r.status_code
        # The sign-in page starts counting the many rows (messages over 30 days, balances
        # by age, the steps' effect); the overviews reuse those counts for a minute, then
        # refresh them in the background.
        first = timings(session, base + "/", 1)
        figures = {
            "overview, first": first,
            "overview": timings(session, base + "/", args.runs),
            "payer page": timings(session, base + f"/payers/P{args.payers // 2:06d}", args.runs),
            "payer search (name)": timings(session, base + "/payers?q=Payeur+4242+SARL", args.runs),
            "jobs, uncertain": timings(session, base + "/jobs?state=uncertain", args.runs),
        }
        rss = int(re.search(r"VmHWM:\s+(\d+)", pathlib.Path(f"/proc/{daemon.pid}/status").read_text()).group(1))
        for name, values in figures.items():
            values.sort()
            print(f"{name:22s} median {statistics.median(values):7.1f} ms   "
                  f"p90 {values[int(len(values) * 0.9) - 1]:7.1f} ms   max {values[-1]:7.1f} ms   ({len(values)} runs)")
        print(f"daemon peak RSS {rss / 1024:.1f} MiB")
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)


if __name__ == "__main__":
    main()
