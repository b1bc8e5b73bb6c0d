#!/usr/bin/python3
"""Added latency of burning a card into live video: anchorcast's compositor against the
equivalent ffmpeg CLI pipeline, side by side in the same run, measured the same way.

    /usr/bin/python3 perf/burn_in/vs_ffmpeg.py --binary build/anchorcast [--seconds 20]

A real ffmpeg anchor pushes 1280x720 30 fps (libx264 veryfast zerolatency) to the burn-in
stream shop2 and a merchant shows a card. Two pipelines composite it:
- anchorcast: the compositor (decode → blend → libx264 veryfast zerolatency), served as
  /flv/shop2.flv (main rendition);
- ffmpeg CLI: reads /flv/shop2.flv?rendition=source with low-delay input flags, overlays a
  rendered card PNG and a drawtext price, encodes libx264 veryfast zerolatency at the
  same bitrate and GOP with one thread, and pushes RTMP back into the server as stream
  idle3 (one extra loopback RTMP hop, ~1 ms, counted against ffmpeg).
Three HTTP-FLV readers (source, main, idle3) timestamp every video tag on arrival; the
added latency of a frame is arrival(composited, pts P) − arrival(source, pts P)."""

import argparse
import bisect
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
import harness  # noqa: E402
import websockets  # noqa: E402

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0


def arrivals(reader) -> dict[int, float]:
    return {t.timestamp_ms: reader.t0 + t.arrival_s for t in reader.frames()}


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def show_card(port: int):
    async with websockets.connect(f"ws://{harness.HOST}:{port}/control/shop2",
                                  extra_headers={"Authorization": "Bearer shop2-merchant-e2e-q2w3"}) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "card.show", "req": "1", "card": {
            "id": "c1", "title": "真丝连衣裙 Silk dress", "price": "¥299", "original_price": "¥599",
            "position": "bottom-left"}}))
        while json.loads(await ws.recv()).get("type") != "applied":
            pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--seconds", type=float, default=20)
    args = ap.parse_args()
    harness.BINARY = str(Path(args.binary).resolve())
    work = Path(tempfile.mkdtemp(prefix="burn-in-vs-ffmpeg-"))
    server = harness.Server(work)
    server.start()
    children = []
    readers = []
    try:
        anchor = harness.Child(harness.publisher_cmd(server.rtmp_publish_url(harness.key_of("shop2")),
                                                     args.seconds + 30), work / "anchor.log", "anchor")
        children.append(anchor)
        server.wait_live("shop2")
        asyncio.run(show_card(server.http_port))
        cli = harness.Child([
            "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
            "-fflags", "nobuffer", "-flags", "low_delay", "-probesize", "32768", "-analyzeduration", "0",
            "-i", server.url("/flv/shop2.flv?rendition=source"),
            "-i", str(ROOT / "tests" / "golden" / "card_zh.png"),
            "-filter_complex",
            f"[0:v][1:v]overlay=40:500,drawtext=fontfile={FONT}:text='¥299':x=60:y=60:fontsize=48:fontcolor=white",
            "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-bf", "0", "-b:v", "2500k",
            "-maxrate", "2500k", "-bufsize", "2500k", "-g", "60", "-threads", "1", "-c:a", "copy",
            "-copyts", "-f", "flv", server.rtmp_publish_url(harness.key_of("idle3"))],
            work / "ffmpeg-cli.log", "ffmpeg-cli")
        children.append(cli)
        server.wait_live("idle3", timeout=30)
        time.sleep(3)  # both pipelines past their first keyframe
        source = harness.FlvReader(server.http_port, "/flv/shop2.flv?rendition=source")
        ours = harness.FlvReader(server.http_port, "/flv/shop2.flv")
        theirs = harness.FlvReader(server.http_port, "/flv/idle3.flv")
        readers = [source, ours, theirs]
        cpu_server0, cpu_cli0 = cpu_seconds(server.child.pid), cpu_seconds(cli.pid)
        time.sleep(args.seconds)
        cpu_server = cpu_seconds(server.child.pid) - cpu_server0
        cpu_cli = cpu_seconds(cli.pid) - cpu_cli0
        src = arrivals(source)
        for name, reader in (("anchorcast compositor", ours), ("ffmpeg CLI", theirs)):
            out = arrivals(reader)
            # ffmpeg re-times its output on a 1/30 s grid from its first frame (-copyts keeps
            # the origin, not every ms): pair each frame with the source frame nearest in pts.
            keys = sorted(src)
            added = []
            for p, at in out.items():
                i = bisect.bisect_left(keys, p)
                near = min((k for k in keys[max(0, i - 1):i + 1]), key=lambda k: abs(k - p), default=None)
                if near is not None and abs(near - p) <= 16:
                    added.append((at - src[near]) * 1000)
            print(f"{name:22s} frames matched {len(added):4d}  added latency p50 {pct(added, 0.5):6.1f} ms  "
                  f"p99 {pct(added, 0.99):6.1f} ms  mean {statistics.mean(added):6.1f} ms")
        print(f"CPU over {args.seconds:.0f} s: anchorcast server {cpu_server:.2f} s (everything: ingest, "
              f"compositor, 4 viewers), ffmpeg CLI {cpu_cli:.2f} s")
    finally:
        for r in readers:
            r.close()
        for c in children:
            c.stop()
        server.stop()


if __name__ == "__main__":
    main()
