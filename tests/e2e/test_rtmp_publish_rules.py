"""Who may publish, and what viewers get for streams that are not there.

Contract: a wrong or unknown key is refused (NetStream.Publish.BadName or the connection
closed) and logged without the key; a second publisher on a live stream is refused while
the first keeps streaming; unknown streams 404, known streams 404 until live.
"""

import re
import time

import harness
from harness import E2ETestCase, http_status, wait_for

WRONG_KEY = "guessed-Zq81xT3vNp"  # no refusal word inside, see REFUSAL_WORDS
REFUSAL_WORDS = re.compile(r"reject|refus|den(y|ied)|invalid|unknown|bad|wrong|unauthori|"
                           r"forbidden|not allowed|mismatch|no such", re.I)
BUSY_WORDS = re.compile(r"reject|refus|den(y|ied)|already|busy|in use|second|duplicate|"
                        r"conflict", re.I)


class PublishRulesTest(E2ETestCase):
    def assert_no_secret_in_log(self, server, extra=()):
        """Contract: keys and tokens are never logged in full."""
        for secret in [*harness.secrets(), *extra]:
            leaks = [line for line in server.log_text().splitlines() if secret in line]
            if leaks:
                self.fail(f"the secret {secret!r} is in the server log:\n" + "\n".join(leaks))

    def test_wrong_key_is_refused_and_not_logged(self):
        server = self.start_server()
        mark = server.log_size()
        attempt = self.publish(server, WRONG_KEY, seconds=4, name="publisher-wrong-key")

        # Until ffmpeg gives up (or finishes), no stream may turn live.
        def attempt_over():
            live = [s["id"] for s in server.streams() if s.get("live")]
            self.assertEqual(live, [], "a publish with a wrong key made a stream live")
            return not attempt.running()
        wait_for(attempt_over, 20, "the wrong-key publisher to end", interval=0.1)
        self.assertNotEqual(attempt.returncode(), 0,
                            "ffmpeg published with a wrong key as if accepted; the contract "
                            "says refused: NetStream.Publish.BadName or connection closed\n"
                            f"{attempt.log_tail()}")

        line = server.wait_log_line(mark, lambda l: bool(REFUSAL_WORDS.search(l)), 5,
                                    "a log line about the refused publish")
        self.assertNotIn(WRONG_KEY, line)
        self.assert_no_secret_in_log(server, [WRONG_KEY])
        self.assertTrue(server.alive())

    def test_second_publisher_is_refused_and_the_first_keeps_streaming(self):
        server = self.start_server()
        key = harness.key_of("demo")
        first = self.publish(server, key, seconds=40, name="publisher-first")
        server.wait_live("demo")
        reader = self.flv_reader(server, "/flv/demo.flv")
        wait_for(lambda: len(reader.frames()) >= 15, 10, "HTTP-FLV frames from the first "
                 "publisher")

        mark = server.log_size()
        t_attempt = time.monotonic() - reader.t0
        second = self.publish(server, key, seconds=5, name="publisher-second")

        def attempt_over():
            self.assertIs(server.stream("demo").get("live"), True,
                          "stream went off the air during the second publish attempt")
            return not second.running()
        wait_for(attempt_over, 20, "the second publisher to end", interval=0.1)
        self.assertNotEqual(second.returncode(), 0,
                            "the second publisher was not refused (ffmpeg exit 0)\n"
                            f"{second.log_tail()}")
        t_refused = time.monotonic() - reader.t0

        # The first anchor goes on: two more seconds of frames reach the viewer.
        frames_at_refusal = len(reader.frames())
        wait_for(lambda: len(reader.frames()) >= frames_at_refusal + 60, 6,
                 "60 more frames after the refusal")
        self.assertTrue(first.running(), f"first publisher ended\n{first.log_tail()}")
        self.assertIs(server.stream("demo").get("live"), True)
        self.assertIsNone(reader.error)
        self.assertFalse(reader.closed, "the viewer was disconnected")

        frames = reader.frames()
        window = [t.arrival_s for t in frames if t.arrival_s >= t_attempt - 0.5]
        gaps = [b - a for a, b in zip(window, window[1:])]
        self.assertLess(max(gaps), 1.0, f"video stalled {max(gaps):.2f}s around the second "
                        f"publish attempt (at {t_attempt:.1f}s, refused by {t_refused:.1f}s)")
        stamps = [t.timestamp_ms for t in frames]
        self.assertEqual(stamps, sorted(stamps), "video timestamps went backwards: another "
                         "publisher's media reached the viewer")

        server.wait_log_line(mark, lambda l: bool(BUSY_WORDS.search(l)), 5,
                             "a log line about the refused second publisher")
        self.assert_no_secret_in_log(server)

    def test_each_key_feeds_its_own_stream(self):
        """Two anchors at once, on two keys: each stream id carries its own anchor's video
        (told apart by picture size), and both are live in /api/v1/streams."""
        server = self.start_server()
        sizes = {"demo": (1280, 720), "shop2": (640, 360)}
        for stream_id, (w, h) in sizes.items():
            self.publish(server, harness.key_of(stream_id), seconds=5, gop=30,
                         size=f"{w}x{h}", name=f"publisher-{stream_id}")
        for stream_id in sizes:
            server.wait_live(stream_id)
        readers = {i: self.flv_reader(server, f"/flv/{i}.flv", save_to=self.tmp / f"{i}.flv")
                   for i in sizes}
        for stream_id, reader in readers.items():
            wait_for(lambda: len(reader.frames()) >= 60, 10, f"frames of {stream_id}")
        self.assertIs(server.stream("idle3").get("live"), False)
        for stream_id, (w, h) in sizes.items():
            with self.subTest(stream=stream_id):
                video = server.stream(stream_id)["ingest"]["video"]
                self.assertEqual((video["width"], video["height"]), (w, h))
                readers[stream_id].close()
                info = harness.probe(self.tmp / f"{stream_id}.flv")
                self.assertEqual((info.width, info.height), (w, h),
                                 f"/flv/{stream_id}.flv carries another anchor's video")
                self.assertGreaterEqual(info.video_frames, 60)

    def test_unknown_stream_is_404(self):
        server = self.start_server()
        for path in ("/hls/nope/index.m3u8", "/flv/nope.flv"):
            with self.subTest(path=path):
                self.assertEqual(http_status(server.http_port, path)[0], 404)

    def test_known_stream_not_live_is_404(self):
        server = self.start_server()
        for stream_id in ("idle3", "demo"):
            self.assertIs(server.stream(stream_id).get("live"), False)
            for path in (f"/hls/{stream_id}/index.m3u8", f"/flv/{stream_id}.flv"):
                with self.subTest(path=path):
                    self.assertEqual(http_status(server.http_port, path)[0], 404)


if __name__ == "__main__":
    harness.main()
