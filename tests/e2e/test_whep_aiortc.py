"""WHEP playback with a real WebRTC stack (Debian python3-aiortc): an anchor pushes
testsrc2 + sine over RTMP (x264 baseline, no B-frames, AAC), a WHEP client POSTs its
offer, and over 10 s decodes at least 90 % of the frames the anchor sent in that time
(H.264 through PyAV) and Opus audio (AAC transcoded once per stream by the server).

Also the signalling surface: 201 + Location + application/sdp, CORS on OPTIONS, 415 for
a wrong content type, 400 naming what is wrong in the SDP, 404 unknown / not live,
DELETE ends the session (then 404), and the viewer shows in /api/v1/streams and /metrics.

Why 90 % over a window is fair: the window starts at the first decoded frame, so the
join (ICE, DTLS, the GOP replay) is not counted against the relay; 30 fps × 10 s = 300
frames are due, and a relay that paces, loses or stalls packets decodes fewer."""

import re
import time

import harness
from harness import E2ETestCase, report, wait_for
from whep_viewer import WhepViewer, delete_session

FPS = 30
WINDOW_S = 10.0


def anchor_cmd(url: str, seconds: float) -> list[str]:
    return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate={FPS}",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
            "-t", str(seconds),
            "-c:v", "libx264", "-profile:v", "baseline", "-bf", "0", "-preset", "veryfast",
            "-tune", "zerolatency", "-g", str(FPS), "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "64k", "-f", "flv", url]


def metric(text: str, name: str, **labels) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        m = re.match(r"^([a-z_]+)(\{[^}]*\})?\s+(\S+)$", line)
        if not m or m.group(1) != name:
            continue
        if all(f'{k}="{v}"' in (m.group(2) or "") for k, v in labels.items()):
            total += float(m.group(3))
    return total


class WhepAiortcTest(E2ETestCase):
    def viewer(self, server, stream_id="demo", **kw) -> WhepViewer:
        v = WhepViewer(server.http_port, stream_id, webrtc_port=server.ports["webrtc"], **kw)
        self.addCleanup(v.close)
        return v.start()

    def test_decodes_h264_and_opus(self):
        server = self.start_server()
        self.spawn(anchor_cmd(server.rtmp_publish_url(harness.key_of("demo")), 40), "anchor")
        server.wait_live("demo")

        viewer = self.viewer(server)
        viewer.wait_answered(15)
        self.assertEqual(viewer.status, 201)
        self.assertRegex(viewer.location, r"^/whep/demo/[A-Za-z0-9_-]+$")
        self.assertIn("a=ice-lite", viewer.answer_sdp)
        self.assertIn("H264", viewer.answer_sdp)
        self.assertIn("opus/48000/2", viewer.answer_sdp)

        wait_for(lambda: viewer.video_times, 10, "the first decoded video frame")
        first_frame_s = viewer.video_times[0] - viewer.posted_at
        report(f"first decoded frame {first_frame_s * 1000:.0f} ms after the POST")
        start = viewer.video_times[0]
        audio_at_start = viewer.audio_frames
        wait_for(lambda: time.monotonic() >= start + WINDOW_S, WINDOW_S + 5, "the 10 s window")
        decoded = sum(1 for t in viewer.video_times if start <= t < start + WINDOW_S)
        audio = viewer.audio_frames - audio_at_start
        report(f"{decoded} video frames decoded in {WINDOW_S:.0f} s (expected {FPS * WINDOW_S:.0f}), "
               f"{audio} Opus frames, sizes {sorted(viewer.video_sizes)}")
        self.assertGreaterEqual(decoded, 0.9 * FPS * WINDOW_S)
        # 20 ms Opus frames: 500 in 10 s; aiortc may hand them over in pairs.
        self.assertGreaterEqual(viewer.audio_samples, 1)
        self.assertGreaterEqual(audio, 200)
        self.assertEqual(viewer.video_sizes, {(640, 360)})

        entry = server.stream("demo")
        self.assertEqual(entry["viewers"]["webrtc"], 1, entry["viewers"])
        text = server.get("/metrics").body.decode()
        self.assertEqual(metric(text, "anchorcast_webrtc_sessions"), 1)
        self.assertGreater(metric(text, "anchorcast_egress_bytes_total", protocol="webrtc"), 100_000)
        self.assertEqual(metric(text, "anchorcast_viewers", protocol="webrtc"), 1)

        self.assertEqual(delete_session(server.http_port, viewer.location), 200)
        wait_for(lambda: server.stream("demo")["viewers"]["webrtc"] == 0, 5, "the viewer count to drop")
        self.assertEqual(delete_session(server.http_port, viewer.location), 404)

    def test_viewers_on_every_loop_get_every_packet_in_order(self):
        # Each session's media goes out from a data-plane loop, dealt round robin: with
        # two loops, two viewers send from different loops (and threads) over the one
        # UDP socket. Each must get the stream whole: no sequence gap over the window.
        server = self.start_server(extra={"data_plane": {"threads": 2}})
        self.spawn(anchor_cmd(server.rtmp_publish_url(harness.key_of("demo")), 40), "anchor")
        server.wait_live("demo")
        viewers = [self.viewer(server), self.viewer(server)]
        for v in viewers:
            v.wait_answered(15)
        wait_for(lambda: all(v.video_times for v in viewers), 10, "the first decoded frame on both viewers")

        def senders_per_loop():
            text = server.get("/metrics").body.decode()
            return [metric(text, "anchorcast_webrtc_media_senders", loop=str(i)) for i in range(2)]
        self.assertEqual(senders_per_loop(), [1, 1], "one viewer's media on each loop")

        # aiortc has stats for an SSRC once a packet of it came: audio starts live (no
        # replay), so it may lag the first frame by a packet or two.
        wait_for(lambda: all({"video", "audio"} <= set(v.rtp_counts()) for v in viewers), 5,
                 "RTP of both media on both viewers")
        start = time.monotonic()
        before = [v.rtp_counts() for v in viewers]
        wait_for(lambda: time.monotonic() >= start + WINDOW_S, WINDOW_S + 5, "the 10 s window")
        after = [v.rtp_counts() for v in viewers]
        for i, v in enumerate(viewers):
            decoded = sum(1 for t in v.video_times if start <= t < start + WINDOW_S)
            received = {k: after[i][k][0] - before[i][k][0] for k in ("video", "audio")}
            lost = {k: after[i][k][1] - before[i][k][1] for k in ("video", "audio")}
            report(f"viewer {i}: {decoded} frames decoded in {WINDOW_S:.0f} s, RTP received {received}, "
                   f"lost {lost}")
            self.assertGreaterEqual(decoded, 0.9 * FPS * WINDOW_S)
            # Audio: 50 Opus packets a second; video: at least a packet per frame.
            self.assertGreaterEqual(received["audio"], 0.9 * 50 * WINDOW_S)
            self.assertGreaterEqual(received["video"], 0.9 * FPS * WINDOW_S)
            self.assertEqual(lost, {"video": 0, "audio": 0}, "a sequence gap on loopback")

    def test_rendition_source_plays(self):
        server = self.start_server()
        self.spawn(anchor_cmd(server.rtmp_publish_url(harness.key_of("demo")), 30), "anchor")
        server.wait_live("demo")
        viewer = self.viewer(server, query="?rendition=source")
        viewer.wait_answered(15)
        self.assertEqual(viewer.status, 201)
        wait_for(lambda: len(viewer.video_times) >= FPS, 10, "a second of video from ?rendition=source")
        wait_for(lambda: viewer.audio_frames > 0, 5, "Opus audio from ?rendition=source")

    def test_video_only_source_plays(self):
        # No audio track: the offered audio section is answered inactive in the BUNDLE
        # (aiortc refuses a whole answer that rejects a section with port 0).
        server = self.start_server()
        self.spawn(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
                    "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate={FPS}", "-t", "30",
                    "-c:v", "libx264", "-profile:v", "baseline", "-bf", "0", "-preset", "veryfast",
                    "-tune", "zerolatency", "-g", str(FPS), "-pix_fmt", "yuv420p", "-an",
                    "-f", "flv", server.rtmp_publish_url(harness.key_of("demo"))], "anchor")
        server.wait_live("demo")
        # The answer follows the tracks the stream has announced when the offer comes.
        wait_for(lambda: (server.stream("demo").get("ingest") or {}).get("video"), 10, "the video track")
        viewer = self.viewer(server)
        viewer.wait_answered(15)
        self.assertEqual(viewer.status, 201)
        audio_section = viewer.answer_sdp[viewer.answer_sdp.index("m=audio"):]
        self.assertRegex(audio_section, r"^m=audio [1-9]")
        self.assertIn("a=inactive", audio_section)
        wait_for(lambda: len(viewer.video_times) >= FPS, 10, "a second of video from a video-only source")
        self.assertEqual(viewer.audio_frames, 0)

    def test_signalling_errors_are_clear(self):
        server = self.start_server()
        port = server.http_port
        offer = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"

        r = harness.http_request(port, "OPTIONS", "/whep/demo", headers={
            "Origin": "https://player.example", "Access-Control-Request-Method": "POST"})
        self.assertIn(r.status, (200, 204))
        self.assertEqual(r.headers.get("access-control-allow-origin"), "*")
        self.assertIn("POST", r.headers.get("access-control-allow-methods", ""))
        allow_headers = r.headers.get("access-control-allow-headers", "").lower()
        self.assertIn("content-type", allow_headers)
        self.assertIn("authorization", allow_headers)
        self.assertIn("location", r.headers.get("access-control-expose-headers", "").lower())

        r = harness.http_request(port, "POST", "/whep/nope", offer.encode(), {"Content-Type": "application/sdp"})
        self.assertEqual(r.status, 404, r.body)
        r = harness.http_request(port, "POST", "/whep/idle3", offer.encode(), {"Content-Type": "application/sdp"})
        self.assertEqual(r.status, 404, r.body)
        self.assertIn("not live", r.body.decode())
        r = harness.http_request(port, "POST", "/whep/demo", offer.encode(), {"Content-Type": "text/plain"})
        self.assertEqual(r.status, 415, r.body)
        self.assertEqual(r.headers.get("access-control-allow-origin"), "*")
        r = harness.http_request(port, "DELETE", "/whep/demo/0123456789abcdef", None, {})
        self.assertEqual(r.status, 404, r.body)

        self.spawn(anchor_cmd(server.rtmp_publish_url(harness.key_of("demo")), 30), "anchor")
        server.wait_live("demo")
        r = harness.http_request(port, "POST", "/whep/demo", b"hello", {"Content-Type": "application/sdp"})
        self.assertEqual(r.status, 400, r.body)
        report(f"400 body for a non-SDP offer: {r.body.decode()}")
        r = harness.http_request(port, "POST", "/whep/demo", offer.encode(), {"Content-Type": "application/sdp"})
        self.assertEqual(r.status, 400, r.body)
        report(f"400 body for an offer without media: {r.body.decode()}")
        r = harness.http_request(port, "POST", "/whep/demo?rendition=bogus", offer.encode(),
                                 {"Content-Type": "application/sdp"})
        self.assertEqual(r.status, 400, r.body)


if __name__ == "__main__":
    harness.main()
