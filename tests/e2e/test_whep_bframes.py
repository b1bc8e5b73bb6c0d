"""OBS's default encoder settings over WebRTC (issue 14): x264 with B-frames (preset
veryfast, no tune, `-bf 3`) to a `metadata` stream, and to the source rendition of a
burn-in stream. Browsers render WebRTC in decode order, so a passed-through B-frame
stream stutters; the feed transcodes it once to H.264 without B-frames. Headless
Chromium plays it over WHEP and reports, from requestVideoFrameCallback, the frames
presented and the longest gap between two of them; the streams API and the metrics show
the transcode, which stops 30 s after the last WebRTC viewer left. A source without
B-frames is passed through, never transcoded."""

import time

import harness
from harness import E2ETestCase, report, wait_for
from test_whep_aiortc import metric
from whep_page import PLAY_S, play_smoothly

FPS = 30
LINGER_S = 30

def obs_default_anchor(url: str, seconds: float, b_frames: int = 3) -> list[str]:
    """OBS 29's default x264 output: preset veryfast, no tune, B-frames, 2 s keyframes."""
    return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate={FPS}",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
            "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-bf", str(b_frames),
            "-g", str(2 * FPS), "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-f", "flv", url]


class WhepBFramesTest(E2ETestCase):
    @staticmethod
    def source_b_frames(server, stream_id: str) -> bool:
        video = (server.stream(stream_id).get("ingest") or {}).get("video") or {}
        return bool(video.get("b_frames"))

    def webrtc_state(self, server, stream_id: str, rendition: str) -> dict:
        return server.stream(stream_id)["webrtc"][rendition]

    def test_obs_defaults_play_smoothly_through_one_transcode_that_stops_after_the_last_viewer(self):
        server = self.start_server()
        self.spawn(obs_default_anchor(server.rtmp_publish_url(harness.key_of("demo")), 120), "anchor")
        server.wait_live("demo")
        wait_for(lambda: self.source_b_frames(server, "demo"), 10, "the hub to see B-frames")
        # Before any viewer: what WebRTC would do, nothing running.
        self.assertEqual(self.webrtc_state(server, "demo", "main"),
                         {"video": "transcoded", "transcoder_running": False})

        play_smoothly(self, server, "/whep/demo")
        left = time.monotonic()
        metrics = server.get("/metrics").body.decode()
        self.assertEqual(metric(metrics, "anchorcast_webrtc_transcode_starts_total", stream="demo"), 1)
        frames = metric(metrics, "anchorcast_webrtc_transcode_frames_total", stream="demo")
        self.assertGreaterEqual(frames, FPS * PLAY_S * 0.95)
        self.assertGreater(metric(metrics, "anchorcast_webrtc_transcode_cpu_microseconds_total", stream="demo"), 0)
        # The viewer left (DELETE): the transcode lingers for 30 s, then stops.
        self.assertEqual(self.webrtc_state(server, "demo", "main")["transcoder_running"], True)
        wait_for(lambda: not server.stream("demo")["webrtc"]["main"]["transcoder_running"], LINGER_S + 15,
                 "the transcoder to stop after the last viewer", interval=0.5)
        stopped_after = time.monotonic() - left
        report(f"transcoder stopped {stopped_after:.1f} s after the last viewer left")
        self.assertGreaterEqual(stopped_after, LINGER_S - 1)
        # HLS, FLV and RTMP keep the untouched source: the hub still reports its B-frames.
        self.assertTrue(server.stream("demo")["ingest"]["video"]["b_frames"])

    def test_source_rendition_of_a_burn_in_stream_is_transcoded_and_main_is_not(self):
        server = self.start_server()
        self.spawn(obs_default_anchor(server.rtmp_publish_url(harness.key_of("shop2")), 90), "anchor")
        server.wait_live("shop2")
        wait_for(lambda: self.source_b_frames(server, "shop2"), 10, "the hub to see B-frames")
        play_smoothly(self, server, "/whep/shop2?rendition=source")
        state = server.stream("shop2")["webrtc"]
        self.assertEqual(state["source"]["video"], "transcoded", state)
        # main is the compositor's output (no B-frames): never transcoded twice.
        self.assertEqual(state["main"]["video"], "passthrough", state)
        metrics = server.get("/metrics").body.decode()
        self.assertEqual(metric(metrics, "anchorcast_webrtc_transcode_starts_total", stream="shop2",
                                rendition="source"), 1)
        self.assertEqual(metric(metrics, "anchorcast_webrtc_transcode_starts_total", stream="shop2",
                                rendition="main"), 0)

    def test_a_source_without_b_frames_is_passed_through(self):
        server = self.start_server()
        self.spawn(obs_default_anchor(server.rtmp_publish_url(harness.key_of("demo")), 60, b_frames=0), "anchor")
        server.wait_live("demo")
        wait_for(lambda: (server.stream("demo").get("ingest") or {}).get("video"), 10, "the source's video track")
        play_smoothly(self, server, "/whep/demo")
        self.assertEqual(self.webrtc_state(server, "demo", "main")["video"], "passthrough")
        self.assertFalse(server.stream("demo")["ingest"]["video"]["b_frames"])
        metrics = server.get("/metrics").body.decode()
        self.assertEqual(metric(metrics, "anchorcast_webrtc_transcode_starts_total", stream="demo"), 0)


if __name__ == "__main__":
    harness.main()
