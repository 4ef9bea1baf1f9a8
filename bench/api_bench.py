#!/usr/bin/env python3
"""HTTP API enqueue benchmark (make bench).

Starts `relance serve` with the API on a free loopback port, then drives it with
`hey` (Debian package): batches of 100 jobs as fast as 4 connections allow, and
single-job requests offered at a fixed 500 requests/s, reporting throughput and
latency percentiles; then single jobs again at 500 requests/s evenly spaced, with
bench/openloop.py (hey's workers send in bursts). Jobs are scheduled a day ahead so that the dispatcher stays idle
and only the enqueue path is measured.
"""

import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[1]
BIN = os.environ.get("RELANCE_BIN", str(REPO / ".build/release/relance"))
TOKEN = "bench-token-0123456789abcdef"


# 1,000 requests of 100 jobs (about five seconds): the rate once warm, not that of the
# first second (with 200 requests the figure moved by a fifth between runs).
BATCH_REQUESTS = 1000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hey(args):
    out = subprocess.run(["hey", *args], capture_output=True, text=True, check=True).stdout
    figures = {}
    for key, pattern in (("total", r"Total:\s+([\d.]+) secs"), ("rps", r"Requests/sec:\s+([\d.]+)"),
                         ("p50", r"50%+ in ([\d.]+) secs"), ("p99", r"99%+ in ([\d.]+) secs")):
        m = re.search(pattern, out)
        figures[key] = float(m.group(1)) if m else None
    codes = dict(re.findall(r"\[(\d{3})\]\s+(\d+) responses", out))
    figures["codes"] = codes
    return figures


def main():
    work = pathlib.Path(tempfile.mkdtemp(prefix="relance-api-bench-"))
    daemon = None
    try:
        port = free_port()
        (work / "tokens").write_text(f"bench admin {TOKEN}\n")
        config = work / "relance.yaml"
        config.write_text(f"""
state_directory: {work}/state
templates:
  directory: {REPO / 'Templates'}
log:
  level: warning
api:
  listen: 127.0.0.1:{port}
  tokens_file: {work / 'tokens'}
  openapi_file: {REPO / 'openapi.yaml'}
  max_body_bytes: 8388608
""")
        env = dict(os.environ, RELANCE_CONFIG=str(config))
        subprocess.run([BIN, "payer", "upsert", "--ref", "P", "--name", "Boulangerie Martin", "--email",
                        "compta@martin.example.fr"], env=env, check=True, capture_output=True)
        daemon = subprocess.Popen([BIN, "serve"], env=env, stdout=open(work / "serve.log", "wb"), stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit("the API did not start")
        sample = json.loads((REPO / "Templates/samples/reminder-1.json").read_text())
        job = {"payer_ref": "P", "channel": "email", "template": "reminder-1", "run_at": "2099-01-01T09:00:00Z",
               "data": sample}
        (work / "batch.json").write_text(json.dumps([job] * 100))
        (work / "single.json").write_text(json.dumps(job))
        common = ["-m", "POST", "-T", "application/json", "-H", f"Authorization: Bearer {TOKEN}"]

        batch = hey(["-n", str(BATCH_REQUESTS), "-c", "4", *common, "-D", str(work / "batch.json"), base + "/v1/jobs"])
        single = hey(["-n", "5000", "-c", "10", "-q", "50", *common, "-D", str(work / "single.json"), base + "/v1/jobs"])
        print(f"batches of 100, 4 connections: {BATCH_REQUESTS * 100 / batch['total']:.0f} jobs/s "
              f"({batch['rps']:.1f} requests/s, p50 {batch['p50'] * 1000:.1f} ms, p99 {batch['p99'] * 1000:.1f} ms), "
              f"statuses {batch['codes']}")
        print(f"single jobs offered at 500 requests/s (hey, 10 connections x 50/s, in bursts): "
              f"{single['rps']:.0f} requests/s, p50 {single['p50'] * 1000:.2f} ms, p99 {single['p99'] * 1000:.2f} ms, "
              f"statuses {single['codes']}")
        # hey's ten workers tick together: ten requests at once every 20 ms. The same
        # rate evenly spaced, latency counted from when each request was due (wrk2's way):
        steady = json.loads(subprocess.run(
            [sys.executable, str(REPO / "bench/openloop.py"), base + "/v1/jobs", "--rate", "500", "--requests", "5000",
             "--connections", "10", "--body", str(work / "single.json"), "--header", f"Authorization: Bearer {TOKEN}"],
            capture_output=True, text=True, check=True).stdout)
        print(f"single jobs offered at 500 requests/s (bench/openloop.py, evenly spaced, 10 connections): "
              f"{steady['rate']:.0f} requests/s, p50 {steady['p50_ms']:.2f} ms, p90 {steady['p90_ms']:.2f} ms, "
              f"p99 {steady['p99_ms']:.2f} ms, max {steady['max_ms']:.2f} ms, statuses {steady['statuses']}")
    finally:
        if daemon:
            daemon.terminate()
            daemon.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
