#!/usr/bin/python3
"""Control-channel load generator: durable acks per second with N concurrent merchants
(each on its own stream, keeping --window commands in flight), and ack latency
p50/p99 at a fixed total rate (default 1000 commands/s over 10 merchants).

    /usr/bin/python3 perf/control/loadgen.py --binary build/anchorcast [--merchants 1,10,100]

Starts a private anchorcast (temp config and data_dir, rate limit lifted) on free ports.
The client is Python (asyncio + python3-websockets): on a small machine it may be the
bottleneck; the `client CPU` column says how busy it was."""

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "e2e"))
import harness  # noqa: E402
import websockets  # noqa: E402


def command(i: int) -> str:
    return json.dumps({"type": "card.show", "req": str(i), "card": {
        "id": f"c{i % 8}", "title": f"商品 item {i}", "price": "¥99", "position": "bottom-left"}})


async def connect(port: int, stream: str, token: str):
    ws = await websockets.connect(f"ws://{harness.HOST}:{port}/control/{stream}",
                                  extra_headers={"Authorization": f"Bearer {token}"},
                                  max_size=None, ping_interval=None, max_queue=None)
    await ws.recv()  # state
    return ws


async def throughput(port: int, n: int, seconds: float, window: int) -> float:
    socks = await asyncio.gather(*(connect(port, f"m{i}", f"tok-m{i}") for i in range(n)))
    acks = 0
    stop_at = time.monotonic() + seconds

    async def merchant(ws):
        nonlocal acks
        sent = 0
        for _ in range(window):
            await ws.send(command(sent))
            sent += 1
        inflight = window
        while inflight:
            msg = json.loads(await ws.recv())
            if msg["type"] == "ack":
                acks += 1
                inflight -= 1
                if time.monotonic() < stop_at:
                    await ws.send(command(sent))
                    sent += 1
                    inflight += 1
            elif msg["type"] == "error":
                raise RuntimeError(msg)

    t0 = time.monotonic()
    await asyncio.gather(*(merchant(ws) for ws in socks))
    elapsed = time.monotonic() - t0
    await asyncio.gather(*(ws.close() for ws in socks))
    return acks / elapsed


async def latency(port: int, merchants: int, rate: float, seconds: float):
    socks = await asyncio.gather(*(connect(port, f"m{i}", f"tok-m{i}") for i in range(merchants)))
    lat: list[float] = []
    per = rate / merchants

    async def merchant(ws):
        sent_at: dict[str, float] = {}
        total = int(per * seconds)

        async def reader():
            got = 0
            while got < total:
                msg = json.loads(await ws.recv())
                if msg["type"] in ("ack", "error"):
                    lat.append((time.perf_counter() - sent_at.pop(msg["req"])) * 1000)
                    got += 1

        task = asyncio.create_task(reader())
        t0 = time.perf_counter()
        for i in range(total):
            delay = t0 + i / per - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent_at[str(i)] = time.perf_counter()
            await ws.send(command(i))
        await task

    await asyncio.gather(*(merchant(ws) for ws in socks))
    await asyncio.gather(*(ws.close() for ws in socks))
    lat.sort()
    return statistics.median(lat), lat[int(len(lat) * 0.99) - 1], len(lat)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=str(harness.REPO_ROOT / "build" / "anchorcast"))
    ap.add_argument("--merchants", default="1,10,100")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--window", type=int, default=32, help="commands in flight per merchant")
    ap.add_argument("--rate", type=float, default=1000.0, help="latency run: commands/s in total")
    ap.add_argument("--rate-merchants", type=int, default=10)
    ap.add_argument("--no-fsync", action="store_true", help='config "control": {"fsync": false}')
    args = ap.parse_args()
    harness.BINARY = str(Path(args.binary).resolve())
    counts = [int(x) for x in args.merchants.split(",")]
    streams = [{"id": f"m{i}", "publish_key": f"m{i}-publish-key", "overlay": "metadata",
                "merchant_tokens": [f"tok-m{i}"]} for i in range(max(counts + [args.rate_merchants]))]
    with tempfile.TemporaryDirectory(prefix="anchorcast-perf-control-") as tmp:
        server = harness.Server(Path(tmp), streams)
        body = json.loads(server.config_path.read_text().split("\n", 1)[1])
        body["control"] = {"rate_limit_per_s": 1000000, "fsync": not args.no_fsync}
        body["log_level"] = "warn"
        server.config_path.write_text(json.dumps(body))
        server.start()
        try:
            print(f"# anchorcast control channel, {os.cpu_count()} CPUs, fsync {not args.no_fsync}, "
                  f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
            print("| merchants | window | durable acks/s | server CPU % | client CPU % |")
            print("| --- | --- | --- | --- | --- |")
            for n in counts:
                cpu0 = server_cpu(server.child.pid)
                c0 = resource.getrusage(resource.RUSAGE_SELF)
                t0 = time.monotonic()
                rate = asyncio.run(throughput(server.http_port, n, args.seconds, args.window))
                wall = time.monotonic() - t0
                c1 = resource.getrusage(resource.RUSAGE_SELF)
                srv = (server_cpu(server.child.pid) - cpu0) / wall * 100
                cli = (c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime) / wall * 100
                print(f"| {n} | {args.window} | {rate:,.0f} | {srv:.0f} | {cli:.0f} |", flush=True)
            p50, p99, count = asyncio.run(latency(server.http_port, args.rate_merchants, args.rate, args.seconds))
            print(f"\nack latency at {args.rate:.0f} commands/s over {args.rate_merchants} merchants "
                  f"({count} commands): p50 {p50:.2f} ms, p99 {p99:.2f} ms")
            f50, f99 = fsync_ms(Path(tmp))
            print(f"this disk's bare fsync (4 KiB append, 200 runs, same folder): p50 {f50:.2f} ms, p99 {f99:.2f} ms")
        finally:
            code, _ = server.stop()
            if code != 0:
                print(f"server exit {code}", file=sys.stderr)


def fsync_ms(folder: Path):
    path = folder / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    times = []
    try:
        for _ in range(200):
            os.write(fd, b"x" * 4096)
            t0 = time.perf_counter()
            os.fsync(fd)
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    times.sort()
    return times[100], times[197]


def server_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
