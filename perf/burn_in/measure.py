#!/usr/bin/python3
"""Burn-in latency, live: what the compositor adds and how soon a merchant's change is on
screen, read from the server's own histograms while a real ffmpeg anchor publishes.

    /usr/bin/python3 perf/burn_in/measure.py --binary build/anchorcast [--size 1280x720] [--seconds 30]

Starts a private anchorcast on free ports, pushes testsrc2 at --size and 30 fps over RTMP
(libx264 veryfast zerolatency, like OBS), keeps one HTTP-FLV viewer on the main rendition,
and sends a card.show or card.hide every 200 ms. Reports from /metrics:
- anchorcast_compositor_latency_seconds: source packet in → composited packet out;
- anchorcast_compositor_apply_delay_seconds: change committed → first frame showing it
  (in frame intervals too: the target is ≤ 2 at p99);
- server CPU per composited frame (utime + stime of the process, which also receives,
  muxes and serves the stream), and frames dropped."""

import argparse
import asyncio
import json
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "e2e"))
import harness  # noqa: E402
import websockets  # noqa: E402

STREAM = "shop2"
TOKEN = "shop2-merchant-e2e-q2w3"


def histogram(metrics: str, name: str) -> list[tuple[float, int]]:
    out = []
    for m in re.finditer(rf'^{name}_bucket{{stream="{STREAM}",le="([^"]+)"}} (\d+)$', metrics, re.M):
        out.append((float("inf") if m.group(1) == "+Inf" else float(m.group(1)), int(m.group(2))))
    return out


def quantile(buckets: list[tuple[float, int]], q: float) -> float:
    total = buckets[-1][1] if buckets else 0
    for bound, count in buckets:
        if total and count >= q * total:
            return bound
    return float("nan")


def counter(metrics: str, name: str) -> int:
    m = re.search(rf'^{name}{{stream="{STREAM}"}} (\d+)$', metrics, re.M)
    return int(m.group(1)) if m else 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0


async def merchant(port: int, seconds: float) -> int:
    async with websockets.connect(f"ws://{harness.HOST}:{port}/control/{STREAM}",
                                  extra_headers={"Authorization": f"Bearer {TOKEN}"}) as ws:
        await ws.recv()
        sent = 0
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            if sent % 2 == 0:
                cmd = {"type": "card.show", "req": str(sent), "card": {
                    "id": "c1", "title": f"真丝连衣裙 Silk dress {sent}", "price": "¥299",
                    "original_price": "¥599", "position": "bottom-left"}}
            else:
                cmd = {"type": "card.hide", "req": str(sent), "id": "c1"}
            await ws.send(json.dumps(cmd))
            sent += 1
            await asyncio.sleep(0.2)
        return sent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--seconds", type=float, default=30)
    args = ap.parse_args()
    harness.BINARY = str(Path(args.binary).resolve())
    import tempfile
    work = Path(tempfile.mkdtemp(prefix="burn-in-perf-"))
    server = harness.Server(work)
    server.start()
    try:
        anchor = harness.Child(harness.publisher_cmd(server.rtmp_publish_url(harness.key_of(STREAM)),
                                                     args.seconds + 15, gop=60, size=args.size),
                               work / "anchor.log", "anchor")
        server.wait_live(STREAM)
        viewer = subprocess.Popen(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i",
                                   server.url(f"/flv/{STREAM}.flv"), "-c", "copy", "-f", "null", "-"])
        time.sleep(5)  # warm-up: the encoder's first GOP and the bitrate measurement
        m0 = server.get("/metrics").body.decode()
        cpu0, t0 = cpu_seconds(server.child.pid), time.monotonic()
        sent = asyncio.run(merchant(server.http_port, args.seconds))
        cpu1, t1 = cpu_seconds(server.child.pid), time.monotonic()
        m1 = server.get("/metrics").body.decode()
        viewer.kill()
        anchor.stop()
    finally:
        server.stop()

    def delta(name):
        a, b = histogram(m0, name), histogram(m1, name)
        return [(bound, cb - ca) for (bound, ca), (_, cb) in zip(a, b)]

    lat, app = delta("anchorcast_compositor_latency_seconds"), delta("anchorcast_compositor_apply_delay_seconds")
    frames = counter(m1, "anchorcast_compositor_frames_total") - counter(m0, "anchorcast_compositor_frames_total")
    dropped = (counter(m1, "anchorcast_compositor_dropped_frames_total") -
               counter(m0, "anchorcast_compositor_dropped_frames_total"))
    interval = 1 / 30
    print(f"size {args.size} 30 fps, {t1 - t0:.1f} s, {sent} commands, {frames} frames composited, {dropped} dropped")
    print(f"compositor latency  p50 <= {quantile(lat, 0.5) * 1000:.0f} ms   p99 <= {quantile(lat, 0.99) * 1000:.0f} ms")
    print(f"command → frame     p50 <= {quantile(app, 0.5) * 1000:.0f} ms   p99 <= {quantile(app, 0.99) * 1000:.0f} ms"
          f"   (p99 <= {quantile(app, 0.99) / interval:.1f} frame intervals)")
    print(f"server CPU          {100 * (cpu1 - cpu0) / (t1 - t0):.0f} % of one core, "
          f"{1000 * (cpu1 - cpu0) / max(frames, 1):.2f} ms per composited frame")


if __name__ == "__main__":
    main()
