#!/usr/bin/env python3
"""Constant-rate (open-loop) HTTP load: requests are due at evenly spaced instants,
whatever the server's speed, and each latency is counted from the instant the request
was due, not from when a connection was free to send it (wrk2's correction for
coordinated omission). Used by bench/api_bench.py beside `hey`, whose workers each tick
at their own rate and so send in bursts.

    openloop.py URL --rate 500 --requests 5000 --connections 10 --body FILE --header 'K: V'
"""

import argparse
import asyncio
import json
import time
import urllib.parse


async def run(url, rate, total, connections, body, headers):
    parts = urllib.parse.urlsplit(url)
    path = parts.path or "/"
    head = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}", "Content-Type: application/json",
            f"Content-Length: {len(body)}"] + headers
    request = ("\r\n".join(head) + "\r\n\r\n").encode() + body
    idle = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await asyncio.open_connection(parts.hostname, parts.port))
    latencies, statuses = [], {}
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05

    async def one(due):
        reader, writer = await idle.get()
        try:
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(loop.time() - due)
            code = status_line.split()[1].decode()
            statuses[code] = statuses.get(code, 0) + 1
        finally:
            idle.put_nowait((reader, writer))

    tasks = []
    for i in range(total):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(due)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    return {"requests": total, "seconds": round(elapsed, 3), "rate": round(total / elapsed, 1),
            "p50_ms": round(pct(50), 2), "p90_ms": round(pct(90), 2), "p99_ms": round(pct(99), 2),
            "max_ms": round(latencies[-1] * 1000, 2), "statuses": statuses}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--body", required=True)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
    with open(args.body, "rb") as f:
        body = f.read()
    print(json.dumps(asyncio.run(run(args.url, args.rate, args.requests, args.connections, body, args.header))))


if __name__ == "__main__":
    main()
