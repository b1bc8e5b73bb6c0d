#!/usr/bin/python3
"""Timed-metadata delivery and the viewer events endpoint, measured with real clients.

    /usr/bin/python3 perf/cues/measure.py --binary build/anchorcast [--commands 20]

Starts a private anchorcast on free ports; ffmpeg anchors publish 1280x720 30 fps to the
burn-in stream (shop2) and the metadata stream (demo). For each stream:
- WebRTC: an aiortc WHEP viewer with the `overlay` data channel; a merchant sends a
  card.show every 300 ms; delay = command sent → the cue with its version on the channel.
- HLS: delay = command sent → the media playlist lists the card's EXT-X-DATERANGE (what a
  player sees at its next playlist refresh; segments are ~1 s, so this is the floor).
Then the events endpoint: C client addresses (127.0.0.2...) POST click events as fast as
one connection each allows, for 5 s; req/s answered (202 accepted, 429 over the per-client
cap) and the server's CPU."""

import argparse
import asyncio
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "e2e"))
import harness  # noqa: E402
import websockets  # noqa: E402
from whep_viewer import WhepViewer  # noqa: E402

TOKENS = {"shop2": "shop2-merchant-e2e-q2w3", "demo": "demo-merchant-e2e-7f3k"}


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0


async def cue_delays(server, stream: str, viewer: WhepViewer, commands: int):
    webrtc, hls = [], []
    async with websockets.connect(f"ws://{harness.HOST}:{server.http_port}/control/{stream}",
                                  extra_headers={"Authorization": f"Bearer {TOKENS[stream]}"}) as ws:
        await ws.recv()
        for i in range(commands):
            cid = f"p{i}"
            sent = time.monotonic()
            await ws.send(json.dumps({"type": "card.show", "req": str(i), "card": {
                "id": cid, "title": f"商品 {i}", "price": "¥99", "position": "bottom-left",
                "url": "https://shop.example/p"}}))
            version = None
            while version is None:
                msg = json.loads(await ws.recv())
                if msg.get("type") == "ack":
                    version = msg["version"]
            got_webrtc = got_hls = None
            deadline = sent + 10
            while (got_webrtc is None or got_hls is None) and time.monotonic() < deadline:
                if got_webrtc is None:
                    for at, text in list(viewer.channel_messages):
                        m = json.loads(text)
                        if m.get("type") == "cue" and m.get("version", 0) >= version and at >= sent:
                            got_webrtc = at
                            break
                if got_hls is None:
                    body = server.get(f"/hls/{stream}/index.m3u8").body.decode(errors="replace")
                    if f'ID="{cid}-' in body:
                        got_hls = time.monotonic()
                await asyncio.sleep(0.01)
            if got_webrtc:
                webrtc.append((got_webrtc - sent) * 1000)
            if got_hls:
                hls.append((got_hls - sent) * 1000)
            await ws.send(json.dumps({"type": "overlay.clear", "req": f"c{i}"}))
            await asyncio.sleep(0.3)
    return webrtc, hls


def events_load(server, clients: int, seconds: float):
    counts = {"202": 0, "429": 0, "other": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    body = json.dumps({"type": "click", "id": "p1"})

    def client(n: int):
        conn = http.client.HTTPConnection(harness.HOST, server.http_port, timeout=5,
                                          source_address=(f"127.0.0.{2 + n}", 0))
        local = {"202": 0, "429": 0, "other": 0}
        while time.monotonic() < stop:
            conn.request("POST", "/api/v1/streams/demo/events", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            key = str(r.status) if r.status in (202, 429) else "other"
            local[key] += 1
        with lock:
            for k, v in local.items():
                counts[k] += v

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    cpu0 = cpu_seconds(server.child.pid)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts, cpu_seconds(server.child.pid) - cpu0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--commands", type=int, default=20)
    ap.add_argument("--clients", type=int, default=20)
    args = ap.parse_args()
    harness.BINARY = str(Path(args.binary).resolve())
    work = Path(tempfile.mkdtemp(prefix="cues-perf-"))
    server = harness.Server(work)
    server.start()
    children = []
    try:
        for stream in ("shop2", "demo"):
            children.append(harness.Child(harness.publisher_cmd(server.rtmp_publish_url(harness.key_of(stream)),
                                                                600), work / f"{stream}.log", stream))
            server.wait_live(stream)
        harness.wait_playlist_with_segment(server, "demo")
        harness.wait_playlist_with_segment(server, "shop2")
        for stream in ("shop2", "demo"):
            viewer = WhepViewer(server.http_port, stream, data_channel="overlay").start()
            harness.wait_for(lambda: viewer.channel_open_at is not None, 20, "the overlay data channel open")
            webrtc, hls = asyncio.run(cue_delays(server, stream, viewer, args.commands))
            viewer.close()
            mode = "burn-in" if stream == "shop2" else "metadata"
            for name, d in (("WebRTC data channel", webrtc), ("HLS playlist DATERANGE", hls)):
                print(f"{stream} ({mode}) {name}: n={len(d)} p50 {pct(d, 0.5):.0f} ms  p99 {pct(d, 0.99):.0f} ms"
                      f"  max {max(d) if d else float('nan'):.0f} ms")
        counts, cpu = events_load(server, args.clients, 5.0)
        total = sum(counts.values())
        print(f"events endpoint, {args.clients} client addresses, 5 s: {total / 5:.0f} req/s answered "
              f"({counts['202'] / 5:.0f}/s accepted, {counts['429'] / 5:.0f}/s rate-limited, "
              f"{counts['other']} other), server CPU {100 * cpu / 5:.0f} % of a core, "
              f"{1e6 * cpu / max(total, 1):.0f} us per request")
    finally:
        for c in children:
            c.stop()
        server.stop()


if __name__ == "__main__":
    main()
