#!/usr/bin/env python3
"""Recording peers for the chaos harness, each run as a process of its own so that it
can be killed:

  peers.py smtp --port P --record FILE --control FILE --seed S
      an aiosmtpd server: every complete message is appended to FILE as a JSON line
      and fsynced BEFORE the reply to the final '.' (or the fault) happens.
  peers.py http --port P --record FILE --control FILE --seed S
      an HTTP/1.1 server with kept-alive connections for the SMS webhook (POST /sms,
      JSON) and the print provider (POST /letters, multipart): every request read is
      appended to FILE and fsynced BEFORE it is answered (or the fault happens).

The control file is a JSON object re-read when it changes:
  {"mode": "normal" | "die" | "close" | "slow", "p": 0.1, "slow_max": 8}
  die    with odds p per message: record it, then os._exit before answering;
  close  with odds p: record it, then close the connection without answering (HTTP:
         mostly on a connection that already served a request, i.e. a kept-alive one);
  slow   with odds p: record it, then wait uniform(0, slow_max) s before answering.
Every record says which fault followed it, so a run can be read afterwards.
Listens on 127.0.0.1 only."""

import argparse
import json
import os
import random
import re
import signal
import sys
import threading
import time

JOB = re.compile(rb"^X-Relance-Job:\s*(\d+)", re.M | re.I)
CASE = re.compile(rb"^X-Relance-Case:\s*(\S+)", re.M | re.I)
MID = re.compile(rb"^Message-ID:\s*<relance\.job-(\d+)\.(\d+)@", re.M | re.I)
REFERENCE = re.compile(r"relance-(\d+)-(\d+)$")
MARKER = re.compile(r"CX\d{7}")


class Control:
    def __init__(self, path, seed):
        self.path = path
        self.mtime = None
        self.settings = {"mode": "normal"}
        self.random = random.Random(seed)
        self.lock = threading.Lock()

    def current(self):
        try:
            mtime = os.stat(self.path).st_mtime_ns
            if mtime != self.mtime:
                with open(self.path) as f:
                    self.settings = json.load(f)
                self.mtime = mtime
        except (OSError, ValueError):
            pass
        return self.settings

    def decide(self, kept_alive=True):
        """The fault for this message: ('none'|'die'|'close'|'slow', delay)."""
        s = self.current()
        mode = s.get("mode", "normal")
        with self.lock:
            roll = self.random.random()
            delay = self.random.uniform(0, float(s.get("slow_max", 5)))
            first_too = self.random.random() < 0.3
        if mode == "normal" or roll >= float(s.get("p", 0)):
            return "none", 0.0
        if mode == "close" and not kept_alive and not first_too:
            return "none", 0.0
        if mode == "slow":
            return "slow", delay
        return mode, 0.0


class Record:
    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.lock = threading.Lock()

    def write(self, entry):
        line = (json.dumps(entry, sort_keys=True) + "\n").encode()
        with self.lock:
            os.write(self.fd, line)
            os.fsync(self.fd)


# ---- SMTP -------------------------------------------------------------------------------


def run_smtp(args):
    import asyncio
    from aiosmtpd.controller import Controller

    control = Control(args.control, args.seed)
    record = Record(args.record)

    class Handler:
        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            session.host_name = hostname
            responses.insert(-1, "250-PIPELINING")
            return responses

        async def handle_DATA(self, server, session, envelope):
            raw = envelope.original_content or b""
            head = raw.split(b"\r\n\r\n", 1)[0]
            job, mid, case = JOB.search(head), MID.search(head), CASE.search(head)
            fault, delay = control.decide()
            record.write({
                "t": time.time(), "peer": "aiosmtpd", "pid": os.getpid(),
                "job": int(job.group(1)) if job else None,
                "mid_job": int(mid.group(1)) if mid else None,
                "attempt": int(mid.group(2)) if mid else None,
                "case": case.group(1).decode() if case else None,
                "fault": fault if fault != "slow" else "slow:%.2f" % delay,
            })
            if fault == "die":
                os._exit(3)
            if fault == "close":
                if control.random.random() < 0.5:
                    server.transport.abort()
                else:
                    server.transport.close()
                await asyncio.sleep(3600)  # cancelled when the connection is lost
            if fault == "slow":
                await asyncio.sleep(delay)
            return "250 2.0.0 Ok: queued"

    controller = Controller(Handler(), hostname="127.0.0.1", port=args.port, data_size_limit=20_000_000)
    controller.start()
    print("smtp peer ready on", args.port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1):
        pass
    controller.stop()


# ---- HTTP -------------------------------------------------------------------------------


def parse_manifest(content_type, body):
    import email
    import email.policy

    try:
        message = email.message_from_bytes(
            b"Content-Type: " + content_type.encode() + b"\r\nMIME-Version: 1.0\r\n\r\n" + body,
            policy=email.policy.HTTP)
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "manifest":
                return json.loads(part.get_payload(decode=True))
    except Exception:  # noqa: BLE001 - fall back to a regex below
        pass
    m = re.search(rb'"job_id"\s*:\s*(\d+)', body)
    a = re.search(rb'"attempt"\s*:\s*(\d+)', body)
    c = re.search(rb'"case_ref"\s*:\s*"([^"]*)"', body)
    if m:
        return {"job_id": int(m.group(1)), "attempt": int(a.group(1)) if a else None,
                "case_ref": c.group(1).decode() if c else None, "fallback": True}
    return None


def run_http(args):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    control = Control(args.control, args.seed)
    record = Record(args.record)
    counter = {"n": 0}
    counter_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def read_body(self):
            """The body, and whether it came whole: a client killed while writing it leaves
            fewer bytes than its Content-Length (or a chunked body without its last chunk),
            which no server takes for a request."""
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                try:
                    while True:
                        line = self.rfile.readline()
                        if not line:
                            return b"".join(chunks), False
                        size = int(line.split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks), True
                        chunk = self.rfile.read(size)
                        chunks.append(chunk)
                        if len(chunk) < size:
                            return b"".join(chunks), False
                        self.rfile.readline()
                except (ValueError, OSError):
                    return b"".join(chunks), False
            expected = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(expected)
            return body, len(body) == expected

        def do_POST(self):
            self.served = getattr(self, "served", 0) + 1
            body, whole = self.read_body()
            entry = {"t": time.time(), "peer": "http", "pid": os.getpid(), "path": self.path,
                     "conn_request": self.served}
            if not whole:
                # Cut off while the client wrote it (the daemon killed mid-request): kept
                # apart, never an answered request.
                entry.update(incomplete=True, bytes=len(body))
                record.write(entry)
                self.close_connection = True
                return
            if self.path.startswith("/sms"):
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {}
                ref = REFERENCE.search(str(payload.get("reference", "")))
                marker = MARKER.search(str(payload.get("text", "")))
                entry.update(kind="sms", job=int(ref.group(1)) if ref else None,
                             attempt=int(ref.group(2)) if ref else None,
                             marker=marker.group(0) if marker else None)
            else:
                manifest = parse_manifest(self.headers.get("Content-Type", ""), body) or {}
                entry.update(kind="letter", job=manifest.get("job_id"), attempt=manifest.get("attempt"),
                             case=manifest.get("case_ref"))
            fault, delay = control.decide(kept_alive=self.served > 1)
            entry["fault"] = fault if fault != "slow" else "slow:%.2f" % delay
            record.write(entry)
            if fault == "die":
                os._exit(3)
            if fault == "close":
                self.close_connection = True
                return
            if fault == "slow":
                time.sleep(delay)
            with counter_lock:
                counter["n"] += 1
                n = counter["n"]
            answer = json.dumps({"id": "peer-%d-%d" % (os.getpid(), n)}).encode()
            try:
                self.send_response(200 if self.path.startswith("/sms") else 201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:
                self.close_connection = True

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 64

    server = Server(("127.0.0.1", args.port), Handler)
    print("http peer ready on", args.port, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever(poll_interval=0.2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["smtp", "http"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--control", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    (run_smtp if args.kind == "smtp" else run_http)(args)


if __name__ == "__main__":
    sys.exit(main())
