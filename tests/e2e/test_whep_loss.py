"""WHEP under 5 % random loss: a lossy UDP relay (whep_viewer.LossyUdpRelay, seeded)
sits between an aiortc viewer and the server's UDP port and drops 5 % of datagrams in
both directions. The viewer NACKs what it misses (aiortc does, for video); the server
resends from the stream's packet history, and PLI restarts the viewer at the latest
keyframe when a hole cannot be filled. Over 10 s the viewer must never freeze for more
than 2 s (the gap between two decoded frames) and must decode most frames; /metrics
must show the NACKs and the retransmissions."""

import time

import harness
from harness import E2ETestCase, report, wait_for
from test_whep_aiortc import FPS, WINDOW_S, anchor_cmd, metric
from whep_viewer import WhepViewer

LOSS = 0.05
MAX_FREEZE_S = 2.0


class WhepLossTest(E2ETestCase):
    def test_nack_recovers_under_five_percent_loss(self):
        server = self.start_server()
        self.spawn(anchor_cmd(server.rtmp_publish_url(harness.key_of("demo")), 40), "anchor")
        server.wait_live("demo")

        viewer = WhepViewer(server.http_port, "demo", relay_loss=LOSS, webrtc_port=server.ports["webrtc"])
        self.addCleanup(viewer.close)
        viewer.start()
        viewer.wait_answered(15)
        wait_for(lambda: viewer.video_times, 15, "the first decoded frame through the lossy relay")
        start = viewer.video_times[0]
        wait_for(lambda: time.monotonic() >= start + WINDOW_S, WINDOW_S + 5, "the 10 s window")
        times = [t for t in viewer.video_times if start <= t < start + WINDOW_S]
        gaps = [b - a for a, b in zip(times, times[1:])]
        # A freeze running to the window's end counts too.
        tail_gap = start + WINDOW_S - times[-1]
        worst = max(gaps + [tail_gap])
        text = server.get("/metrics").body.decode()
        nacked = metric(text, "anchorcast_webrtc_nacked_packets_total")
        resent = metric(text, "anchorcast_webrtc_retransmissions_total")
        plis = metric(text, "anchorcast_webrtc_keyframe_requests_total")
        relay = viewer.relay
        report(f"relay dropped {relay.dropped} of {relay.dropped + relay.forwarded} datagrams; "
               f"{len(times)} frames decoded in {WINDOW_S:.0f} s, longest gap {worst * 1000:.0f} ms; "
               f"server: {nacked:.0f} NACKed, {resent:.0f} resent, {plis:.0f} PLI/FIR")
        self.assertGreater(relay.dropped, 0)
        self.assertLessEqual(worst, MAX_FREEZE_S)
        self.assertGreater(nacked, 0)
        self.assertGreater(resent, 0)
        self.assertGreaterEqual(len(times), 0.75 * FPS * WINDOW_S)

    def test_pli_after_a_blackout_restarts_the_viewer_at_a_keyframe(self):
        """3 s with nothing getting through (more than aiortc's jitter buffer holds):
        when packets flow again the viewer asks for a keyframe (PLI), the server
        replays the latest GOP from its cache (never asking the anchor), and decoding
        resumes within a second."""
        server = self.start_server()
        self.spawn(anchor_cmd(server.rtmp_publish_url(harness.key_of("demo")), 60), "anchor")
        server.wait_live("demo")
        viewer = WhepViewer(server.http_port, "demo", relay_loss=0.0, webrtc_port=server.ports["webrtc"])
        self.addCleanup(viewer.close)
        viewer.start()
        viewer.wait_answered(15)
        wait_for(lambda: len(viewer.video_times) > 2 * FPS, 15, "two seconds of decoded video")
        viewer.relay.loss = 1.0
        wait_for(lambda: time.monotonic() >= viewer.video_times[-1] + 3, 10, "a 3 s blackout")
        viewer.relay.loss = 0.0
        restored = time.monotonic()
        before = len(viewer.video_times)
        wait_for(lambda: len(viewer.video_times) >= before + FPS, 10, "a second of video after the blackout")
        first_after = next(t for t in viewer.video_times[before:] if t >= restored)
        text = server.get("/metrics").body.decode()
        plis = metric(text, "anchorcast_webrtc_keyframe_requests_total")
        report(f"first frame {1000 * (first_after - restored):.0f} ms after the path came back; "
               f"{plis:.0f} PLI/FIR, {metric(text, 'anchorcast_webrtc_nacked_packets_total'):.0f} NACKed")
        self.assertGreater(plis, 0)
        self.assertLess(first_after - restored, 1.0)


if __name__ == "__main__":
    harness.main()
