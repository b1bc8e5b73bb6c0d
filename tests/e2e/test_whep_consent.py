"""ICE consent freshness (RFC 7675) on the server: a viewer that goes silent — here its
lossy relay starts dropping everything, as when a phone leaves Wi-Fi without a DELETE —
loses its session once no STUN check has arrived for 30 s. The session is closed and
freed: the webrtc session gauge and the stream's webrtc viewer count return to 0."""

import time

import harness
from harness import E2ETestCase, report, wait_for
from test_whep_aiortc import anchor_cmd, metric
from whep_viewer import WhepViewer

CONSENT_S = 30


class WhepConsentTest(E2ETestCase):
    def test_a_silent_viewer_is_freed_after_thirty_seconds(self):
        server = self.start_server()
        self.spawn(anchor_cmd(server.rtmp_publish_url(harness.key_of("demo")), 90), "anchor")
        server.wait_live("demo")
        viewer = WhepViewer(server.http_port, "demo", relay_loss=0.0, webrtc_port=server.ports["webrtc"])
        self.addCleanup(viewer.close)
        viewer.start()
        viewer.wait_answered(15)
        wait_for(lambda: len(viewer.video_times) > 10, 15, "decoded video")
        self.assertEqual(server.stream("demo")["viewers"]["webrtc"], 1)

        viewer.relay.loss = 1.0  # the viewer vanishes: nothing reaches the server any more
        silent_since = time.monotonic()

        def freed():
            text = server.get("/metrics").body.decode()
            return (metric(text, "anchorcast_webrtc_sessions") == 0 and
                    server.stream("demo")["viewers"]["webrtc"] == 0)

        wait_for(freed, CONSENT_S + 10, "the silent session to be freed")
        took = time.monotonic() - silent_since
        report(f"silent viewer freed {took:.1f} s after its last datagram could arrive")
        # aiortc sends a consent check every ~5 s, so up to 5 s of the 30 may have run
        # before the relay went silent.
        self.assertGreaterEqual(took, CONSENT_S - 6)
        self.assertIn("no ICE consent for 30 s", server.log_text())


if __name__ == "__main__":
    harness.main()
