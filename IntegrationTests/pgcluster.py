#!/usr/bin/env python3
"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary folder, pg_ctl on
127.0.0.1 and a random port, a superuser `relance` (trust authentication, loopback only)
and a database `relance`. initdb refuses to run as root, so as root the cluster runs as
the unprivileged `postgres` user that Debian's package creates.

    python3 IntegrationTests/pgcluster.py start DIR   # prints the postgres:// URL
    python3 IntegrationTests/pgcluster.py stop DIR
    python3 IntegrationTests/pgcluster.py restart DIR # pg_ctl restart -m fast

Used by the Makefile (the store suite on PostgreSQL) and by the pytest fixture `pg_cluster`.
"""
import glob
import os
import shutil
import socket
import subprocess
import sys
import time


def pg_bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path:
        return path
    raise SystemExit(f"pgcluster: {name} not found (install Debian's postgresql package: make deps-python)")


def as_owner(argv):
    """Runs argv as the postgres user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + argv
    return argv


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def url(directory):
    with open(os.path.join(directory, "port")) as f:
        port = f.read().strip()
    return f"postgres://relance@127.0.0.1:{port}/relance"


def start(directory, fsync=False, tls=None):
    """`tls`: (certificate file, key file) to serve TLS with (both copied into the folder)."""
    directory = os.path.abspath(directory)
    os.makedirs(directory, exist_ok=True)
    data = os.path.join(directory, "data")
    if os.geteuid() == 0:
        os.chmod(directory, 0o755)
        shutil.chown(directory, "postgres", "postgres")
    if not os.path.exists(os.path.join(data, "PG_VERSION")):
        subprocess.run(
            as_owner([pg_bin("initdb"), "-D", data, "-U", "relance", "--auth=trust", "-E", "UTF8", "--no-locale"]),
            check=True, stdout=subprocess.DEVNULL)
    if os.path.exists(os.path.join(data, "postmaster.pid")) and os.path.exists(os.path.join(directory, "port")):
        return url(directory)  # already running
    port = free_port()
    with open(os.path.join(directory, "port"), "w") as f:
        f.write(str(port))
    options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {directory} -c max_connections=400 "
               f"-c fsync={'on' if fsync else 'off'} -c shared_buffers=256MB")
    if tls:
        for source, name in zip(tls, ("server.crt", "server.key")):
            target = os.path.join(directory, name)
            shutil.copyfile(source, target)
            os.chmod(target, 0o600)
            if os.geteuid() == 0:
                shutil.chown(target, "postgres", "postgres")
        options += (f" -c ssl=on -c ssl_cert_file={directory}/server.crt -c ssl_key_file={directory}/server.key")
    subprocess.run(
        as_owner([pg_bin("pg_ctl"), "-D", data, "-l", os.path.join(directory, "server.log"), "-w",
                  "-o", options, "start"]),
        check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(directory, "options"), "w") as f:
        f.write(options)
    deadline = time.time() + 30
    while True:
        done = subprocess.run(
            [pg_bin("psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "relance", "-d", "postgres", "-tAc",
             "SELECT 1 FROM pg_database WHERE datname = 'relance'"],
            capture_output=True, text=True)
        if done.returncode == 0:
            if done.stdout.strip() != "1":
                subprocess.run(
                    [pg_bin("psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "relance", "-d", "postgres", "-qc",
                     "CREATE DATABASE relance"], check=True)
            return url(directory)
        if time.time() > deadline:
            raise SystemExit(f"pgcluster: the server did not answer: {done.stderr.strip()}")
        time.sleep(0.2)


def restart(directory):
    directory = os.path.abspath(directory)
    with open(os.path.join(directory, "options")) as f:
        options = f.read()
    subprocess.run(
        as_owner([pg_bin("pg_ctl"), "-D", os.path.join(directory, "data"), "-l", os.path.join(directory, "server.log"),
                  "-w", "-m", "fast", "-o", options, "restart"]),
        check=True, stdout=subprocess.DEVNULL)


def halt(directory):
    """Stops the server (fast shutdown), keeping its data, port and options."""
    subprocess.run(as_owner([pg_bin("pg_ctl"), "-D", os.path.join(os.path.abspath(directory), "data"), "-w",
                             "-m", "fast", "stop"]), check=True, stdout=subprocess.DEVNULL)


def resume(directory):
    """Starts a halted server again, on the same port."""
    directory = os.path.abspath(directory)
    with open(os.path.join(directory, "options")) as f:
        options = f.read()
    subprocess.run(
        as_owner([pg_bin("pg_ctl"), "-D", os.path.join(directory, "data"), "-l", os.path.join(directory, "server.log"),
                  "-w", "-o", options, "start"]),
        check=True, stdout=subprocess.DEVNULL)


def stop(directory):
    directory = os.path.abspath(directory)
    data = os.path.join(directory, "data")
    if os.path.exists(os.path.join(data, "postmaster.pid")):
        subprocess.run(as_owner([pg_bin("pg_ctl"), "-D", data, "-w", "-m", "immediate", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop", "restart"):
        raise SystemExit(__doc__)
    command, where = sys.argv[1], sys.argv[2]
    if command == "start":
        print(start(where))
    elif command == "restart":
        restart(where)
    else:
        stop(where)
