#!/usr/bin/env python3
"""End-to-end SMS benchmark (make bench).

Sends N SMS jobs through the real daemon — claim, render, GSM-7 preparation, HTTP
to Kannel's smsbox (bearerbox + fakesmsc behind it), state and trace written to
SQLite — and prints the rate. With --dlr the daemon's HTTP API also takes Kannel's
delivery reports during the run (every job then ends `delivered`). Nothing here is
timed in a test.
"""

import argparse
import json
import os
import pathlib
import sqlite3
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "IntegrationTests"))
from kannel import Kannel  # noqa: E402  (the same real Kannel as the tests)
from conftest import free_port  # noqa: E402

BIN = os.environ.get("RELANCE_BIN", str(REPO / ".build/release/relance"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--dlr", action="store_true", help="ask for delivery reports and take them on the API")
    args = parser.parse_args()

    work = pathlib.Path(tempfile.mkdtemp(prefix="relance-sms-bench-"))
    kannel = Kannel(work / "kannel").start()
    try:
        (work / "kannel.pw").write_text(kannel.password)
        (work / "callback.secret").write_text("bench-callback-secret-0123456789")
        (work / "tokens").write_text("ops admin bench-admin-token-0123456789\n")
        port = free_port()
        callbacks = f"""
  callback_base_url: http://127.0.0.1:{port}
  callback_secret_file: {work}/callback.secret""" if args.dlr else ""
        config = work / "relance.yaml"
        config.write_text(f"""
state_directory: {work}/state
templates:
  directory: {REPO / 'Templates'}
creditor:
  name: Lumen Conseil SAS
  phone: "+33 4 72 00 00 00"
dispatcher:
  concurrency: {args.concurrency}
  batch_size: {args.batch}
  poll_interval: 0.05
sms:
  transport: kannel
  sender: Relance
  rate: none{callbacks}
  kannel:
    url: {kannel.url}
    username: {kannel.username}
    password_file: {work}/kannel.pw
windows:
  sms:
    days: all
    hours: ["00:00-24:00"]
    holidays: none
api:
  enabled: {'true' if args.dlr else 'false'}
  listen: 127.0.0.1:{port}
  tokens_file: {work}/tokens
""")
        env = dict(os.environ, RELANCE_CONFIG=str(config))
        run = lambda *a, **k: subprocess.run([BIN, *a], env=env, check=True, capture_output=True, text=True, **k)
        run("payer", "upsert", "--ref", "P", "--name", "Plomberie Dupont", "--locale", "fr-FR",
            "--phone", "06 12 34 56 78", "--channels", "sms")
        sample = json.loads((REPO / "Templates/samples/reminder-1.json").read_text())
        lines = "\n".join(json.dumps({"payer_ref": "P", "template": "reminder-1", "channel": "sms",
                                      "case_ref": f"C-{i}", "data": sample}) for i in range(args.jobs))
        run("enqueue", "--stdin", input=lines)
        db_path = work / "state/relance.sqlite"
        log = open(work / "serve.log", "wb")
        start = time.monotonic()
        daemon = subprocess.Popen([BIN, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        target = "delivered" if args.dlr else "sent"
        deadline = start + 600
        states = {}
        while time.monotonic() < deadline:
            with sqlite3.connect(db_path, timeout=30) as db:
                states = dict(db.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())
            if states.get(target, 0) == args.jobs:
                break
            if daemon.poll() is not None:
                break
            time.sleep(0.05)
        seconds = time.monotonic() - start
        daemon.terminate()
        daemon.wait(timeout=60)
        with sqlite3.connect(db_path) as db:
            events = db.execute("SELECT count(*) FROM delivery_events").fetchone()[0]
            segments = db.execute(
                "SELECT json_extract(detail, '$.segments'), count(*) FROM delivery_events "
                "WHERE event = 'rendered' GROUP BY 1").fetchall()
        if states.get(target, 0) != args.jobs:
            sys.exit(f"not every job reached {target}: {states}; see {work}")
        received = len(kannel.received())
        print(f"sms jobs: {args.jobs}, workers: {args.concurrency}, batch: {args.batch}, "
              f"delivery reports: {'on' if args.dlr else 'off'}")
        print(f"relance end to end into Kannel: {args.jobs / seconds:8.0f} SMS/s  ({seconds:.2f} s to all '{target}')")
        print(f"states: {states}, trace events: {events}, segments per SMS: {dict(segments)}, "
              f"fakesmsc messages (parts joined): {received}")
    finally:
        kannel.stop()


if __name__ == "__main__":
    main()
