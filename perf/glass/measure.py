#!/usr/bin/python3
"""Glass-to-glass latency, RTMP → anchorcast → WHEP on loopback, beside the encoder +
decoder floor of the same frames in the same run.

    /usr/bin/python3 perf/glass/measure.py --binary build/anchorcast [--seconds 20]

One generator (this process, PyAV 10 / libx264) makes 640x360 30 fps frames, each showing
its index as a barcode (16 bit blocks, with an inverted copy below to reject misreads),
notes time.monotonic() as it hands each frame to the encoder (x264 veryfast, zerolatency,
baseline, no B-frames, 1 s GOP), paced in real time, and sends the one encoder output
down two paths:

A (floor)  the packet is decoded at once by PyAV's h264 decoder in this process:
           latency = decoded − handed to the encoder.
B (relay)  the same packet is muxed to FLV by PyAV straight onto rtmp://… (libavformat's
           own RTMP client, flush_packets=1: one write per packet, no muxer buffering and
           no second ffmpeg stage that would re-parse or pace), into a private anchorcast
           started on free ports with a temp config (tests/e2e/harness.Server), out as
           WebRTC to an aiortc WHEP viewer in a child process (its own GIL); the viewer
           reads the barcode of each decoded frame: latency = decoded − handed to the
           encoder (CLOCK_MONOTONIC is shared by both processes).

aiortc's video jitter buffer hands a frame to its decoder only when the first packet of
the NEXT frame arrives (aiortc/jitterbuffer.py: a frame is complete when a packet with a
different timestamp follows), so B as aiortc shows it includes one frame interval
(33 ms) that a browser, which completes a frame on the RTP marker bit, does not wait.
The viewer therefore also notes when the last packet of each frame arrived, and the
script reports:

  relay added  = last RTP packet of frame i at the viewer − frame i encoded (A's clock)
                 (FLV mux + RTMP/TCP + anchorcast + SRTP/UDP + aiortc's SRTP/RTP parse)
  B marker     = A + relay added, per frame: what a decoder that starts on the marker
                 bit would show (the decode work is the same as A's)
  B aiortc     = as decoded by aiortc (marker + aiortc's one-frame hold + its decode)

Matched frames are those seen by both paths within the measured window (which starts
when the viewer has decoded its first frame, so ICE/DTLS/GOP replay are not counted)."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "e2e"))
import harness  # noqa: E402

WIDTH, HEIGHT, FPS = 640, 360, 30
BITS = 16
BLOCK_W = WIDTH // BITS
ROWS = ((40, 150), (210, 320))  # bits, then the same bits inverted
BLACK, WHITE = 16, 235


# ---------------------------------------------------------------------------------------
# Barcode


NOISE = np.random.default_rng(7)


def make_frame_array(index: int, noise_rows: int = 0) -> np.ndarray:
    """yuv420p as one (h * 3/2, w) array: luma barcode, neutral chroma; a small box moves
    along the bottom so P-frames are not empty. With noise_rows, the top rows are fresh
    noise every frame: frames as large as the bitrate allows (many RTP packets each)."""
    arr = np.full((HEIGHT * 3 // 2, WIDTH), 128, np.uint8)
    y = arr[:HEIGHT]
    y[:] = 90
    if noise_rows:
        y[:min(noise_rows, ROWS[0][0])] = NOISE.integers(BLACK, WHITE, (min(noise_rows, ROWS[0][0]), WIDTH),
                                                         dtype=np.uint8)
    for bit in range(BITS):
        on = (index >> bit) & 1
        x0 = bit * BLOCK_W
        y[ROWS[0][0]:ROWS[0][1], x0:x0 + BLOCK_W] = WHITE if on else BLACK
        y[ROWS[1][0]:ROWS[1][1], x0:x0 + BLOCK_W] = BLACK if on else WHITE
    x = (index * 8) % (WIDTH - 32)
    y[328:352, x:x + 32] = WHITE
    return arr


def read_barcode(luma: np.ndarray):
    """The frame index, or None when the two rows disagree (a misread)."""
    index = 0
    for bit in range(BITS):
        x0 = bit * BLOCK_W + BLOCK_W // 4
        x1 = bit * BLOCK_W + 3 * BLOCK_W // 4
        top = luma[ROWS[0][0] + 20:ROWS[0][1] - 20, x0:x1].mean() > 128
        bottom = luma[ROWS[1][0] + 20:ROWS[1][1] - 20, x0:x1].mean() > 128
        if top == bottom:
            return None
        index |= int(top) << bit
    return index


# ---------------------------------------------------------------------------------------
# Viewer (child process)


def viewer_main(http_port: int, stream: str) -> None:
    """Plays /whep/{stream} (video only) until stdin closes, then prints one JSON object:
    {"frames": [[index, rtp_ts, last_packet_at, decoded_at], ...]}. Prints "first" when
    the first frame with a readable barcode is decoded.

    Its own small WHEP client rather than tests/e2e/whep_viewer.py: it offers video only
    and records each frame's last-packet arrival, which the relay-added figure needs."""
    import asyncio

    from aiortc import RTCPeerConnection, RTCSessionDescription
    from aiortc.mediastreams import MediaStreamError

    last_packet_at: dict[int, float] = {}  # RTP timestamp → arrival of its newest packet
    rows: list[list] = []
    done = threading.Event()

    async def play():
        pc = RTCPeerConnection()
        transceiver = pc.addTransceiver("video", direction="recvonly")
        receiver = transceiver.receiver
        # aiortc routes each SRTP-unprotected RTP packet to its receiver's
        # _handle_rtp_packet (private, aiortc 1.4): wrap it to note arrivals per timestamp.
        original = receiver._handle_rtp_packet

        async def handle(packet, arrival_time_ms):
            last_packet_at[packet.timestamp] = time.monotonic()
            await original(packet, arrival_time_ms)

        receiver._handle_rtp_packet = handle
        tracks: asyncio.Queue = asyncio.Queue()
        pc.on("track", tracks.put_nowait)
        await pc.setLocalDescription(await pc.createOffer())
        status, answer = await asyncio.get_running_loop().run_in_executor(
            None, whep_post, http_port, stream, pc.localDescription.sdp)
        if status != 201:
            raise SystemExit(f"WHEP POST: {status} {answer}")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        track = await tracks.get()
        # The RTP timestamp origin aiortc subtracts (see tests/e2e/whep_viewer.py).
        mapper = receiver._RTCRtpReceiver__timestamp_mapper
        while not done.is_set():
            try:
                frame = await asyncio.wait_for(track.recv(), 1.0)
            except asyncio.TimeoutError:
                continue
            except MediaStreamError:
                break
            decoded_at = time.monotonic()
            index = read_barcode(frame.to_ndarray()[:frame.height])
            if index is None:
                continue
            rtp = (frame.pts + mapper._origin) % (1 << 32)
            if not rows:
                print("first", flush=True)
            rows.append([index, rtp, last_packet_at.get(rtp), decoded_at])
        await pc.close()

    def wait_stdin():
        sys.stdin.read()  # the parent closes stdin to end the run
        done.set()

    threading.Thread(target=wait_stdin, daemon=True).start()
    asyncio.run(play())
    print(json.dumps({"frames": rows}), flush=True)


def whep_post(http_port: int, stream: str, offer: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection(harness.HOST, http_port, timeout=10)
    try:
        conn.request("POST", f"/whep/{stream}", body=offer.encode(), headers={"Content-Type": "application/sdp"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------
# Generator (this process)


class Generator(threading.Thread):
    """Encodes in real time; muxes each packet to RTMP first, then decodes it (path A)."""

    def __init__(self, url: str, noise_rows: int = 0, bitrate_kbps: int = 0):
        super().__init__(name="generator", daemon=True)
        self.noise_rows = noise_rows
        self.bitrate_kbps = bitrate_kbps
        self.encoded_bytes = 0
        self.encoded_frames = 0
        self.url = url
        self.captured: dict[int, float] = {}
        self.encoded: dict[int, float] = {}
        self.decoded: dict[int, float] = {}
        self.misread = 0
        self.index = 0
        self.error: BaseException | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        import av
        import av.logging
        # libavformat warns on close that it cannot seek back into an RTMP stream to
        # rewrite the FLV header's duration: expected, not worth a line.
        av.logging.set_level(av.logging.ERROR)
        try:
            out = av.open(self.url, "w", format="flv", container_options={"flush_packets": "1"})
            stream = out.add_stream("libx264", rate=FPS)
            stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
            stream.options = {"preset": "veryfast", "tune": "zerolatency", "profile": "baseline",
                              "x264-params": f"bframes=0:keyint={FPS}:min-keyint={FPS}:scenecut=0"}
            if self.bitrate_kbps:
                stream.bit_rate = self.bitrate_kbps * 1000
            decoder = av.CodecContext.create("h264", "r")
            decoder.thread_type = "SLICE"  # frame threads would hold frames back
            start = time.monotonic()
            while not self.stop.is_set():
                i = self.index
                frame = av.VideoFrame.from_ndarray(make_frame_array(i, self.noise_rows), format="yuv420p")
                frame.pts = i
                due = start + i / FPS
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self.captured[i] = time.monotonic()
                packets = stream.encode(frame)
                self.encoded[i] = time.monotonic()
                if i == 0:
                    decoder.extradata = stream.codec_context.extradata  # SPS/PPS (global header)
                for packet in packets:
                    data = bytes(packet)
                    self.encoded_bytes += len(data)
                    self.encoded_frames += 1
                    out.mux(packet)
                    for picture in decoder.decode(av.Packet(data)):
                        decoded_at = time.monotonic()
                        index = read_barcode(picture.to_ndarray()[:HEIGHT])
                        if index is None:
                            self.misread += 1
                        else:
                            self.decoded[index] = decoded_at
                self.index += 1
            out.close()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            self.error = exc


# ---------------------------------------------------------------------------------------


def pcts(values) -> str:
    if not values:
        return "n=0"
    v = np.array(values)
    return (f"p50 {np.percentile(v, 50):6.1f}  p95 {np.percentile(v, 95):6.1f}  "
            f"p99 {np.percentile(v, 99):6.1f}  max {v.max():6.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default=str(harness.REPO_ROOT / "build" / "anchorcast"))
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--noise-rows", type=int, default=0,
                    help="fresh noise in the top rows (≤ 40) of every frame: large frames, many packets")
    ap.add_argument("--bitrate", type=int, default=0, help="x264 bitrate in kbit/s (default: x264's CRF)")
    ap.add_argument("--viewer", nargs=2, metavar=("HTTP_PORT", "STREAM"),
                    help=argparse.SUPPRESS)  # the child process
    args = ap.parse_args()
    if args.viewer:
        viewer_main(int(args.viewer[0]), args.viewer[1])
        return

    harness.BINARY = str(Path(args.binary).resolve())
    work = Path(tempfile.mkdtemp(prefix="glass-perf-"))
    server = harness.Server(work)
    server.start()
    generator = Generator(server.rtmp_publish_url(harness.key_of("demo")), args.noise_rows, args.bitrate)
    viewer = None
    lines: list[str] = []
    try:
        generator.start()
        server.wait_live("demo")
        argv = [sys.executable, __file__, "--viewer", str(server.http_port), "demo"]
        viewer = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        def read_lines():
            for line in viewer.stdout:
                lines.append(line)
        reader = threading.Thread(target=read_lines, daemon=True)
        reader.start()
        harness.wait_for(lambda: "first\n" in lines or generator.error, 30, "the viewer's first decoded frame")
        if generator.error:
            raise generator.error
        first_index = generator.index
        cpu0 = cpu_seconds(server.child.pid)
        load0 = os.getloadavg()
        harness.wait_for(lambda: generator.index >= first_index + args.seconds * FPS or generator.error,
                         args.seconds + 10, f"{args.seconds:.0f} s of frames")
        last_index = generator.index
        cpu = cpu_seconds(server.child.pid) - cpu0
        load1 = os.getloadavg()
        # Let the last frames arrive, then end the viewer.
        harness.wait_for(lambda: generator.index >= last_index + FPS // 2, 5, "half a second more")
        generator.stop.set()
        viewer.stdin.close()
        harness.wait_for(lambda: any(line.startswith("{") for line in lines), 20, "the viewer's report")
        generator.join(10)
        if generator.error:
            raise generator.error
    finally:
        generator.stop.set()
        if viewer and viewer.poll() is None:
            try:
                viewer.stdin.close()
            except OSError:
                pass
            try:
                viewer.wait(10)
            except subprocess.TimeoutExpired:
                viewer.kill()
        server.stop()
        if not os.environ.get("E2E_KEEP"):
            shutil.rmtree(work, ignore_errors=True)

    report = json.loads(next(line for line in lines if line.startswith("{")))
    b_frames = {row[0]: row for row in report["frames"]}
    window = range(first_index, first_index + int(args.seconds * FPS))
    a_ms, b_ms, relay_ms, marker_ms, diff_ms = [], [], [], [], []
    for i in window:
        if i in generator.decoded:
            a_ms.append(1000 * (generator.decoded[i] - generator.captured[i]))
        if i in b_frames:
            b_ms.append(1000 * (b_frames[i][3] - generator.captured[i]))
        if i in generator.decoded and i in b_frames:
            diff_ms.append(1000 * (b_frames[i][3] - generator.decoded[i]))
            if b_frames[i][2] is not None:
                relay = b_frames[i][2] - generator.encoded[i]
                relay_ms.append(1000 * relay)
                marker_ms.append(1000 * (generator.decoded[i] - generator.captured[i] + relay))
    due = len(window)
    print(f"glass-to-glass, {WIDTH}x{HEIGHT} {FPS} fps x264 veryfast/zerolatency/baseline, GOP {FPS}, "
          f"{args.seconds:.0f} s window = {due} frames (indices {window.start}..{window.stop - 1}); "
          f"mean encoded frame {generator.encoded_bytes / max(1, generator.encoded_frames):.0f} bytes "
          f"(≈ {generator.encoded_bytes * 8 * FPS / max(1, generator.encoded_frames) / 1000:.0f} kbit/s)")
    print(f"  A floor  (encode → decode, in-process)       {pcts(a_ms)}   frames {len(a_ms)}/{due}")
    print(f"  B aiortc (RTMP → anchorcast → WHEP, decoded) {pcts(b_ms)}   frames {len(b_ms)}/{due}")
    print(f"  B marker (A + relay added, marker-bit decode) {pcts(marker_ms)}   frames {len(marker_ms)}/{due}")
    print(f"  relay added (last RTP packet − encoded)      {pcts(relay_ms)}")
    print(f"  B aiortc − A, per frame                      {pcts(diff_ms)}   matched {len(diff_ms)}/{due}")
    if marker_ms and a_ms:
        print(f"  B marker − A at p50: {np.percentile(marker_ms, 50) - np.percentile(a_ms, 50):.1f} ms "
              f"(issue 5 target: ≤ 50 ms over the floor)")
    print(f"  barcode misreads: A {generator.misread}, B frames without a packet time "
          f"{sum(1 for r in report['frames'] if r[2] is None)}")
    print(f"  anchorcast CPU {100 * cpu / args.seconds:.1f} % of a core; load average "
          f"{load0[0]:.2f} → {load1[0]:.2f}; nproc {os.cpu_count()}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
