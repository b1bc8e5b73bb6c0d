"""Burn-in overlays end to end (issue 4; contract: "Commerce control channel", "?rendition=source").

A real ffmpeg anchor pushes RTMP to the burn-in stream; a real WebSocket merchant shows a
card and runs a flash sale; real ffmpeg viewers decode the `main` rendition and the
untouched `source` rendition over HTTP-FLV, frame by frame with their pts. The checks:
- at the `applied` pts the card's region differs from the source and the rest of the
  frame matches within codec tolerance; the frame before it shows no card;
- after `card.hide` the region matches the source again;
- a sale's countdown region changes from one second to the next; stock 0 (sold out)
  changes the card against the in-stock render;
- HLS, HTTP-FLV, RTMP play and WebRTC (WHEP, aiortc) show the composited video by
  default and the clean one with ?rendition=source.
The anchor sends still SMPTE bars, so any change in the main rendition is the overlay's.
"""

import asyncio
import re
import subprocess
import threading
import time

import numpy as np

import harness
from harness import E2ETestCase, wait_for
from merchant import SHOP2_TOKEN, Merchant, card, sale
from whep_viewer import WhepViewer

STREAM = "shop2"  # the harness's burn-in stream
W, H = 640, 360   # viewers scale 1280x720 down by two: enough for region checks, 4x less memory
SHOWINFO = re.compile(r"\bn:\s*(\d+)\s+pts:\s*(-?\d+)\s+pts_time:(-?[\d.]+)")


class FrameReader:
    """A real ffmpeg viewer that decodes a URL to gray frames keyed by pts (ms, as the
    server stamps them: -copyts keeps FLV timestamps)."""

    def __init__(self, url: str, log_path):
        self.frames: dict[int, np.ndarray] = {}
        self.order: list[int] = []
        self._lock = threading.Lock()
        self._pts: list[int] = []
        cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "info", "-copyts",
               "-i", url, "-map", "0:v:0", "-vf", f"showinfo,scale={W}:{H},format=gray",
               "-fps_mode", "passthrough", "-f", "rawvideo", "-"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._log = open(log_path, "w")
        threading.Thread(target=self._read_info, daemon=True).start()
        threading.Thread(target=self._read_frames, daemon=True).start()

    def _read_info(self):
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace")
            m = SHOWINFO.search(line)
            if m:
                with self._lock:
                    self._pts.append(round(float(m.group(3)) * 1000))
            else:
                self._log.write(line)

    def _read_frames(self):
        size = W * H
        index = 0
        while True:
            data = self.proc.stdout.read(size)
            if len(data) < size:
                return
            frame = np.frombuffer(data, dtype=np.uint8).reshape(H, W)
            # showinfo prints before the frame reaches stdout; wait for its pts line.
            deadline = time.monotonic() + 5
            while True:
                with self._lock:
                    if len(self._pts) > index:
                        pts = self._pts[index]
                        break
                if time.monotonic() > deadline:
                    return
                time.sleep(0.001)
            with self._lock:
                self.frames[pts] = frame
                self.order.append(pts)
            index += 1

    def newest(self) -> int:
        with self._lock:
            return self.order[-1] if self.order else -1

    def at(self, pts: int) -> np.ndarray:
        with self._lock:
            return self.frames[pts]

    def pts_list(self) -> list[int]:
        with self._lock:
            return list(self.order)

    def close(self):
        self.proc.kill()
        self.proc.wait(5)
        self._log.close()


def diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16))


def changed_box(d: np.ndarray, threshold: int = 24):
    """Bounding box (x0, y0, x1, y1) of the pixels that differ by more than `threshold`."""
    ys, xs = np.nonzero(d > threshold)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def region(frame: np.ndarray, box) -> np.ndarray:
    x0, y0, x1, y1 = box
    return frame[y0:y1, x0:x1]


def outside(frame_diff: np.ndarray, box, margin: int = 8) -> np.ndarray:
    mask = np.ones(frame_diff.shape, dtype=bool)
    x0, y0, x1, y1 = box
    mask[max(0, y0 - margin):y1 + margin, max(0, x0 - margin):x1 + margin] = False
    return frame_diff[mask]


class BurnInTest(E2ETestCase):
    def setUp(self):
        super().setUp()
        self.server = self.start_server()
        self.publish(self.server, harness.key_of(STREAM), seconds=120, gop=30, picture="smptebars")
        self.server.wait_live(STREAM)

    def reader(self, path: str, name: str) -> FrameReader:
        r = FrameReader(self.server.url(path), self.tmp / f"{name}.log")
        self.addCleanup(r.close)
        wait_for(lambda: r.newest() >= 0, 20, f"a decoded frame from {path}")
        return r

    def frames_past(self, readers, pts: int, timeout: float = 15):
        wait_for(lambda: all(r.newest() >= pts for r in readers), timeout,
                 f"both renditions decoded past pts {pts}")

    def test_card_appears_at_the_applied_frame_and_goes_after_hide(self):
        main = self.reader(f"/flv/{STREAM}.flv", "main")
        source = self.reader(f"/flv/{STREAM}.flv?rendition=source", "source")

        async def show_then_hide():
            m = await Merchant.open(self.server, STREAM, SHOP2_TOKEN)
            shown = await m.call(card("1", "c1", position="bottom-left"))
            self.assertEqual(shown["type"], "ack", shown)
            applied_show = await m.event("applied", version=shown["version"])
            self.frames_past([main, source], applied_show["pts_ms"] + 1500)
            hidden = await m.call({"type": "card.hide", "req": "2", "id": "c1"})
            applied_hide = await m.event("applied", version=hidden["version"])
            await m.close()
            return applied_show["pts_ms"], applied_hide["pts_ms"]

        show_pts, hide_pts = asyncio.run(show_then_hide())
        self.frames_past([main, source], hide_pts + 1000)
        harness.report(f"applied: card.show at pts {show_pts}, card.hide at pts {hide_pts}")

        # The card once settled (1 s after it appeared): where it is.
        settled = min(p for p in main.pts_list() if p >= show_pts + 1000)
        box = changed_box(diff(main.at(settled), source.at(settled)))
        self.assertIsNotNone(box, "no card in the main rendition 1 s after applied")
        x0, y0, x1, y1 = box
        harness.report(f"card box at 640x360: {box}")
        self.assertLess(x1, W // 2, "a bottom-left card reaches the right half")
        self.assertGreater(y0, H // 2, "a bottom-left card reaches the top half")
        self.assertGreater((x1 - x0) * (y1 - y0), 40 * 20, "the card is implausibly small")

        # At the applied pts: the card's region differs, the rest matches the source.
        self.assertIn(show_pts, main.frames, "applied pts_ms is not the pts of a main frame")
        d = diff(main.at(show_pts), source.at(show_pts))
        self.assertGreater(region(d, box).mean(), 8, "the card is not in the frame `applied` names")
        rest = outside(d, box)
        self.assertLess(rest.mean(), 2.5, "outside the card the main rendition strays from the source")
        self.assertLess(np.percentile(rest, 99.9), 24)
        # The frame before: no card yet (the change is in the frame applied names, not earlier).
        before = max(p for p in main.pts_list() if p < show_pts)
        self.assertLess(region(diff(main.at(before), source.at(before)), box).mean(), 3,
                        "the card was visible before its applied frame")

        # After card.hide (and its 250 ms fade): the region matches again.
        after = min(p for p in main.pts_list() if p >= hide_pts + 500)
        self.assertLess(region(diff(main.at(after), source.at(after)), box).mean(), 3,
                        "the card is still there after card.hide")
        self.assertGreater(region(diff(main.at(hide_pts), source.at(hide_pts)), box).mean(), 3,
                           "card.hide's applied frame no longer shows the fading card")

    def test_sale_counts_down_each_second_and_shows_sold_out(self):
        main = self.reader(f"/flv/{STREAM}.flv", "main")
        source = self.reader(f"/flv/{STREAM}.flv?rendition=source", "source")

        async def run_sale():
            m = await Merchant.open(self.server, STREAM, SHOP2_TOKEN)
            started = await m.call(sale("1", "s1", stock=23, duration_ms=60000, position="top-right"))
            applied_start = await m.event("applied", version=started["version"])
            self.frames_past([main, source], applied_start["pts_ms"] + 3500)
            sold = await m.call({"type": "sale.update", "req": "2", "id": "s1", "stock": 0})
            applied_sold = await m.event("applied", version=sold["version"])
            await m.close()
            return applied_start["pts_ms"], applied_sold["pts_ms"]

        start_pts, sold_pts = asyncio.run(run_sale())
        self.frames_past([main, source], sold_pts + 1000)
        pts = main.pts_list()
        t1 = min(p for p in pts if p >= start_pts + 1000)
        box = changed_box(diff(main.at(t1), source.at(t1)))
        self.assertIsNotNone(box, "no sale in the main rendition")
        self.assertGreater(box[0], W // 2, "a top-right sale reaches the left half")
        self.assertLess(box[3], H // 2 + 20, "a top-right sale reaches the bottom")

        # One second later only the countdown differs (the source is a still picture).
        t2 = min(p for p in pts if p >= t1 + 1000)
        tick = region(diff(main.at(t1), main.at(t2)), box)
        # One digit of "00:59" → "00:58" is ~7x10 pixels at 640x360.
        self.assertGreater(int((tick > 30).sum()), 6, "the countdown did not change in a second")
        self.assertLess(tick.mean(), 6, "more than the countdown changed between two seconds")

        # Sold out: the card at the applied pts differs from the in-stock render.
        before = max(p for p in pts if p < sold_pts)
        change = region(diff(main.at(before), main.at(sold_pts)), box)
        self.assertGreater(int((change > 40).sum()), 50, "stock 0 did not change the sale card")
        harness.report(f"sale box {box}; tick changed {int((tick > 30).sum())} px; "
                       f"sold out changed {int((change > 40).sum())} px")

    def test_every_egress_defaults_to_composited_and_gives_source_on_request(self):
        async def show():
            m = await Merchant.open(self.server, STREAM, SHOP2_TOKEN)
            r = await m.call(card("1", "c1", position="bottom-left"))
            await m.event("applied", version=r["version"])
            await m.close()
        harness.wait_playlist_with_segment(self.server, STREAM)
        def newest_segment() -> str:
            return harness.parse_playlist(self.server.get(f"/hls/{STREAM}/index.m3u8").body.decode())[1][-1][1]
        before = newest_segment()
        asyncio.run(show())
        # HLS lags by segments: play from the newest one, once two were cut after the card.
        wait_for(lambda: newest_segment() not in (before,), 10, "a segment cut after the card showed")
        after = newest_segment()
        wait_for(lambda: newest_segment() != after, 10, "a second segment cut after the card showed")

        def grab(url: str) -> np.ndarray:
            start = ["-live_start_index", "-1"] if "/hls/" in url else []
            out = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", *start, "-i", url,
                                  "-map", "0:v:0", "-frames:v", "1", "-vf", f"scale={W}:{H},format=gray",
                                  "-f", "rawvideo", "-"], capture_output=True, timeout=30)
            self.assertEqual(len(out.stdout), W * H, f"{url}: {out.stderr.decode(errors='replace')}")
            return np.frombuffer(out.stdout, dtype=np.uint8).reshape(H, W)

        # The card sits in the bottom-left quarter; the picture is still, so frames of any
        # pts compare.
        card_area = (0, H // 2, W // 2, H)
        urls = {
            "hls": self.server.url(f"/hls/{STREAM}/index.m3u8"),
            "flv": self.server.url(f"/flv/{STREAM}.flv"),
            "rtmp": self.server.rtmp_play_url(STREAM),
        }
        def grab_webrtc(query: str) -> np.ndarray:
            viewer = WhepViewer(self.server.http_port, STREAM, query)
            viewer.keep_picture = True
            viewer.start()
            self.addCleanup(viewer.close)
            wait_for(lambda: len(viewer.video_times) >= 10, 20, f"10 WebRTC frames of /whep/{STREAM}{query}")
            picture = viewer.last_gray
            h, w = picture.shape
            return picture.reshape(H, h // H, W, w // W).mean(axis=(1, 3)).astype(np.uint8)

        grabs = {name: (grab(url), grab(url + ("&" if "?" in url else "?") + "rendition=source"))
                 for name, url in urls.items()}
        grabs["webrtc"] = (grab_webrtc(""), grab_webrtc("?rendition=source"))
        for name, (main, clean) in grabs.items():
            d = region(diff(main, clean), card_area)
            harness.report(f"{name}: card area differs by {d.mean():.1f} on average")
            self.assertGreater(d.mean(), 4, f"{name}: the default rendition shows no card")
            top = region(diff(main, clean), (0, 0, W, H // 3))
            self.assertLess(top.mean(), 3, f"{name}: away from the card the renditions differ")


if __name__ == "__main__":
    harness.main()
