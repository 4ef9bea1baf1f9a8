#!/usr/bin/env python3
"""Letters benchmark (make bench): 1-page and 3-page letters end to end — claim,
render the template, lay out and write the PDF with Cairo + Pango, spool it with its
manifest, state and trace in SQLite — beside the bare rendering rate of the same
letter measured in the same run (`relance-bench --repeat`, one thread). Nothing here
is timed in a test."""

import argparse
import json
import os
import pathlib
import re
import sqlite3
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
BIN = os.environ.get("RELANCE_BIN", str(REPO / ".build/release/relance"))
# The composition alone, timed on one thread (bench/Sources/relance-bench).
BENCH = str(pathlib.Path(BIN).with_name("relance-bench"))
# A command to run the daemon under, for profiling: BENCH_WRAP="perf record -g -o /tmp/p.data".
WRAP = os.environ.get("BENCH_WRAP", "").split()


def data(invoices):
    sample = json.loads((REPO / "Templates/samples/reminder-2.json").read_text())
    if invoices > len(sample["invoices"]):
        sample["invoices"] = [
            {"number": f"F-2026-{i:04d}", "issue_date": "2026-08-01", "due_date": "2026-09-01",
             "amount": {"amount": "120.00", "currency": "EUR"}, "balance": {"amount": "120.00", "currency": "EUR"}}
            for i in range(invoices)]
        sample["total_due"] = {"amount": f"{120 * invoices}.00", "currency": "EUR"}
    return sample


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--only", choices=["1-page", "3-page"], help="run one of the two letter sizes")
    args = parser.parse_args()
    for label, invoices in (("1-page", 2), ("3-page", 48)):
        if args.only and label != args.only:
            continue
        work = pathlib.Path(tempfile.mkdtemp(prefix="relance-letter-bench-"))
        config = work / "relance.yaml"
        config.write_text(f"""
state_directory: {work}/state
templates:
  directory: {REPO / 'Templates'}
creditor:
  name: Lumen Conseil SAS
  address: ["12 rue des Tanneurs", "69002 Lyon"]
  phone: "+33 4 72 00 00 00"
dispatcher:
  concurrency: {args.concurrency}
  batch_size: 8
  poll_interval: 0.05
api:
  enabled: false
""")
        env = dict(os.environ, RELANCE_CONFIG=str(config))
        run = lambda *a, **k: subprocess.run([BIN, *a], env=env, check=True, capture_output=True, text=True, **k)
        run("migrate")
        run("payer", "upsert", "--ref", "P", "--name", "Boulangerie Martin", "--channels", "letter",
            "--address-line", "3 place Bellecour", "--address-line", "69002 Lyon")
        payload = json.dumps(data(invoices))
        bare = subprocess.run([BENCH, "--payer", "P", "--template", "reminder-2", "--channel", "letter",
                               "--data", payload, "--repeat", "300"],
                              env=env, check=True, capture_output=True, text=True).stdout
        bare_rate = float(re.search(r"(\d+) letters/s", bare).group(1))
        pages = int(re.search(r"of (\d+) page", bare).group(1))
        lines = "\n".join(json.dumps({"payer_ref": "P", "template": "reminder-2", "channel": "letter",
                                      "case_ref": f"C-{i}", "data": json.loads(payload)}) for i in range(args.jobs))
        run("enqueue", "--stdin", input=lines)
        start = time.monotonic()
        proc = subprocess.Popen(WRAP + [BIN, "serve", "--until-idle"], env=env,
                                stdout=open(work / "serve.log", "wb"), stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - start
        cpu = usage.ru_utime + usage.ru_stime
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"serve failed; see {work}/serve.log")
        db = sqlite3.connect(work / "state/relance.sqlite")
        states = dict(db.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())
        page_counts = dict(db.execute(
            "SELECT json_extract(detail, '$.pages'), count(*) FROM delivery_events WHERE event = 'accepted' GROUP BY 1"
        ).fetchall())
        spooled = len(list((work / "state/spool").glob("*.pdf")))
        if states != {"sent": args.jobs}:
            sys.exit(f"not every letter was sent: {states}; see {work}")
        print(f"{label} letters ({pages} page(s), {invoices} invoices): {args.jobs} jobs, {args.concurrency} workers")
        print(f"  bare render (relance-bench --repeat 300, one thread) : {bare_rate:6.0f} letters/s")
        print(f"  end to end (claim, render, PDF, spool, trace):         {args.jobs / seconds:6.0f} letters/s"
              f"  ({seconds:.2f} s), pages per letter {page_counts}, PDFs spooled {spooled}")
        print(f"  daemon CPU per letter (user + system):                 {cpu / args.jobs * 1e3:6.2f} ms"
              f"  ({usage.ru_utime / args.jobs * 1e3:.2f} user, {usage.ru_stime / args.jobs * 1e3:.2f} system;"
              f" {cpu / seconds:.2f} cores)")


if __name__ == "__main__":
    main()
