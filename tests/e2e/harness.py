"""Shared helpers for anchorcast's end-to-end tests.

Every test drives the built server only through its external surface (docs/contract.md):
the CLI, the config file, RTMP on the rtmp port and HTTP on the http port. The clients
are real ones: the ffmpeg/ffprobe CLI, raw sockets and HTTP. Every wait is a poll with a
deadline (`wait_for`), never a bare sleep.

Run a test script as `python3 tests/e2e/test_X.py --binary build/anchorcast`; set
E2E_KEEP=1 to keep the temporary folders (config, server log, recordings) for a look.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]

# Set by main() from --binary before unittest runs.
BINARY: str = ""

# Known streams of every test server. Keys are long and distinctive so a test can grep the
# server log for them (the contract: keys are never logged in full). "demo" is a
# `metadata` stream: the video passes through untouched, which is what the relay tests
# check frame by frame; "shop2" is `burn-in` (published beside "demo" to tell two anchors
# apart); "idle3" is never published by any test.
STREAMS = [
    {"id": "demo", "publish_key": "demo-key-123456", "overlay": "metadata",
     "merchant_tokens": ["demo-merchant-e2e-7f3k"]},
    {"id": "shop2", "publish_key": "shop2-key-9x8y7z6w", "overlay": "burn-in",
     "merchant_tokens": ["shop2-merchant-e2e-q2w3"]},
    {"id": "idle3", "publish_key": "idle3-key-5t6y7u8i", "overlay": "metadata",
     "merchant_tokens": []},
]
ADMIN_TOKEN = "e2e-admin-token-h4j5k6"


def key_of(stream_id: str) -> str:
    return next(s["publish_key"] for s in STREAMS if s["id"] == stream_id)


def secrets() -> list[str]:
    out = [ADMIN_TOKEN]
    for s in STREAMS:
        out.append(s["publish_key"])
        out.extend(s["merchant_tokens"])
    return out


# ---------------------------------------------------------------------------------------
# Entry point, polling, ports


def main() -> None:
    """Strips --binary from argv, then runs unittest.main() for the calling script."""
    global BINARY
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--binary", default=os.environ.get(
        "ANCHORCAST_BINARY", str(REPO_ROOT / "build" / "anchorcast")))
    args, rest = parser.parse_known_args(sys.argv[1:])
    BINARY = str(Path(args.binary).resolve())
    sys.argv[1:] = rest
    if not os.access(BINARY, os.X_OK):
        print(f"anchorcast binary not found or not executable: {BINARY}", file=sys.stderr)
        sys.exit(1)
    unittest.main(module="__main__", verbosity=2)


# Errors that mean "not yet" while polling (connection refused while the server starts, a
# half-written JSON body); anything else, such as an AssertionError, ends the wait at once.
RETRYABLE = (OSError, http.client.HTTPException, ValueError)


def report(message: str) -> None:
    """A measured value, printed for the person reading the test output."""
    print(f"  [measured] {message}", file=sys.stderr, flush=True)


def wait_for(predicate: Callable[[], object], timeout: float, what: str,
             interval: float = 0.05):
    """Polls predicate until it returns a truthy value (returned) or the deadline passes
    (AssertionError naming `what`)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            last = predicate()
            if last:
                return last
        except RETRYABLE as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what} "
                                 f"(last: {last!r})")
        time.sleep(interval)


def free_ports(n: int) -> list[int]:
    """n distinct ports free for TCP and UDP on 127.0.0.1 right now."""
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < n:
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.bind((HOST, 0))
            port = tcp.getsockname()[1]
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                udp.bind((HOST, port))
            except OSError:
                tcp.close()
                udp.close()
                continue
            held += [tcp, udp]
            ports.append(port)
    finally:
        for s in held:
            s.close()
    return ports


# ---------------------------------------------------------------------------------------
# HTTP


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))


def http_request(port: int, method: str, path: str, body: Optional[bytes] = None,
                 headers: Optional[dict] = None, timeout: float = 5.0) -> HttpResponse:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return HttpResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


def http_get(port: int, path: str, timeout: float = 5.0) -> HttpResponse:
    return http_request(port, "GET", path, timeout=timeout)


def http_status(port: int, path: str, timeout: float = 5.0) -> tuple[int, dict[str, str]]:
    """Status and headers of a GET without reading the body (which, for a live FLV
    stream, never ends)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------
# Child processes (ffmpeg, the server)


# util-linux's setpriv (Debian: essential) makes each child die with the test process, so
# a test killed by ctest's timeout leaves no server or ffmpeg behind holding ports.
SETPRIV = shutil.which("setpriv")


class Child:
    """A child process whose stdout+stderr go to a log file."""

    def __init__(self, cmd: list[str], log_path: Path, name: str, cwd: Optional[Path] = None):
        self.cmd = cmd
        self.name = name
        self.log_path = log_path
        self.started = time.monotonic()
        self._log = open(log_path, "wb")
        argv = [SETPRIV, "--pdeathsig", "KILL", "--", *cmd] if SETPRIV else cmd
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=cwd)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def returncode(self) -> Optional[int]:
        return self.proc.poll()

    def wait(self, timeout: float) -> int:
        """Waits for exit; AssertionError (with the log tail) if still running."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} still running after {timeout:.1f}s\n"
                                 f"{self.log_tail()}") from None

    def stop(self, sig: int = signal.SIGINT, timeout: float = 5.0) -> Optional[int]:
        """Sends sig (SIGINT lets ffmpeg write its trailer), SIGKILL after timeout.
        Returns the exit code, None if it had to be killed.

        ffmpeg only checks the first SIGINT between packets; a read blocked on a quiet
        input is interrupted by the second one (fftools: decode_interrupt_cb), still
        writing the trailer. So a second signal follows after a second."""
        if self.proc.poll() is not None:
            self._log.close()
            self.log_text()
            return self.proc.returncode
        try:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(timeout=min(1.0, timeout))
            except subprocess.TimeoutExpired:
                if sig == signal.SIGKILL:
                    raise
                self.proc.send_signal(sig)
            return self.proc.wait(timeout=max(timeout - 1.0, 0.5))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        finally:
            self._log.close()
            self.log_text()

    def log_text(self) -> str:
        try:
            self._last_log = self.log_path.read_text(errors="replace")
        except OSError:  # the test's temp folder is gone: what was read last
            pass
        return getattr(self, "_last_log", "")

    def log_tail(self, lines: int = 20) -> str:
        tail = self.log_text().splitlines()[-lines:]
        return f"--- {self.name} log tail ({self.log_path}) ---\n" + "\n".join(tail)


def run_cli(args: list[str], timeout: float = 20.0, cwd: Optional[Path] = None):
    """Runs the anchorcast binary to completion: (exit code, stdout + stderr)."""
    proc = subprocess.run([BINARY, *args], stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout, cwd=cwd)
    return proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", errors="replace")


def write_config(path: Path, ports: dict[str, int], data_dir: Path,
                 streams: Optional[list[dict]] = None, extra: Optional[dict] = None) -> dict:
    config = {
        "http": {"listen": f"{HOST}:{ports['http']}"},
        "rtmp": {"listen": f"{HOST}:{ports['rtmp']}"},
        "srt": {"listen": f"{HOST}:{ports['srt']}", "latency_ms": 120},
        "webrtc": {"listen": f"{HOST}:{ports['webrtc']}", "public_ip": HOST},
        "data_dir": str(data_dir),
        "admin_token": ADMIN_TOKEN,
        "streams": streams if streams is not None else STREAMS,
        **(extra or {}),
    }
    path.write_text("// written by tests/e2e/harness.py\n" + json.dumps(config, indent=2))
    return config


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Server:
    """One anchorcast process on free loopback ports with its own data_dir and log."""

    def __init__(self, workdir: Path, streams: Optional[list[dict]] = None,
                 extra: Optional[dict] = None):
        self.workdir = workdir
        http_port, rtmp_port, srt_port, webrtc_port = free_ports(4)
        self.ports = {"http": http_port, "rtmp": rtmp_port, "srt": srt_port,
                      "webrtc": webrtc_port}
        self.config_path = workdir / "anchorcast.json"
        self.log_path = workdir / "server.log"
        self.config = write_config(self.config_path, self.ports, workdir / "data", streams, extra)
        self.child: Optional[Child] = None
        self.final_log = ""
        self.discarded = False  # failed to start on a port taken by someone else

    @property
    def http_port(self) -> int:
        return self.ports["http"]

    @property
    def rtmp_port(self) -> int:
        return self.ports["rtmp"]

    # URLs of the contract surface
    def rtmp_publish_url(self, key: str) -> str:
        return f"rtmp://{HOST}:{self.rtmp_port}/live/{key}"

    def rtmp_play_url(self, stream_id: str) -> str:
        return f"rtmp://{HOST}:{self.rtmp_port}/live/{stream_id}"

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.http_port}{path}"

    def start(self, timeout: float = 20.0) -> None:
        self.child = Child([BINARY, "--config", str(self.config_path)], self.log_path,
                           "anchorcast", cwd=self.workdir)

        def healthy():
            if not self.child.running():
                raise AssertionError(f"anchorcast exited with {self.child.returncode()} "
                                     f"while starting")
            return http_get(self.http_port, "/healthz", timeout=1.0).status == 200

        try:
            wait_for(healthy, timeout, "GET /healthz = 200", interval=0.05)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.log_tail()}") from None

    def alive(self) -> bool:
        return self.child is not None and self.child.running()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> tuple[Optional[int], float]:
        """Signals the server and waits: (exit code or None if killed, seconds taken)."""
        assert self.child is not None
        t0 = time.monotonic()
        if self.child.running():
            self.child.proc.send_signal(sig)
        try:
            code: Optional[int] = self.child.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.child.proc.kill()
            self.child.proc.wait()
            code = None
        elapsed = time.monotonic() - t0
        self.child.stop()  # closes the log file
        self.final_log = self.log_text()
        return code, elapsed

    def stop_and_check(self) -> None:
        """Cleanup for every test: SIGTERM must end the server with 0 within 5 s."""
        if self.child is None or self.discarded:
            return
        code, elapsed = self.stop(signal.SIGTERM, timeout=5.0)
        if code != 0:
            raise AssertionError(
                f"anchorcast did not stop cleanly on SIGTERM: exit {code} after "
                f"{elapsed:.1f}s (contract: exit 0 within 5 s)\n{self.log_tail()}")

    # log
    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return self.final_log

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int) -> list[str]:
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", errors="replace").splitlines()

    def log_tail(self, lines: int = 40) -> str:
        tail = self.log_text().splitlines()[-lines:]
        return f"--- anchorcast log tail ({self.log_path}) ---\n" + "\n".join(tail)

    def wait_log_line(self, offset: int, pattern: Callable[[str], bool], timeout: float,
                      what: str) -> str:
        def found():
            return next((line for line in self.log_since(offset) if pattern(line)), None)
        try:
            return wait_for(found, timeout, what, interval=0.1)
        except AssertionError as exc:
            new = "\n".join(self.log_since(offset)[-20:])
            raise AssertionError(f"{exc}\n--- new server log lines ---\n{new}") from None

    # HTTP API
    def get(self, path: str, timeout: float = 5.0) -> HttpResponse:
        return http_get(self.http_port, path, timeout=timeout)

    def streams(self) -> list[dict]:
        resp = self.get("/api/v1/streams")
        if resp.status != 200:
            raise AssertionError(f"GET /api/v1/streams -> {resp.status}: {resp.body[:200]!r}")
        return resp.json()

    def stream(self, stream_id: str) -> dict:
        for entry in self.streams():
            if entry.get("id") == stream_id:
                return entry
        raise AssertionError(f"stream {stream_id!r} missing from /api/v1/streams")

    def wait_live(self, stream_id: str, live: bool = True, timeout: float = 15.0) -> dict:
        return wait_for(lambda: (s := self.stream(stream_id)).get("live") is live and s,
                        timeout, f"/api/v1/streams: {stream_id} live={live}")


# ---------------------------------------------------------------------------------------
# HLS


def parse_playlist(text: str) -> tuple[int, list[tuple[float, str]]]:
    """(#EXT-X-TARGETDURATION, [(EXTINF seconds, URI), ...]) of a media playlist."""
    target = -1
    segments: list[tuple[float, str]] = []
    duration = None
    for line in (line.strip() for line in text.splitlines()):
        if line.startswith("#EXT-X-TARGETDURATION:"):
            target = int(line.split(":", 1)[1])
        elif line.startswith("#EXTINF:"):
            duration = float(line.split(":", 1)[1].split(",", 1)[0])
        elif line and not line.startswith("#"):
            segments.append((duration if duration is not None else -1.0, line))
            duration = None
    return target, segments


def wait_playlist_with_segment(server: "Server", stream_id: str,
                               timeout: float = 10.0) -> HttpResponse:
    """The live playlist exists once the first segment is cut; ffmpeg gives up on a 404,
    so an HLS viewer starts when the playlist lists a segment."""
    def ready():
        resp = server.get(f"/hls/{stream_id}/index.m3u8")
        return resp.status == 200 and parse_playlist(resp.body.decode())[1] and resp
    return wait_for(ready, timeout, f"/hls/{stream_id}/index.m3u8 listing a segment",
                    interval=0.1)


# ---------------------------------------------------------------------------------------
# ffmpeg clients


def publisher_cmd(url: str, seconds: float, gop: int = 30, size: str = "1280x720",
                  rate: int = 30, preset: str = "veryfast", picture: str = "testsrc2") -> list[str]:
    """An OBS-like anchor: testsrc2 video (or another lavfi source, e.g. the still
    smptebars) + 440 Hz sine over RTMP, in real time (-re)."""
    return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", f"{picture}=size={size}:rate={rate}",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
            "-t", str(seconds),
            "-c:v", "libx264", "-preset", preset, "-tune", "zerolatency", "-g", str(gop),
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-f", "flv", url]


def recorder_cmd(url: str, out: Path, fmt: str, input_opts: Optional[list[str]] = None) -> list[str]:
    """A viewer that copies what it receives into a file (no re-encode)."""
    return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
            *(input_opts or []), "-i", url, "-c", "copy", "-f", fmt, "-y", str(out)]


@dataclass
class MediaInfo:
    video_frames: int
    width: int
    height: int
    audio_frames: int  # -1: no audio stream
    video_codec: str
    audio_codec: str


def probe(path: Path, timeout: float = 90.0) -> MediaInfo:
    """Decodes every frame with ffprobe -count_frames and reads the first video and audio
    streams."""
    proc = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_streams",
                           "-of", "json", str(path)], capture_output=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"ffprobe {path} failed ({proc.returncode}): "
                             f"{proc.stderr.decode(errors='replace')[-1500:]}")
    streams = json.loads(proc.stdout).get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    return MediaInfo(
        video_frames=int(video.get("nb_read_frames", 0)) if video else 0,
        width=int(video.get("width", 0)) if video else 0,
        height=int(video.get("height", 0)) if video else 0,
        audio_frames=int(audio.get("nb_read_frames", 0)) if audio else -1,
        video_codec=video.get("codec_name", "") if video else "",
        audio_codec=audio.get("codec_name", "") if audio else "")


def packet_spans(path: Path, timeout: float = 60.0) -> dict[str, tuple[float, float, int]]:
    """{"video"|"audio": (lowest pts s, highest pts s, packets)} from ffprobe -show_packets."""
    proc = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                           "packet=codec_type,pts_time", "-of", "json", str(path)],
                          capture_output=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"ffprobe -show_packets {path} failed: "
                             f"{proc.stderr.decode(errors='replace')[-1500:]}")
    spans: dict[str, tuple[float, float, int]] = {}
    for pkt in json.loads(proc.stdout).get("packets", []):
        kind, pts = pkt.get("codec_type"), pkt.get("pts_time")
        if kind not in ("video", "audio") or pts in (None, "N/A"):
            continue
        t = float(pts)
        lo, hi, n = spans.get(kind, (t, t, 0))
        spans[kind] = (min(lo, t), max(hi, t), n + 1)
    return spans


def decode_errors(path: Path, timeout: float = 90.0) -> list[str]:
    """Lines ffmpeg prints at -v error while decoding the whole file."""
    proc = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", str(path),
                           "-f", "null", "-"], capture_output=True, timeout=timeout)
    lines = proc.stderr.decode(errors="replace").splitlines()
    if proc.returncode != 0:
        lines.append(f"(ffmpeg exit {proc.returncode})")
    return lines


def wait_files_settled(paths: list[Path], children: list, quiet_s: float,
                       timeout: float) -> None:
    """Polls until every file has stopped growing for quiet_s (or its writer, a Child or
    an FlvReader, has ended)."""
    last = {p: -1 for p in paths}
    since = {p: time.monotonic() for p in paths}

    def settled():
        now = time.monotonic()
        done = True
        for p, c in zip(paths, children):
            size = p.stat().st_size if p.exists() else -1
            if size != last[p]:
                last[p], since[p] = size, now
            if c.running() and now - since[p] < quiet_s:
                done = False
        return done

    wait_for(settled, timeout, f"recordings to stop growing: {[p.name for p in paths]}",
             interval=0.25)


# ---------------------------------------------------------------------------------------
# HTTP-FLV tag reader (raw socket)


FLV_AUDIO, FLV_VIDEO, FLV_SCRIPT = 8, 9, 18


@dataclass
class FlvTag:
    kind: int            # 8 audio, 9 video, 18 script data
    timestamp_ms: int
    arrival_s: float     # seconds since the reader started connecting
    size: int
    keyframe: bool = False              # video: frame type 1
    avc_packet_type: Optional[int] = None  # video AVC: 0 sequence header, 1 NALU, 2 end
    aac_packet_type: Optional[int] = None  # audio AAC: 0 sequence header, 1 raw

    @property
    def is_avc_header(self) -> bool:
        return self.kind == FLV_VIDEO and self.avc_packet_type == 0

    @property
    def is_video_frame(self) -> bool:
        return self.kind == FLV_VIDEO and self.avc_packet_type == 1


class _Stopped(Exception):
    pass


class FlvReader:
    """GET an HTTP-FLV URL on a raw socket and parse the FLV header and tags as they
    arrive (E.4 of the FLV spec v10.1), on a thread. Handles chunked and plain bodies;
    optionally saves the FLV body bytes to a file for ffprobe."""

    def __init__(self, port: int, path: str, save_to: Optional[Path] = None, read_pause_s: float = 0.0):
        # read_pause_s > 0: a slow viewer (a small receive buffer, a pause after each
        # read of at most 4 KiB), so the server falls behind on it and skips it ahead.
        self.port, self.path, self.save_to = port, path, save_to
        self.read_pause_s = read_pause_s
        self.status: Optional[int] = None
        self.headers: dict[str, str] = {}
        self.flv_header: Optional[bytes] = None
        self.tags: list[FlvTag] = []
        self.error: Optional[str] = None
        self.closed = False        # the server ended the body / the connection
        self.body_bytes = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sock: Optional[socket.socket] = None
        self.t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    # state for the test thread
    def snapshot(self) -> list[FlvTag]:
        with self._lock:
            return list(self.tags)

    def video_tags(self) -> list[FlvTag]:
        return [t for t in self.snapshot() if t.kind == FLV_VIDEO]

    def frames(self) -> list[FlvTag]:
        """Video tags that carry a picture (AVC NALU), not sequence headers."""
        return [t for t in self.snapshot() if t.is_video_frame]

    def running(self) -> bool:
        return self._thread.is_alive()

    def close(self) -> None:
        self._stop.set()
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)

    # reader thread
    def _run(self) -> None:
        out = open(self.save_to, "wb") if self.save_to else None
        try:
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if self.read_pause_s:
                self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            self._sock.settimeout(5)
            self._sock.connect((HOST, self.port))
            self._sock.settimeout(0.5)
            self._sock.sendall(f"GET {self.path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
                               f"User-Agent: anchorcast-e2e\r\nAccept: */*\r\n\r\n".encode())
            raw = bytearray()
            while b"\r\n\r\n" not in raw:
                chunk = self._recv()
                if not chunk:
                    raise ConnectionError("closed before the response headers")
                raw += chunk
            head, _, rest = bytes(raw).partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            self.status = int(lines[0].split()[1])
            self.headers = {k.strip().lower(): v.strip() for k, _, v in
                            (line.partition(":") for line in lines[1:])}
            chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
            body = self._dechunk(rest) if chunked else self._plain(rest)
            if self.status != 200:
                for _ in body:  # drain (error body), then stop
                    pass
                return
            buf = bytearray()
            for data in body:
                if out:
                    out.write(data)
                self.body_bytes += len(data)
                buf += data
                self._parse(buf)
        except _Stopped:
            pass
        except Exception as exc:  # noqa: BLE001 - reported to the test through .error
            if not self._stop.is_set():
                self.error = f"{type(exc).__name__}: {exc}"
                self.closed = True
        finally:
            if out:
                out.close()
            if self._sock is not None:
                self._sock.close()

    def _recv(self) -> bytes:
        while not self._stop.is_set():
            try:
                if self.read_pause_s:
                    self._stop.wait(self.read_pause_s)
                    return self._sock.recv(4096)
                return self._sock.recv(65536)
            except socket.timeout:
                continue
        raise _Stopped()

    def _plain(self, first: bytes):
        if first:
            yield first
        while True:
            data = self._recv()
            if not data:
                self.closed = True
                return
            yield data

    def _dechunk(self, first: bytes):
        buf = bytearray(first)

        def fill(n: int) -> bool:
            while len(buf) < n:
                data = self._recv()
                if not data:
                    return False
                buf.extend(data)
            return True

        while True:
            while b"\r\n" not in buf:
                if not fill(len(buf) + 1):
                    self.closed = True
                    return
            line, _, _ = bytes(buf).partition(b"\r\n")
            size = int(line.split(b";")[0], 16)
            del buf[:len(line) + 2]
            if size == 0:
                self.closed = True
                return
            if not fill(size + 2):
                self.closed = True
                return
            yield bytes(buf[:size])
            del buf[:size + 2]

    def _parse(self, buf: bytearray) -> None:
        if self.flv_header is None:
            if len(buf) < 13:
                return
            if bytes(buf[:3]) != b"FLV":
                raise ValueError(f"not FLV: {bytes(buf[:16])!r}")
            header_len = struct.unpack(">I", buf[5:9])[0]
            if len(buf) < header_len + 4:
                return
            self.flv_header = bytes(buf[:header_len])
            del buf[:header_len + 4]  # header + PreviousTagSize0
        while len(buf) >= 11:
            kind = buf[0] & 0x1F
            size = int.from_bytes(buf[1:4], "big")
            ts = int.from_bytes(buf[4:7], "big") | (buf[7] << 24)
            if len(buf) < 11 + size + 4:
                return
            data = bytes(buf[11:11 + size])
            previous_size = int.from_bytes(buf[11 + size:15 + size], "big")
            if previous_size != 11 + size:
                # E.3: each tag is followed by its own size; anything else means the
                # stream lost or gained bytes and every later tag is misread.
                raise ValueError(f"FLV out of step after tag {len(self.tags)}: PreviousTagSize "
                                 f"{previous_size}, the tag was {11 + size} bytes")
            tag = FlvTag(kind, ts, time.monotonic() - self.t0, size)
            if kind == FLV_VIDEO and data:
                tag.keyframe = (data[0] >> 4) == 1
                if (data[0] & 0x0F) == 7 and len(data) > 1:
                    tag.avc_packet_type = data[1]
            elif kind == FLV_AUDIO and data:
                if (data[0] >> 4) == 10 and len(data) > 1:
                    tag.aac_packet_type = data[1]
            with self._lock:
                self.tags.append(tag)
            del buf[:11 + size + 4]


# ---------------------------------------------------------------------------------------
# A tiny RTMP client for malformed-input tests (RTMP spec 1.0, sections 5.2 and 5.3;
# AMF0 spec section 2). Plain handshake only, fmt-0 chunk headers.


def amf0(value) -> bytes:
    if isinstance(value, bool):
        return b"\x01" + (b"\x01" if value else b"\x00")
    if isinstance(value, (int, float)):
        return b"\x00" + struct.pack(">d", float(value))
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return b"\x02" + struct.pack(">H", len(raw)) + raw
    if value is None:
        return b"\x05"
    if isinstance(value, dict):
        out = b"\x03"
        for k, v in value.items():
            key = k.encode("utf-8")
            out += struct.pack(">H", len(key)) + key + amf0(v)
        return out + b"\x00\x00\x09"
    raise TypeError(f"no AMF0 encoding for {type(value).__name__}")


def chunk_header_fmt0(csid: int, timestamp: int, length: int, type_id: int,
                      stream_id: int) -> bytes:
    assert 2 <= csid <= 63, "one-byte basic header only"
    return (bytes([csid]) + min(timestamp, 0xFFFFFF).to_bytes(3, "big") +
            length.to_bytes(3, "big") + bytes([type_id]) + struct.pack("<I", stream_id))


def chunk_message(csid: int, type_id: int, payload: bytes, stream_id: int = 0,
                  timestamp: int = 0, chunk_size: int = 128) -> bytes:
    """One message as a fmt-0 chunk followed by fmt-3 continuation chunks."""
    out = bytearray(chunk_header_fmt0(csid, timestamp, len(payload), type_id, stream_id))
    out += payload[:chunk_size]
    for i in range(chunk_size, len(payload), chunk_size):
        out += bytes([0xC0 | csid]) + payload[i:i + chunk_size]
    return bytes(out)


def connect_command(port: int, app: str = "live") -> bytes:
    return (amf0("connect") + amf0(1) +
            amf0({"app": app, "type": "nonprivate", "flashVer": "FMLE/3.0",
                  "tcUrl": f"rtmp://{HOST}:{port}/{app}"}))


class RtmpClient:
    def __init__(self, port: int, timeout: float = 5.0):
        self.port = port
        self.sock = socket.create_connection((HOST, port), timeout=timeout)

    @property
    def local_port(self) -> int:
        return self.sock.getsockname()[1]

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            data = self.sock.recv(n - len(buf))
            if not data:
                raise ConnectionError(f"closed after {len(buf)} of {n} bytes")
            buf += data
        return bytes(buf)

    def handshake(self) -> None:
        """C0 C1 -> S0 S1 S2 -> C2 (simple handshake, section 5.2)."""
        c1 = struct.pack(">II", int(time.time()) & 0xFFFFFFFF, 0) + random.randbytes(1528)
        self.send(b"\x03" + c1)
        try:
            s0 = self.recv_exact(1)
            s1 = self.recv_exact(1536)
            self.recv_exact(1536)  # S2
        except OSError as exc:
            raise AssertionError(f"server broke a valid RTMP handshake: {exc}") from None
        if s0 != b"\x03":
            raise AssertionError(f"S0 version {s0!r}, expected 3")
        self.send(s1)              # C2 echoes S1

    def wait_closed(self, timeout: float) -> bool:
        """Reads and discards until the server closes the connection (True) or the
        deadline passes (False)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                if not self.sock.recv(65536):
                    return True
            except socket.timeout:
                return False
            except OSError:  # reset by peer
                return True

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------------------------------
# Test case base


class E2ETestCase(unittest.TestCase):
    """Gives each test a temp folder, a way to start servers and ffmpeg children that are
    always cleaned up, and prints server and client log tails when the test fails."""

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix=f"anchorcast-e2e-{self._testMethodName}-"))
        self._servers: list[Server] = []
        self._children: list[Child] = []
        if not os.environ.get("E2E_KEEP"):
            self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def run(self, result=None):
        result = result if result is not None else self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        super().run(result)
        if len(result.failures) + len(result.errors) > before:
            for server in getattr(self, "_servers", []):
                print("\n" + server.log_tail(60), file=sys.stderr)
            for child in getattr(self, "_children", []):
                tail = child.log_tail(10)
                if tail.count("\n") > 0 and tail.split("\n", 1)[1].strip():
                    print(tail, file=sys.stderr)
        return result

    def start_server(self, streams: Optional[list[dict]] = None, extra: Optional[dict] = None) -> Server:
        """`extra`: more top-level config sections (e.g. {"data_plane": {"threads": 2}})."""
        for attempt in range(3):
            workdir = Path(tempfile.mkdtemp(prefix="server-", dir=self.tmp))
            server = Server(workdir, streams, extra)
            self._servers.append(server)
            # Registered before start so a server that fails to stop still gets killed; the
            # check itself is part of every test (contract: SIGTERM -> exit 0 within 5 s).
            self.addCleanup(server.stop_and_check)
            try:
                server.start()
                return server
            except AssertionError:
                # Another process on this machine took one of the free ports between
                # free_ports() and the server's bind: exit 2 naming it. Pick new ports.
                log = server.log_text()
                if (attempt < 2 and server.child.returncode() == 2 and
                        any(str(p) in log for p in server.ports.values())):
                    server.discarded = True
                    continue
                raise
        raise AssertionError("unreachable")

    def open_chromium(self, url: str, name: str = "chromium") -> Child:
        """Headless Chromium (Debian's, which ./dev.sh installs) on `url`, with the flags
        the issues name, its own throw-away profile, loopback WebRTC and autoplay."""
        self.assertTrue(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: ./dev.sh installs Debian's chromium")
        profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=self.tmp))
        self.addCleanup(shutil.rmtree, profile, ignore_errors=True)
        return self.spawn([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                           "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required",
                           url], name)

    def spawn(self, cmd: list[str], name: str) -> Child:
        child = Child(cmd, self.tmp / f"{name}.log", name)
        self._children.append(child)
        self.addCleanup(child.stop, signal.SIGKILL, 5.0)
        return child

    def publish(self, server: Server, key: str, seconds: float, gop: int = 30,
                name: str = "publisher", **kw) -> Child:
        return self.spawn(publisher_cmd(server.rtmp_publish_url(key), seconds, gop, **kw), name)

    def flv_reader(self, server: Server, path: str, save_to: Optional[Path] = None,
                   read_pause_s: float = 0.0) -> FlvReader:
        reader = FlvReader(server.http_port, path, save_to, read_pause_s)
        self.addCleanup(reader.close)
        return reader
