#!/usr/bin/env python3
"""Fault-injection harness for Relance ("Once means once"): drives the real daemon
(`relance serve`, jobs enqueued with `relance enqueue --stdin`) against real peers
(aiosmtpd, Postfix smtp-sink, Kannel, an SMS webhook, a print provider, a print spool),
injects faults at random moments, then counts the outcomes from the peers' own records
and the database. See docs/RELIABILITY.md.

  IntegrationTests/chaos/chaos.py --jobs 30000 --minutes 25 --seed 7      # the long run (make chaos)
  IntegrationTests/chaos/chaos.py --jobs 1500 --minutes 1.25 --seed 1     # the short run (make test-chaos-short)

The last line printed is `chaos: N passed, M failed`; the exit status is 1 if any check
failed. Everything listens on 127.0.0.1; every child process is killed at the end."""

import argparse
import collections
import ctypes
import datetime
import json
import os
import pathlib
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

import kannel_peer  # noqa: E402

MARKER = re.compile(r"CX\d{7}")
SINK_JOB = re.compile(r"^X-Relance-Job:\s*(\d+)", re.M | re.I)
SINK_CASE = re.compile(r"^X-Relance-Case:\s*(\S+)", re.M | re.I)
SINK_MID = re.compile(r"^Message-ID:\s*<relance\.job-(\d+)\.(\d+)@", re.M | re.I)
KANNEL_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")
BOUNDARY = re.compile(r'boundary="?([^";\r\n]+)"?', re.I)

_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _die_with_parent():
    # PR_SET_PDEATHSIG: the child is killed if the harness thread that started it ends
    # (also when the harness itself is killed), so nothing outlives a run.
    _libc.prctl(1, signal.SIGKILL)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def now():
    return time.monotonic()


def log(*parts):
    print(time.strftime("%H:%M:%S"), *parts, flush=True)


class Stop(Exception):
    pass


# ---------------------------------------------------------------------------------------


class Harness:
    def __init__(self, args):
        self.args = args
        self.seed = args.seed
        self.rng = random.Random(self.seed)
        self.peer_rng = random.Random(self.seed * 7919 + 1)
        self.job_rng = random.Random(self.seed * 104729 + 2)
        self.a_down_until = 0
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="relance-chaos-"))
        os.chmod(self.root, 0o755)  # smtp-sink runs as nobody and writes under it
        self.children = []
        self.children_lock = threading.Lock()
        self.faults = collections.Counter()
        self.faults_lock = threading.Lock()
        self.notices = []
        self.stop_chaos = threading.Event()     # peers: faults off, supervision on
        self.shutdown = threading.Event()       # peers thread: exit
        self.peers_healthy = threading.Event()
        self.enqueue_done = threading.Event()
        self.errors = []
        self.injected = []
        self.markers = {}                      # marker -> job id (from the enqueue output)
        self.channel_of_marker = {}
        self.enqueued = 0
        self.enqueue_failures = 0
        self.tmpfs = None
        self.daemons = {}                      # name -> Popen
        self.daemon_generation = {}            # name -> configuration generation it runs
        self.stopped = set()                   # names of SIGSTOPped daemons
        self.second_until = None
        self.lockers = []
        self.config_lock = threading.Lock()
        self.variant = None
        self.data_timeout = False
        self.smtp_sink = shutil.which("smtp-sink") or (
            "/usr/sbin/smtp-sink" if os.path.exists("/usr/sbin/smtp-sink") else None)
        if args.no_smtp_sink:
            self.smtp_sink = None

    # ---- bookkeeping ----------------------------------------------------------------

    def fault(self, name, n=1):
        with self.faults_lock:
            self.faults[name] += n

    def spawn(self, args, log_path, env=None):
        out = open(log_path, "ab")
        p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True, preexec_fn=_die_with_parent, env=env)
        out.close()
        with self.children_lock:
            self.children.append(p)
        return p

    def kill_all(self):
        with self.children_lock:
            children = list(self.children)
        for p in children:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    try:
                        p.kill()
                    except ProcessLookupError:
                        pass
        for p in children:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    # ---- setup ----------------------------------------------------------------------

    def setup(self):
        a = self.args
        source = pathlib.Path(os.environ.get("RELANCE_BIN", str(REPO / ".build/debug/relance")))
        if not source.exists():
            raise SystemExit(f"chaos: no relance binary at {source} (set RELANCE_BIN or run make build)")
        bindir = self.root / "bin"
        bindir.mkdir()
        self.bin = bindir / "relance"
        shutil.copy2(source, self.bin)
        for extra in source.parent.glob("*.resources"):
            shutil.copytree(extra, bindir / extra.name, dirs_exist_ok=True)
        self.binary_sha = subprocess.run(["sha256sum", str(self.bin)], capture_output=True,
                                         text=True).stdout.split()[0]
        self.state = self.root / "state"
        self.state.mkdir()
        self.db = self.state / "relance.sqlite"
        self.spool = self.root / "spool"
        self.spool.mkdir()
        self.records = self.root / "records"
        self.records.mkdir()
        self.ports = {k: free_port() for k in ("aiosmtpd", "sink", "http")}
        self.smtp_record = self.records / "aiosmtpd.jsonl"
        self.smtp_control = self.records / "aiosmtpd.control.json"
        self.http_record = self.records / "http.jsonl"
        self.http_control = self.records / "http.control.json"
        for c in (self.smtp_control, self.http_control):
            self.write_json(c, {"mode": "normal"})
        self.sink_dir = self.records / "smtp-sink"
        self.sink_dir.mkdir()
        os.chmod(self.sink_dir, 0o777)
        self.sink_flags = []
        self.kannel = kannel_peer.Kannel(self.root / "kannel", [free_port() for _ in range(4)], self.spawn)
        self.config = self.root / "relance.yaml"
        self.smtp_timeouts = (2, 4, 3)  # connect, timeout, data_timeout
        self.lease = a.lease
        self.busy_timeout = 2
        # Is smtp.data_timeout known to this binary?
        self.data_timeout = True
        probe = self.root / "probe.yaml"
        probe.write_text(self.config_text(self.default_variant()))
        r = self.relance("config", "check", "--config", str(probe), check=False)
        if r.returncode != 0:
            self.data_timeout = False
            probe.write_text(self.config_text(self.default_variant()))
            r2 = self.relance("config", "check", "--config", str(probe), check=False)
            if r2.returncode != 0:
                raise SystemExit(f"chaos: config check refuses the harness's configuration:\n{r2.stderr}")
            self.notices.append("smtp.data_timeout unknown to this binary: left out of the configuration")
        self.set_variant(self.default_variant())
        self.relance("migrate")
        self.relance("payer", "upsert", "--ref", "CHAOS", "--name", "Boulangerie Martin", "--locale", "fr-FR",
                     "--timezone", "Europe/Paris", "--email", "compta@martin.example.fr", "--phone",
                     "06 12 34 56 78", "--address-line", "12 rue des Tanneurs", "--address-line", "69002 Lyon",
                     "--channels", "email,sms,letter")
        if not a.no_tmpfs:
            self.mount_tmpfs()

    def mount_tmpfs(self):
        path = self.root / "spool-small"
        path.mkdir()
        if os.geteuid() != 0:
            self.notices.append("not root: the full-tmpfs spool fault is skipped")
            return
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,mode=0755", "tmpfs", str(path)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.notices.append(f"mount -t tmpfs not permitted ({r.stderr.strip()}): the full-tmpfs spool fault "
                                "is skipped")
            print("chaos: NOTICE:", self.notices[-1], flush=True)
            return
        self.tmpfs = path

    def fill_tmpfs(self, full):
        if not self.tmpfs:
            return
        filler = self.tmpfs / ".filler"
        if not full:
            try:
                filler.unlink()
            except FileNotFoundError:
                pass
            return
        try:
            with open(filler, "ab") as f:
                while True:
                    f.write(b"\0" * 4096)
                    f.flush()
        except OSError:
            pass

    def relance(self, *args, input=None, check=True, timeout=120):
        env = dict(os.environ)
        env.pop("RELANCE_CONFIG", None)
        if "--config" not in args:
            args = (*args, "--config", str(self.config))
        # Tracked like every child, so that an interrupted run kills it too.
        p = subprocess.Popen([str(self.bin), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
        with self.children_lock:
            self.children.append(p)
        try:
            out, err = p.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise
        finally:
            with self.children_lock:
                self.children.remove(p)
        r = subprocess.CompletedProcess([str(self.bin), *args], p.returncode, out, err)
        if check and r.returncode != 0:
            raise RuntimeError(f"relance {' '.join(args[:3])} exited {r.returncode}: {r.stderr.strip()[:2000]}")
        return r

    @staticmethod
    def write_json(path, obj):
        tmp = pathlib.Path(str(path) + ".tmp")
        tmp.write_text(json.dumps(obj))
        os.replace(tmp, path)

    # ---- configuration --------------------------------------------------------------

    def default_variant(self):
        return {"smtp": "aiosmtpd", "sms": "kannel", "letters": "http-upload"}

    def config_text(self, v):
        c, t, d = self.smtp_timeouts
        smtp_port = self.ports["sink"] if v["smtp"] == "smtp-sink" else self.ports["aiosmtpd"]
        spool = self.tmpfs if (v["letters"] == "spool-full" and self.tmpfs) else self.spool
        letters_transport = "http-upload" if v["letters"] == "http-upload" else "spool"
        data_timeout = f"  data_timeout: {d}\n" if self.data_timeout else ""
        sms = (f"""  transport: kannel
  kannel:
    url: {self.kannel.url}
    username: {self.kannel.username}
    password_file: {self.kannel.password_file}
""" if v["sms"] == "kannel" else f"""  transport: webhook
  webhook:
    url: http://127.0.0.1:{self.ports['http']}/sms
""")
        return f"""# written by IntegrationTests/chaos/chaos.py (variant {json.dumps(v)})
state_directory: {self.state}
database:
  path: {self.db}
  busy_timeout: {self.busy_timeout}
templates:
  directory: {REPO / 'Templates'}
  default_locale: en
creditor:
  name: Lumen
  email: compta@lumen.example
  address: ["12 rue des Tanneurs", "69002 Lyon"]
email:
  from: relances@lumen.example
smtp:
  host: 127.0.0.1
  port: {smtp_port}
  security: none
  connect_timeout: {c}
  timeout: {t}
{data_timeout}dispatcher:
  concurrency: {self.args.concurrency}
  batch_size: 4
  poll_interval: 0.2
  lease: {self.lease}
  drain_timeout: 5
retry:
  base_delay: 0.3
  max_delay: 3
  max_attempts: 12
sweeper:
  interval: 0.5
api:
  enabled: false
log:
  level: info
sms:
  rate: none
  connect_timeout: 2
  timeout: 4
{sms}letters:
  transport: {letters_transport}
  spool_directory: {spool}
  connect_timeout: 2
  timeout: 5
  http_upload:
    url: http://127.0.0.1:{self.ports['http']}/letters
windows:
  sms:
    days: all
    hours: ["00:00-24:00"]
    holidays: none
"""

    def set_variant(self, v):
        with self.config_lock:
            self.variant = dict(v)
            self.generation = getattr(self, "generation", 0) + 1
            tmp = pathlib.Path(str(self.config) + ".tmp")
            tmp.write_text(self.config_text(v))
            os.replace(tmp, self.config)

    # ---- jobs -----------------------------------------------------------------------

    def job_line(self, seq):
        marker = "CX%07d" % seq
        roll = self.job_rng.random()
        mix = self.args.mix
        if roll < mix[0]:
            channel, template = "email", self.job_rng.choice(["reminder-1", "thanks"])
        elif roll < mix[0] + mix[1]:
            channel, template = "sms", "thanks"
        else:
            channel, template = "letter", "reminder-1"
        money = {"amount": "%d.%02d" % (100 + seq % 900, seq % 100), "currency": "EUR"}
        invoice = {"number": marker, "issue_date": "2026-09-15", "due_date": "2026-10-15", "amount": money,
                   "balance": money}
        data = {"invoices": [invoice], "total_due": money}
        if template == "thanks":
            invoice["balance"] = {"amount": "0.00", "currency": "EUR"}
            data["total_due"] = {"amount": "0.00", "currency": "EUR"}
            data["payment"] = {"amount": money, "date": "2026-11-20"}
        self.channel_of_marker[marker] = channel
        return marker, json.dumps({"payer_ref": "CHAOS", "template": template, "channel": channel,
                                   "case_ref": marker, "idempotency_key": marker, "data": data})

    def enqueuer(self, window):
        """Enqueues --jobs jobs spread over `window` seconds, in batches; a batch that fails
        (database locked, …) is tried again as it is: its idempotency keys make that
        harmless."""
        try:
            total = self.args.jobs
            tick = 0.5
            start = now()
            seq = 0
            while seq < total and not self.stop_chaos.is_set():
                due = min(total, int(total * min(1.0, (now() - start + tick) / window)))
                if due <= seq:
                    time.sleep(0.05)
                    continue
                batch = [self.job_line(s) for s in range(seq + 1, min(due, seq + 400) + 1)]
                text = "\n".join(line for _, line in batch) + "\n"
                for tries in range(40):
                    try:
                        r = self.relance("enqueue", "--stdin", input=text, check=False, timeout=120)
                    except subprocess.TimeoutExpired:
                        r = None
                    if r is not None and r.returncode == 0:
                        ids = [line.split()[0] for line in r.stdout.splitlines() if line.strip()]
                        if len(ids) != len(batch):
                            self.errors.append(f"enqueue printed {len(ids)} ids for {len(batch)} lines")
                        for (marker, _), job_id in zip(batch, ids):
                            self.markers[marker] = int(job_id)
                        break
                    self.enqueue_failures += 1
                    time.sleep(0.5)
                else:
                    self.errors.append("a batch could not be enqueued after 40 tries")
                seq += len(batch)
                self.enqueued = len(self.markers)
        except Exception:  # noqa: BLE001
            self.errors.append("enqueuer: " + traceback.format_exc())
        finally:
            self.enqueue_done.set()

    # ---- peers (all started from this one thread: see _die_with_parent) ---------------

    def start_aiosmtpd(self):
        self.aiosmtpd = self.spawn([sys.executable, str(HERE / "peers.py"), "smtp", "--port",
                                    str(self.ports["aiosmtpd"]), "--record", str(self.smtp_record), "--control",
                                    str(self.smtp_control), "--seed", str(self.peer_rng.randrange(1 << 30))],
                                   self.records / "aiosmtpd.log")
        return self.wait_port(self.ports["aiosmtpd"], self.aiosmtpd)

    def start_http(self):
        self.http = self.spawn([sys.executable, str(HERE / "peers.py"), "http", "--port", str(self.ports["http"]),
                                "--record", str(self.http_record), "--control", str(self.http_control), "--seed",
                                str(self.peer_rng.randrange(1 << 30))], self.records / "http.log")
        return self.wait_port(self.ports["http"], self.http)

    def start_sink(self):
        if not self.smtp_sink:
            return True
        cmd = [self.smtp_sink, "-d", str(self.sink_dir) + "/%Y%m%d%H%M%S."]
        if os.geteuid() == 0:
            cmd += ["-u", "nobody"]
        cmd += self.sink_flags + [f"127.0.0.1:{self.ports['sink']}", "256"]
        self.sink = self.spawn(cmd, self.records / "smtp-sink.log")
        return self.wait_port(self.ports["sink"], self.sink)

    @staticmethod
    def wait_port(port, proc, timeout=20):
        deadline = now() + timeout
        while now() < deadline:
            if proc.poll() is not None:
                return False
            if listening(port):
                return True
            time.sleep(0.05)
        return False

    @staticmethod
    def stop_proc(proc, sig=signal.SIGTERM, wait=10):
        if proc is None or proc.poll() is not None:
            return
        try:
            proc.send_signal(sig)
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass

    def peers_thread(self):
        try:
            self._peers_thread()
        except Exception:  # noqa: BLE001
            self.errors.append("peers thread: " + traceback.format_exc())
            self.peers_healthy.set()
        finally:
            # Children started from this thread die with it (PDEATHSIG): keep it alive
            # until the very end.
            self.shutdown.wait(timeout=24 * 3600)

    def _peers_thread(self):
        rng = self.peer_rng
        self.aiosmtpd = self.http = self.sink = None
        ok = self.start_aiosmtpd() and self.start_http() and self.start_sink() and self.kannel.ensure()
        if not ok:
            raise RuntimeError("a peer did not start (see the logs in %s)" % self.root)
        deadline = now() + 20
        while now() < deadline and not self.kannel.online():
            time.sleep(0.2)
        self.peers_ready.set()
        short = self.args.minutes <= 5
        phase_len = (5, 12) if short else (8, 30)
        # Every kind of phase comes once, in a shuffled order, before any comes again.
        deck = []
        down = {}           # peer name -> monotonic time it comes back
        phase_end = 0
        next_kannel_fault = now() + rng.uniform(3, 10)
        next_peer_down = now() + rng.uniform(4, 12)
        full_until = None
        kannel_deck, down_deck = [], []
        while not self.stop_chaos.is_set():
            t = now()
            if t >= phase_end:
                if not deck:
                    deck = self.phase_deck(rng)
                phase = deck.pop()
                self.apply_phase(phase)
                phase_end = t + rng.uniform(*phase_len)
                full_until = None
                if phase["variant"]["letters"] == "spool-full" and self.tmpfs:
                    self.fill_tmpfs(True)
                    full_until = t + (phase_end - t) * rng.uniform(0.4, 0.8)
                    self.fault("spool on a full tmpfs")
                else:
                    self.fill_tmpfs(False)
            if full_until is not None and t >= full_until:
                self.fill_tmpfs(False)
                full_until = None
            if t >= next_kannel_fault:
                if not kannel_deck:  # each kind once, shuffled, before any comes again
                    kannel_deck = ["smsbox SIGKILL", "smsbox SIGTERM", "smsbox SIGKILL", "bearerbox restart"]
                    rng.shuffle(kannel_deck)
                kind = kannel_deck.pop()
                self.fault("kannel: " + kind)
                if kind == "smsbox SIGKILL":
                    self.kannel.kill("smsbox", signal.SIGKILL)
                elif kind == "smsbox SIGTERM":
                    self.kannel.kill("smsbox", signal.SIGTERM)
                else:
                    self.kannel.kill("smsbox", signal.SIGTERM)
                    self.kannel.kill("bearerbox", signal.SIGTERM, wait=20)
                down["kannel"] = t + rng.uniform(0, 3)
                next_kannel_fault = now() + rng.uniform(6, 20 if short else 30)
            if t >= next_peer_down:
                if not down_deck:
                    down_deck = ["aiosmtpd", "http"] + (["aiosmtpd", "smtp-sink"] if self.smtp_sink else [])
                    rng.shuffle(down_deck)
                which = down_deck.pop()
                sig = rng.choice([signal.SIGKILL, signal.SIGTERM])
                self.fault(f"peer down: {which} ({signal.Signals(sig).name})")
                self.stop_proc({"aiosmtpd": self.aiosmtpd, "http": self.http, "smtp-sink": self.sink}[which], sig)
                down[which] = t + rng.uniform(1, 5)
                next_peer_down = now() + rng.uniform(5, 15 if short else 25)
            self.supervise(down)
            time.sleep(0.1)
        # The chaos is over: healthy peers from now on.
        self.write_json(self.smtp_control, {"mode": "normal"})
        self.write_json(self.http_control, {"mode": "normal"})
        self.fill_tmpfs(False)
        if self.sink_flags:
            self.sink_flags = []
            self.stop_proc(self.sink)
        self.supervise({})
        self.peers_healthy.set()
        while not self.shutdown.is_set():
            self.supervise({})
            self.shutdown.wait(0.2)

    def supervise(self, down):
        t = now()
        if (self.aiosmtpd is None or self.aiosmtpd.poll() is not None) and t >= down.get("aiosmtpd", 0):
            if self.aiosmtpd is not None and self.aiosmtpd.returncode == 3:
                self.fault("aiosmtpd died after storing a message (os._exit)")
            self.start_aiosmtpd()
        if (self.http is None or self.http.poll() is not None) and t >= down.get("http", 0):
            if self.http is not None and self.http.returncode == 3:
                self.fault("http peer died after storing a request (os._exit)")
            self.start_http()
        if self.smtp_sink and (self.sink is None or self.sink.poll() is not None) and t >= down.get("smtp-sink", 0):
            self.start_sink()
        if t >= down.get("kannel", 0):
            self.kannel.ensure()

    def phase_deck(self, rng):
        smtp_modes = [("aiosmtpd", {"mode": "normal"}), ("aiosmtpd", {"mode": "die", "p": 0.03}),
                      ("aiosmtpd", {"mode": "close", "p": 0.1}),
                      ("aiosmtpd", {"mode": "slow", "p": 0.5, "slow_max": 8})]
        if self.smtp_sink:
            smtp_modes += [("smtp-sink", []), ("smtp-sink", ["-W", ".:2:60"])]
        http_modes = [{"mode": "normal"}, {"mode": "close", "p": 0.15}, {"mode": "slow", "p": 0.4, "slow_max": 8},
                      {"mode": "die", "p": 0.02}]
        letters = ["http-upload", "spool"] + (["spool-full"] if self.tmpfs else [])
        deck = []
        for i, (smtp, mode) in enumerate(smtp_modes):
            deck.append({"variant": {"smtp": smtp, "sms": ["kannel", "webhook"][i % 2],
                                     "letters": letters[i % len(letters)]},
                         "smtp_mode": mode, "http_mode": http_modes[i % len(http_modes)]})
        rng.shuffle(deck)
        return deck

    def apply_phase(self, phase):
        v = phase["variant"]
        if v["smtp"] == "aiosmtpd":
            self.write_json(self.smtp_control, phase["smtp_mode"])
            self.fault("phase: aiosmtpd " + phase["smtp_mode"]["mode"])
        else:
            self.write_json(self.smtp_control, {"mode": "normal"})
            flags = phase["smtp_mode"]
            self.fault("phase: smtp-sink " + ("slow '.' replies (-W .:2:60)" if flags else "normal"))
            if flags != self.sink_flags:
                self.sink_flags = flags
                self.stop_proc(self.sink)
                self.start_sink()
        self.write_json(self.http_control, phase["http_mode"])
        self.fault("phase: http peer " + phase["http_mode"]["mode"])
        self.fault("phase: sms via " + v["sms"])
        self.fault("phase: letters via " + v["letters"])
        self.set_variant(v)

    # ---- daemons (started from the main thread) ---------------------------------------

    def start_daemon(self, name):
        with self.config_lock:
            p = self.spawn([str(self.bin), "serve", "--config", str(self.config)],
                           self.root / f"daemon-{name}.log")
            self.daemon_generation[name] = self.generation
        self.daemons[name] = p
        return p

    def daemon_alive(self, name):
        p = self.daemons.get(name)
        return p is not None and p.poll() is None

    def ensure_daemon(self, name="A"):
        if name == "A" and now() < self.a_down_until:
            return
        if not self.daemon_alive(name) and name not in self.stopped:
            p = self.daemons.get(name)
            if p is not None and p.returncode not in (0, -9, -15, None):
                self.fault(f"daemon exited by itself with status {p.returncode}")
            self.start_daemon(name)

    def locker(self, hold):
        try:
            db = sqlite3.connect(str(self.db), timeout=60, isolation_level=None)
            db.execute("BEGIN IMMEDIATE")
            time.sleep(hold)
            db.execute("ROLLBACK")
            db.close()
        except Exception as e:  # noqa: BLE001
            self.notices.append(f"database locker: {e}")

    def sleep(self, seconds):
        end = now() + seconds
        while now() < end:
            self.ensure_daemon("A")
            if self.second_until is not None and now() >= self.second_until:
                self.stop_second()
            time.sleep(min(0.1, max(0, end - now())))

    def stop_second(self):
        p = self.daemons.get("B")
        self.second_until = None
        if p is not None and p.poll() is None:
            if self.rng.random() < 0.5:
                p.kill()
            else:
                p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)

    def chaos(self, duration):
        rng = self.rng
        end = now() + duration
        kinds = ["SIGKILL", "SIGTERM", "SIGSTOP", "second daemon", "database locked"]
        weights = [62, 10, 7, 11, 10]
        deck = list(kinds)
        rng.shuffle(deck)
        gap = self.args.fault_gap
        self.start_daemon("A")
        last_report = now()
        while now() < end:
            # The gap counts from when daemon A is back (after a SIGKILL it stays down 0-1.5 s).
            self.sleep(max(0.0, self.a_down_until - now()) + rng.uniform(0.2, 2 * gap))
            if now() >= end:
                break
            kind = deck.pop() if deck else rng.choices(kinds, weights)[0]
            if self.daemon_alive("A") and self.daemon_generation.get("A") != self.generation \
                    and kind not in ("SIGKILL", "SIGTERM"):
                # A new phase changed the configuration: the daemon takes it when it
                # restarts, so restart it now (killed or terminated, as a fault); the
                # fault drawn comes next.
                deck.append(kind)
                kind = rng.choice(["SIGKILL", "SIGTERM"])
            a = self.daemons.get("A")
            if kind == "SIGKILL":
                if self.daemon_alive("A"):
                    a.kill()
                    a.wait(timeout=30)
                    self.fault("daemon SIGKILL")
                self.a_down_until = now() + rng.uniform(0, 1.5)
            elif kind == "SIGTERM":
                if self.daemon_alive("A"):
                    a.terminate()
                    self.fault("daemon SIGTERM")
                    try:
                        a.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        self.fault("daemon did not exit within 30 s of SIGTERM (killed)")
                        a.kill()
                        a.wait(timeout=10)
            elif kind == "SIGSTOP":
                if self.daemon_alive("A"):
                    os.kill(a.pid, signal.SIGSTOP)
                    self.stopped.add("A")
                    self.fault("daemon SIGSTOP > lease, then SIGCONT")
                    if not self.daemon_alive("B"):
                        self.start_daemon("B")
                        self.fault("second daemon on the same database")
                    self.second_until = None
                    time.sleep(self.lease + rng.uniform(1, 5))
                    os.kill(a.pid, signal.SIGCONT)
                    self.stopped.discard("A")
                    self.second_until = now() + rng.uniform(2, 10)
            elif kind == "second daemon":
                if not self.daemon_alive("B"):
                    self.start_daemon("B")
                    self.fault("second daemon on the same database")
                self.second_until = now() + rng.uniform(3, 15)
            elif kind == "database locked":
                hold = self.busy_timeout + rng.uniform(0.5, 4)
                self.fault("database locked by another writer > busy_timeout")
                t = threading.Thread(target=self.locker, args=(hold,), daemon=True)
                t.start()
                self.lockers.append(t)
            if now() - last_report > 15:
                last_report = now()
                self.progress()
        self.stop_second()

    def progress(self):
        try:
            with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5) as db:
                states = dict(db.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())
        except sqlite3.Error as e:
            states = {"(busy)": str(e)}
        kills = self.faults["daemon SIGKILL"]
        log(f"enqueued {self.enqueued}/{self.args.jobs}, states {states}, SIGKILLs {kills}, "
            f"faults {sum(self.faults.values())}")

    # ---- settle ---------------------------------------------------------------------

    def settle(self, budget):
        for name in list(self.daemons):
            p = self.daemons[name]
            if p.poll() is None:
                os.kill(p.pid, signal.SIGCONT)
                p.kill()
                p.wait(timeout=30)
        self.stopped.clear()
        for t in self.lockers:
            t.join(timeout=30)
        if not self.peers_healthy.wait(timeout=120):
            self.errors.append("peers did not come back healthy within 120 s")
        self.set_variant(self.default_variant())
        deadline = now() + budget
        runs = 0
        left = None
        while now() < deadline:
            runs += 1
            try:
                r = self.relance("serve", "--until-idle", check=False, timeout=max(10, deadline - now()))
                with open(self.root / "daemon-settle.log", "a") as f:
                    f.write(r.stdout + r.stderr)
            except subprocess.TimeoutExpired:
                self.errors.append("serve --until-idle did not finish within the settle budget")
                break
            with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30) as db:
                left = db.execute("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')").fetchone()[0]
            if left == 0:
                break
            time.sleep(1)
        log(f"settled after {runs} run(s) of serve --until-idle; {left} job(s) not final")
        # Kannel may still hold accepted messages on their way to fakesmsc.
        last, stable_since, end = -1, now(), now() + 60
        while now() < end:
            n = len(self.kannel.received())
            if n != last:
                last, stable_since = n, now()
            elif now() - stable_since > 3:
                break
            time.sleep(0.5)
        return runs

    def inject_duplicates(self, n):
        """Self-test of the counting: an operator re-sends n e-mails already sent
        (`jobs resolve ID requeue --force`), so each reaches the peer a second time while
        its job ends `sent`. The run must then report exactly these as silent duplicates."""
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30) as db:
            ids = [r[0] for r in db.execute("SELECT id FROM jobs WHERE state = 'sent' AND channel = 'email' "
                                            "ORDER BY id").fetchall()]
        chosen = sorted(random.Random(self.seed).sample(ids, min(n, len(ids))))
        for job_id in chosen:
            self.relance("jobs", "resolve", str(job_id), "requeue", "--force", "--note", "chaos self-test")
        self.fault("self-test: sent e-mails requeued by the operator", len(chosen))
        self.settle(120)
        log(f"self-test: requeued {len(chosen)} sent e-mail(s): {chosen[:10]}")
        return chosen

    # ---- counting -------------------------------------------------------------------

    def count(self):
        jobs = {}
        uri = f"file:{self.db}?mode=ro"
        with sqlite3.connect(uri, uri=True, timeout=30) as db:
            db.row_factory = sqlite3.Row
            for row in db.execute("SELECT id, idempotency_key, case_ref, channel, state, attempt, last_error "
                                  "FROM jobs"):
                jobs[row["id"]] = dict(row)
            integrity = [r[0] for r in db.execute("PRAGMA integrity_check").fetchall()]
        by_marker = {j["idempotency_key"]: j["id"] for j in jobs.values()}
        bookkeeping = []
        for marker, job_id in self.markers.items():
            if by_marker.get(marker) != job_id:
                bookkeeping.append(f"enqueue printed job {job_id} for {marker}, the database has "
                                   f"{by_marker.get(marker)}")
        for j in jobs.values():
            if j["case_ref"] != j["idempotency_key"]:
                bookkeeping.append(f"job {j['id']}: case {j['case_ref']} != key {j['idempotency_key']}")

        received = collections.defaultdict(list)   # job id -> [(peer, attempt, fault)]
        peer_totals = collections.Counter()

        def take(job_id, channel, peer, attempt, fault, marker=None, t=0.0):
            job = jobs.get(job_id)
            if job is None:
                bookkeeping.append(f"{peer}: a record names job {job_id}, unknown")
                return
            if job["channel"] != channel:
                bookkeeping.append(f"{peer}: job {job_id} is {job['channel']}, received as {channel}")
                return
            if marker is not None and by_marker.get(marker) != job_id:
                bookkeeping.append(f"{peer}: job {job_id} carries marker {marker} of job {by_marker.get(marker)}")
                return
            if attempt is not None and attempt > job["attempt"]:
                bookkeeping.append(f"{peer}: job {job_id} attempt {attempt} > its last attempt {job['attempt']}")
            received[job_id].append((t, peer, attempt, fault))
            peer_totals[peer] += 1

        # aiosmtpd
        if self.smtp_record.exists():
            for line in self.smtp_record.read_text().splitlines():
                e = json.loads(line)
                if e["job"] is None or e["mid_job"] != e["job"]:
                    bookkeeping.append(f"aiosmtpd: record without a consistent job: {line}")
                    continue
                take(e["job"], "email", "aiosmtpd", e["attempt"], e["fault"], marker=e.get("case"), t=e["t"])
        # smtp-sink: complete dumps only (a dump is created at MAIL FROM and written as
        # the data arrives; a process killed mid-message leaves an incomplete one).
        incomplete = 0
        for path in sorted(self.sink_dir.rglob("*")):
            if not path.is_file():
                continue
            text = path.read_text(errors="replace")
            head = text.split("\n\n", 1)[0]
            m = BOUNDARY.search(head)
            complete = ("--" + m.group(1) + "--") in text if m else text.endswith("\n\n")
            if not complete:
                incomplete += 1
                continue
            job, mid, case = SINK_JOB.search(head), SINK_MID.search(head), SINK_CASE.search(head)
            if not job or not mid or mid.group(1) != job.group(1):
                bookkeeping.append(f"smtp-sink: dump without a consistent job: {path}")
                continue
            take(int(job.group(1)), "email", "smtp-sink", int(mid.group(2)), "?",
                 marker=case.group(1) if case else None, t=path.stat().st_mtime)
        # HTTP peer: SMS webhook and print provider
        http_incomplete = 0
        if self.http_record.exists():
            for line in self.http_record.read_text().splitlines():
                e = json.loads(line)
                if e.get("incomplete"):
                    http_incomplete += 1  # the client was cut off mid-request: nothing was taken
                    continue
                if e.get("job") is None:
                    bookkeeping.append(f"http peer: record without a job: {line[:300]}")
                    continue
                if e["kind"] == "sms":
                    take(e["job"], "sms", "webhook", e["attempt"], e["fault"], marker=e.get("marker"), t=e["t"])
                else:
                    take(e["job"], "letter", "print-upload", e["attempt"], e["fault"], marker=e.get("case"),
                         t=e["t"])
        # fakesmsc (Kannel): the marker in the text names the job; the attempt is unknown.
        for payload, raw in self.kannel.received():
            found = kannel_peer.markers(payload, MARKER)
            if len(found) != 1:
                bookkeeping.append(f"fakesmsc: message without one marker: {raw[:200]}")
                continue
            marker = found.pop()
            if marker not in by_marker:
                bookkeeping.append(f"fakesmsc: unknown marker {marker}")
                continue
            stamp = KANNEL_TIME.match(raw)
            t = time.mktime(time.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S")) if stamp else 0.0
            take(by_marker[marker], "sms", "kannel", None, "?", marker=marker, t=t)
        # print spool(s): one manifest per letter; a manifest always names a complete PDF.
        corrupt = 0
        for d in [self.spool] + ([self.tmpfs] if self.tmpfs else []):
            for path in sorted(pathlib.Path(d).glob("job-*.json")):
                try:
                    manifest = json.loads(path.read_text())
                except ValueError:
                    corrupt += 1
                    continue
                pdf = pathlib.Path(d) / manifest.get("pdf", "")
                if not pdf.exists() or pdf.stat().st_size != manifest.get("bytes"):
                    bookkeeping.append(f"spool: {path.name} names an incomplete PDF")
                take(manifest["job_id"], "letter", "spool", manifest.get("attempt"), "?",
                     marker=manifest.get("case_ref"), t=path.stat().st_mtime)
        if corrupt:
            bookkeeping.append(f"spool: {corrupt} manifest(s) that are not JSON")

        states = collections.Counter(j["state"] for j in jobs.values())
        per_channel = collections.defaultdict(collections.Counter)
        for j in jobs.values():
            per_channel[j["channel"]][j["state"]] += 1
        lost, dups, dead_received, not_final = [], [], [], []
        uncertain_hist = collections.Counter()
        dup_kinds = collections.Counter()
        for got in received.values():
            got.sort(key=lambda r: r[0] or 0)
        for j in jobs.values():
            got = received.get(j["id"], [])
            n = len(got)
            if j["state"] in ("sent", "delivered") and n == 0:
                lost.append(j["id"])
            if n >= 2 and j["state"] != "uncertain":
                dups.append(j["id"])
                attempts = [a for _, _, a, _ in got]
                if None in attempts:
                    kind = "kannel (attempt unknown)"
                elif len(set(attempts)) < len(attempts):
                    kind = "same attempt received twice"
                else:
                    kind = "different attempts"
                first_fault = got[0][3]
                dup_kinds[f"{j['channel']}: {kind}, first copy {first_fault.split(':')[0]}"] += 1
            if j["state"] in ("dead", "failed") and n >= 1:
                dead_received.append(j["id"])
            if j["state"] in ("queued", "running"):
                not_final.append(j["id"])
            if j["state"] == "uncertain":
                uncertain_hist["0" if n == 0 else "1" if n == 1 else "2+"] += 1

        def sample(ids):
            out = []
            for i in sorted(ids)[:15]:
                j = jobs[i]
                out.append({"job": i, "channel": j["channel"], "state": j["state"], "attempt": j["attempt"],
                            "received": received.get(i, []), "last_error": (j["last_error"] or "")[:300]})
            return out

        reasons = collections.defaultdict(collections.Counter)
        for j in jobs.values():
            if j["state"] in ("uncertain", "dead", "failed"):
                text = re.sub(r"\d+(\.\d+)?", "N", (j["last_error"] or "")).strip()
                reasons[j["state"]][text[:110]] += 1
        integrity_ok = integrity == ["ok"]
        checks = [
            ("lost (sent or delivered, never received)", len(lost), len(lost) == 0),
            ("silent duplicates (received 2+ times, not uncertain)", len(dups), len(dups) == 0),
            ("dead or failed but received", len(dead_received), len(dead_received) == 0),
            ("not final (queued or running)", len(not_final), len(not_final) == 0),
            ("PRAGMA integrity_check", "ok" if integrity_ok else "; ".join(integrity[:5]), integrity_ok),
            ("every peer record matched to its job (harness bookkeeping)", len(bookkeeping), not bookkeeping),
            ("every job enqueued", f"{len(jobs)}/{self.args.jobs}", len(jobs) == self.args.jobs),
        ]
        if self.injected:
            missed = sorted(set(self.injected) - set(dups))
            checks.append(("self-test: every injected duplicate detected", f"{len(self.injected) - len(missed)}/"
                           f"{len(self.injected)}", not missed))
        return {
            "jobs": len(jobs), "states": dict(states), "per_channel": {k: dict(v) for k, v in per_channel.items()},
            "integrity_check": integrity, "uncertain_received": dict(uncertain_hist),
            "received_per_peer": dict(peer_totals), "smtp_sink_incomplete_dumps": incomplete,
            "http_incomplete_requests": http_incomplete,
            "duplicates_by_kind": dict(dup_kinds),
            "reasons": {k: dict(v.most_common(12)) for k, v in reasons.items()},
            "lost": sample(lost), "silent_duplicates": sample(dups), "dead_or_failed_received": sample(dead_received),
            "not_final": sample(not_final), "bookkeeping": bookkeeping[:50],
            "checks": [{"name": n, "value": v, "passed": ok} for n, v, ok in checks],
        }

    # ---- run ------------------------------------------------------------------------

    def run(self):
        a = self.args
        started = time.time()
        t0 = now()
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "Sources"],
                               capture_output=True, text=True).stdout.splitlines()
        if dirty:
            commit += f" (+{len(dirty)} uncommitted file(s) under Sources/)"
        print(f"chaos: seed {self.seed}, {a.jobs} jobs over {a.minutes} min, root {self.root}", flush=True)
        print(f"chaos: replay with: IntegrationTests/chaos/chaos.py --jobs {a.jobs} --minutes {a.minutes} --seed {self.seed}",
              flush=True)
        self.setup()
        print(f"chaos: binary {self.bin} (copy of {os.environ.get('RELANCE_BIN', 'default')}, sha256 "
              f"{self.binary_sha[:16]}), data_timeout {'set' if self.data_timeout else 'unknown'}, tmpfs "
              f"{'yes' if self.tmpfs else 'no'}, smtp-sink {'yes' if self.smtp_sink else 'no'}", flush=True)
        self.peers_ready = threading.Event()
        peers = threading.Thread(target=self.peers_thread, name="peers", daemon=True)
        peers.start()
        if not self.peers_ready.wait(timeout=90) or self.errors:
            raise RuntimeError("peers did not start: " + "; ".join(self.errors))
        duration = a.minutes * 60
        enq = threading.Thread(target=self.enqueuer, args=(duration * 0.85,), name="enqueuer", daemon=True)
        enq.start()
        self.chaos(duration)
        self.stop_chaos.set()
        enq.join(timeout=300)
        log("chaos over; settling")
        runs = self.settle(a.settle_minutes * 60)
        self.injected = self.inject_duplicates(a.inject_duplicates) if a.inject_duplicates else []
        chaos_end = now()
        self.shutdown_peers()
        result = self.count()
        result.update({
            "date": datetime.datetime.fromtimestamp(started, datetime.timezone.utc).isoformat(timespec="seconds"),
            "git_commit": commit, "binary_sha256": self.binary_sha, "seed": self.seed,
            "command": " ".join(sys.argv), "jobs_requested": a.jobs, "minutes": a.minutes,
            "mix": a.mix, "faults": dict(sorted(self.faults.items())), "notices": self.notices,
            "errors": self.errors, "enqueue_failures": self.enqueue_failures, "settle_runs": runs,
            "seconds": round(now() - t0, 1), "seconds_until_settled": round(chaos_end - t0, 1),
            "root": str(self.root), "data_timeout_in_config": self.data_timeout,
            "injected_duplicates": self.injected,
        })
        if self.errors:
            result["checks"].append({"name": "harness ran without error", "value": len(self.errors),
                                     "passed": False})
        return result

    def shutdown_peers(self):
        self.kannel.stop()
        for p in (getattr(self, "aiosmtpd", None), getattr(self, "http", None), getattr(self, "sink", None)):
            self.stop_proc(p)

    def cleanup(self):
        self.stop_chaos.set()
        for name, p in self.daemons.items():
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
        self.kill_all()
        self.shutdown.set()
        if self.tmpfs:
            subprocess.run(["umount", "-l", str(self.tmpfs)], capture_output=True)
            self.tmpfs = None


def print_summary(result, report_path):
    print()
    print("=" * 78)
    print(f"Relance chaos run {result['date']}  commit {result['git_commit']}  seed {result['seed']}")
    print(f"{result['jobs']} jobs in {result['seconds']} s (settled at {result['seconds_until_settled']} s)")
    print("-" * 78)
    print("states:", ", ".join(f"{k} {v}" for k, v in sorted(result["states"].items())))
    for ch, st in sorted(result["per_channel"].items()):
        print(f"  {ch:7s} {sum(st.values()):6d}: " + ", ".join(f"{k} {v}" for k, v in sorted(st.items())))
    print("received per peer:", ", ".join(f"{k} {v}" for k, v in sorted(result["received_per_peer"].items())))
    print("uncertain jobs received 0/1/2+ times:",
          " / ".join(str(result["uncertain_received"].get(k, 0)) for k in ("0", "1", "2+")))
    for state, counts in sorted(result["reasons"].items()):
        print(f"{state} jobs by last_error (numbers as N):")
        for k, v in sorted(counts.items(), key=lambda kv: -kv[1])[:6]:
            print(f"  {v:6d}  {k}")
    if result["duplicates_by_kind"]:
        print("silent duplicates by kind:")
        for k, v in sorted(result["duplicates_by_kind"].items(), key=lambda kv: -kv[1]):
            print(f"  {v:6d}  {k}")
    print("faults injected:")
    for k, v in result["faults"].items():
        print(f"  {v:6d}  {k}")
    for n in result["notices"]:
        print("notice:", n)
    for e in result["errors"]:
        print("error:", e[:2000])
    for b in result["bookkeeping"][:10]:
        print("bookkeeping:", b)
    print("-" * 78)
    passed = failed = 0
    for c in result["checks"]:
        status = "PASS" if c["passed"] else "FAIL"
        print(f"{status}  {c['name']}: {c['value']}")
        passed += c["passed"]
        failed += not c["passed"]
    for key in ("lost", "silent_duplicates", "dead_or_failed_received", "not_final"):
        for s in result[key][:3]:
            print(f"  e.g. {key}: {json.dumps(s)[:400]}")
    print(f"report: {report_path}")
    print(f"chaos: {passed} passed, {failed} failed")
    return failed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1500)
    parser.add_argument("--minutes", type=float, default=1.25, help="how long faults are injected")
    parser.add_argument("--seed", type=int, default=None, help="default: random (printed)")
    parser.add_argument("--settle-minutes", type=float, default=None,
                        help="bound on the final serve --until-idle runs (default 4, or 15 for long runs)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--lease", type=int, default=10)
    parser.add_argument("--fault-gap", type=float, default=1.0, help="mean seconds between daemon faults")
    parser.add_argument("--inject-duplicates", type=int, default=0, metavar="N",
                        help="self-test: after settling, re-send N sent e-mails (operator requeue); the run must "
                             "then fail with exactly these N silent duplicates")
    parser.add_argument("--mix", default="0.6,0.25,0.15", help="share of e-mail, SMS and letter jobs")
    parser.add_argument("--report", default=None, help="JSON report (default: <run root>/report.json)")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder even when every check passed")
    parser.add_argument("--no-smtp-sink", action="store_true")
    parser.add_argument("--no-tmpfs", action="store_true")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 1 << 31)
    args.mix = [float(x) for x in args.mix.split(",")]
    if args.settle_minutes is None:
        args.settle_minutes = 4 if args.minutes <= 5 else 15
    if not kannel_peer.environ_ok():
        raise SystemExit("chaos: Kannel (bearerbox, smsbox, fakesmsc) is missing: make deps-python installs it")

    harness = Harness(args)

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    # Explicitly: a shell that starts the harness in the background ignores SIGINT for it.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)
    failed = 1
    try:
        result = harness.run()
        report = pathlib.Path(args.report) if args.report else harness.root / "report.json"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(result, indent=2, default=str) + "\n")
        failed = print_summary(result, report)
    except KeyboardInterrupt:
        print("chaos: interrupted", flush=True)
        failed = 130
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        print("chaos: 0 passed, 1 failed", flush=True)
        failed = 1
    finally:
        harness.cleanup()
        if failed == 0 and not args.keep:
            # Every check passed: keep only the report.
            for child in harness.root.iterdir():
                if child.name != "report.json":
                    shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink()
            if args.report:
                shutil.rmtree(harness.root, ignore_errors=True)
            print(f"chaos: every check passed; records removed (--keep keeps them), report kept", flush=True)
        else:
            print(f"chaos: logs and records in {harness.root}", flush=True)
    sys.exit(0 if failed == 0 else (130 if failed == 130 else 1))


if __name__ == "__main__":
    main()
