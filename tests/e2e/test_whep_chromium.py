"""WHEP playback in headless Chromium (Debian `chromium`): a test page, served from
another origin than the server (so the CORS preflight is exercised), POSTs its offer to
/whep/demo, plays the answer in a <video>, counts frames with requestVideoFrameCallback
and reads getStats: the inbound codecs must be video/H264 and audio/opus. The page
reports to a tiny HTTP server in this test (whep_page.py).

--allow-loopback-in-peer-connection: the server's candidate is 127.0.0.1, and Chromium
leaves loopback out of ICE otherwise."""

import harness
from harness import E2ETestCase, report, wait_for
from test_whep_aiortc import FPS, anchor_cmd
from whep_page import PageServer, whep_player_page

PLAY_S = 8

# Counts frames with requestVideoFrameCallback for the play time, then reads getStats.
PLAY_JS = """
    let frames = 0, first = 0;
    const onFrame = (now, meta) => {
      if (!first) { first = performance.now(); report("first_frame", {}); }
      frames++;
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    video.play().catch((e) => report("error", {message: "play: " + e}));
    await new Promise((r) => setTimeout(r, %(play_ms)d));
    const codecs = {}, inbound = {};
    const stats = await pc.getStats();
    stats.forEach((s) => { if (s.type === "codec") codecs[s.id] = s.mimeType; });
    stats.forEach((s) => {
      if (s.type === "inbound-rtp") inbound[s.kind] = {
        codec: codecs[s.codecId] || "", packetsReceived: s.packetsReceived,
        packetsLost: s.packetsLost, framesDecoded: s.framesDecoded,
        totalSamplesReceived: s.totalSamplesReceived, nackCount: s.nackCount};
    });
    report("done", {frames, played_ms: first ? performance.now() - first : 0, inbound,
                    first_frame_after_post_ms: first ? first - posted : -1,
                    width: video.videoWidth, height: video.videoHeight});
"""


class WhepChromiumTest(E2ETestCase):
    def test_chromium_plays_h264_and_opus(self):
        server = self.start_server()
        self.spawn(anchor_cmd(server.rtmp_publish_url(harness.key_of("demo")), 60), "anchor")
        server.wait_live("demo")

        page = PageServer(whep_player_page(server.url("/whep/demo"), PLAY_JS % {"play_ms": PLAY_S * 1000}))
        self.addCleanup(page.close)
        self.open_chromium(f"http://{harness.HOST}:{page.port}/")

        def finished():
            if page.find("error"):
                raise AssertionError(f"page error: {page.find('error')}; reports {page.reports}")
            return page.find("done")

        done = wait_for(finished, PLAY_S + 40, "the page's report")
        answer = page.find("answer")
        report(f"chromium: answer {answer}, report {done}")
        self.assertEqual(answer["status"], 201)
        self.assertTrue(answer["location"].startswith("/whep/demo/"), answer)
        video, audio = done["inbound"].get("video", {}), done["inbound"].get("audio", {})
        self.assertEqual(video.get("codec"), "video/H264", done)
        self.assertEqual(audio.get("codec"), "audio/opus", done)
        self.assertGreater(audio.get("totalSamplesReceived", 0), 0, done)
        # Frames presented over the play time, from the first one (join excluded).
        expected = FPS * done["played_ms"] / 1000
        # Issue 5: a new viewer's first frame on screen within 500 ms of the POST on
        # loopback. Measured and reported (perf/RESULTS.md), not asserted: timing.
        report(f"first frame presented {done['first_frame_after_post_ms']:.0f} ms after the POST")
        self.assertGreater(done["first_frame_after_post_ms"], 0, done)
        report(f"chromium presented {done['frames']} frames in {done['played_ms']:.0f} ms "
               f"(expected ~{expected:.0f}), decoded {video.get('framesDecoded')}")
        # The decoder must keep up with the source; presentation (rVFC) runs 92-94 % of
        # the source rate in headless Chromium here (its compositor skips a few frames at
        # 30 fps while aiortc decodes 100 % of the same stream), so it gets 85 %.
        self.assertGreaterEqual(video.get("framesDecoded", 0), 0.9 * expected)
        self.assertGreaterEqual(done["frames"], 0.85 * expected)
        self.assertEqual((done["width"], done["height"]), (640, 360))


if __name__ == "__main__":
    harness.main()
