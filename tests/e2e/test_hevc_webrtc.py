"""HEVC anchors reach every viewer (issue 14): browsers take no HEVC over WebRTC, so an
HEVC source is transcoded once to H.264 for its WebRTC viewers; a burn-in stream
composites from it (decode HEVC, encode main in H.264).

- libx265 over SRT (MPEG-TS stream type 0x24) → headless Chromium over WHEP plays it
  (>= 90 % of the frames presented, no freeze over 500 ms: the issue asks HEVC to reach
  WHEP; the 95 % / 200 ms bar is the B-frame test's, and here a real-time x265 encoder
  shares the two cores); the API says the video is transcoded.
- libx265 as Enhanced RTMP (ertmp_publisher.py; FFmpeg 5.1 cannot send it) to a burn-in
  stream: a merchant's card shows on main (H.264 from the compositor) and not on the
  source, both grabbed over WebRTC with aiortc; Chromium plays the source over WHEP (the
  transcode); the source's HLS is fMP4 HEVC whose listed frames all decode."""

import asyncio
import subprocess
import sys
from pathlib import Path

import numpy as np

import harness
from harness import HOST, E2ETestCase, parse_playlist, report, wait_for
from merchant import SHOP2_TOKEN, Merchant, card
from test_hls_fmp4_hevc import srt_hevc_publisher_cmd
from whep_page import play_smoothly
from whep_viewer import WhepViewer

PUBLISHER = Path(__file__).resolve().with_name("ertmp_publisher.py")
W, H = 640, 360
FPS = 30


class HevcWebRtcTest(E2ETestCase):
    def grab_webrtc(self, server, stream_id: str, query: str) -> np.ndarray:
        viewer = WhepViewer(server.http_port, stream_id, query, webrtc_port=server.ports["webrtc"])
        viewer.keep_picture = True
        viewer.start()
        self.addCleanup(viewer.close)
        wait_for(lambda: len(viewer.video_times) >= 10, 30, f"10 WebRTC frames of /whep/{stream_id}{query}")
        picture = viewer.last_gray
        h, w = picture.shape
        return picture.reshape(H, h // H, W, w // W).mean(axis=(1, 3)).astype(np.uint8)

    def test_hevc_over_srt_plays_in_chromium_through_the_transcode(self):
        server = self.start_server()
        server.wait_log_line(0, lambda l: "srt: listening on" in l, 5, "the server's SRT listener")
        url = f"srt://{HOST}:{server.ports['srt']}?streamid={harness.key_of('demo')}"
        self.spawn(srt_hevc_publisher_cmd(url, 60), "publisher")
        server.wait_live("demo", timeout=15)
        wait_for(lambda: (server.stream("demo").get("ingest") or {}).get("video"), 10, "the source's video track")
        self.assertEqual(server.stream("demo")["ingest"]["video"]["codec"], "hevc")
        self.assertEqual(server.stream("demo")["webrtc"]["main"]["video"], "transcoded")
        play_smoothly(self, server, "/whep/demo", min_presented=0.9, max_gap_ms=500)

    def test_enhanced_rtmp_hevc_on_a_burn_in_stream(self):
        server = self.start_server()
        self.spawn([sys.executable, str(PUBLISHER), "publish", server.rtmp_publish_url(harness.key_of("shop2")),
                    "--seconds", "90", "--fps", str(FPS), "--size", f"{W}x{H}", "--picture", "smptebars",
                    "--keyint", "30", "--audio"], "ertmp-publisher")
        server.wait_live("shop2", timeout=20)
        wait_for(lambda: (server.stream("shop2").get("ingest") or {}).get("video"), 10, "the source's video track")
        self.assertEqual(server.stream("shop2")["ingest"]["video"]["codec"], "hevc")

        # A card burned in from the HEVC source: main shows it, the source does not.
        async def show():
            m = await Merchant.open(server, "shop2", SHOP2_TOKEN)
            r = await m.call(card("1", "c1", position="bottom-left"))
            self.assertEqual(r["type"], "ack", r)
            applied = await m.event("applied", version=r["version"])
            await m.close()
            return applied["pts_ms"]

        applied_pts = asyncio.run(show())
        report(f"card applied at main pts {applied_pts}")
        main, clean = self.grab_webrtc(server, "shop2", ""), self.grab_webrtc(server, "shop2", "?rendition=source")
        card_area = (0, H // 2, W // 2, H)
        x0, y0, x1, y1 = card_area
        diff = np.abs(main.astype(np.int16) - clean.astype(np.int16))
        report(f"card area differs by {diff[y0:y1, x0:x1].mean():.1f}, the top third by {diff[:H // 3].mean():.1f}")
        self.assertGreater(diff[y0:y1, x0:x1].mean(), 4, "main shows no card over the HEVC source")
        self.assertLess(diff[:H // 3].mean(), 3, "away from the card main strays from the source")
        state = server.stream("shop2")["webrtc"]
        self.assertEqual(state["main"]["video"], "passthrough", state)  # the compositor's H.264
        self.assertEqual(state["source"]["video"], "transcoded", state)

        # Chromium plays the HEVC source over WebRTC, through the transcode.
        play_smoothly(self, server, "/whep/shop2?rendition=source", min_presented=0.9, max_gap_ms=500)

        # The source's HLS is fMP4 HEVC; every frame of the listed segments decodes.
        path = "/hls/shop2/index.m3u8?rendition=source"
        wait_for(lambda: len(parse_playlist(server.get(path).body.decode())[1]) >= 3, 20, "three fMP4 segments")
        text = server.get(path).body.decode()
        self.assertIn("#EXT-X-VERSION:7", text)
        map_uri = next(l for l in text.splitlines() if l.startswith("#EXT-X-MAP:")).split('URI="', 1)[1].split('"')[0]
        _, segments = parse_playlist(text)

        def fetch(uri: str) -> bytes:
            resp = server.get(f"/hls/shop2/{uri}")
            self.assertEqual(resp.status, 200, uri)
            return resp.body

        movie = bytearray(fetch(map_uri))
        for _, uri in segments:
            movie += fetch(uri)
        out = self.tmp / "source.mp4"
        out.write_bytes(bytes(movie))
        info = harness.probe(out)
        self.assertEqual(info.video_codec, "hevc", info)
        self.assertEqual((info.width, info.height), (W, H), info)
        self.assertEqual(harness.decode_errors(out), [])
        listed = sum(d for d, _ in segments)
        res = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                              "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(out)],
                             capture_output=True, text=True, timeout=60)
        frames = int(res.stdout.strip())
        report(f"fMP4 HLS from E-RTMP: {frames} frames decoded over {listed:.2f} s listed")
        self.assertGreaterEqual(frames, 0.95 * FPS * listed)
        self.assertLessEqual(frames, 1.05 * FPS * listed + 1)


if __name__ == "__main__":
    harness.main()
