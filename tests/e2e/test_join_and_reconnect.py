"""Viewers that join mid-stream start at once; viewers survive an anchor's reconnect.

Mid-stream join: the anchor uses a long GOP (-g 120 at 30 fps: a keyframe every 4 s). A
monitor viewer, connected from the start, tells when each keyframe goes out; a new viewer
joins a random 0.2-0.8 s after one. Without a GOP cache it would wait 3.2-3.8 s for the
next keyframe; with it, the server hands over the cached keyframe at once. So: HTTP-FLV
must deliver the AVC sequence header and then a keyframe within 1 s of connecting, and
ffmpeg over RTMP play must have decoded its first picture within 2.5 s of starting (ffmpeg's
own start, RTMP handshake and probe take ~0.5 s on an idle machine with -fpsprobesize 0),
and before the monitor saw the next keyframe.

Reconnect (contract: "when the anchor drops and comes back, viewers stay connected and
resume"): anchor A pushes 5 s and exits; 1 s later anchor B pushes 5 s more with the same
key. Viewers connected throughout must still be connected and must get B's frames on the
same, increasing timeline, starting from a keyframe.
"""

import random
import time

import harness
from harness import E2ETestCase, wait_for

FLV_KEYFRAME_DEADLINE_S = 1.0
# Without a GOP cache no picture can be decoded before the next keyframe, >= 3.2 s after
# the join; ffmpeg itself needs ~0.5 s on an idle machine. 2.5 s leaves room for a busy one.
RTMP_FIRST_PICTURE_DEADLINE_S = 2.5


class JoinAndReconnectTest(E2ETestCase):
    def join_after_next_keyframe(self, monitor) -> float:
        """Waits for the monitor to see the next keyframe, then a random 0.2-0.8 s more;
        returns the delay used."""
        seen = sum(1 for t in monitor.frames() if t.keyframe)
        wait_for(lambda: sum(1 for t in monitor.frames() if t.keyframe) > seen, 6,
                 "the next keyframe at the monitor viewer")
        delay = random.uniform(0.2, 0.8)
        time.sleep(delay)  # the join moment is the test's input, not a wait for state
        return delay

    def test_mid_stream_join_starts_on_the_cached_keyframe(self):
        server = self.start_server()
        self.publish(server, harness.key_of("demo"), seconds=60, gop=120)
        server.wait_live("demo")
        monitor = self.flv_reader(server, "/flv/demo.flv")
        # Past the first GOP, so the join is truly mid-stream.
        wait_for(lambda: sum(1 for t in monitor.frames() if t.keyframe) >= 1, 10,
                 "the first keyframe at the monitor viewer")

        with self.subTest(client="http-flv"):
            delay = self.join_after_next_keyframe(monitor)
            joiner = self.flv_reader(server, "/flv/demo.flv")
            wait_for(lambda: any(t.is_video_frame and t.keyframe for t in joiner.snapshot()),
                     6, "a keyframe at the joining viewer")
            self.assertEqual(joiner.status, 200)
            video = joiner.video_tags()
            self.assertTrue(video[0].is_avc_header,
                            f"first video tag is not the AVC sequence header: {video[0]}")
            first_picture = next(t for t in video if t.is_video_frame)
            self.assertTrue(first_picture.keyframe,
                            f"first picture is not a keyframe: {first_picture}")
            harness.report(f"HTTP-FLV join {delay:.2f}s after a keyframe: keyframe after "
                           f"{first_picture.arrival_s:.3f}s")
            self.assertLessEqual(first_picture.arrival_s, FLV_KEYFRAME_DEADLINE_S,
                                 f"keyframe arrived {first_picture.arrival_s:.2f}s after "
                                 f"connecting (joined {delay:.2f}s after a keyframe of a 4 s "
                                 f"GOP): no GOP cache?")
            audio = [t for t in joiner.snapshot() if t.kind == harness.FLV_AUDIO]
            self.assertTrue(audio and audio[0].aac_packet_type == 0,
                            f"audio does not start with the AAC sequence header: "
                            f"{audio[:1]}")
            joiner.close()

        with self.subTest(client="rtmp-play"):
            delay = self.join_after_next_keyframe(monitor)
            png = self.tmp / "first.png"
            keyframes_before = sum(1 for t in monitor.frames() if t.keyframe)
            t0 = time.monotonic()
            viewer = self.spawn(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
                                 "-fpsprobesize", "0", "-i", server.rtmp_play_url("demo"),
                                 "-frames:v", "1", "-update", "1", "-y", str(png)],
                                "viewer-rtmp-first-frame")
            code = viewer.wait(timeout=10)
            elapsed = time.monotonic() - t0
            harness.report(f"RTMP play join {delay:.2f}s after a keyframe: first picture "
                           f"after {elapsed:.3f}s")
            self.assertEqual(code, 0, viewer.log_tail())
            self.assertEqual(sum(1 for t in monitor.frames() if t.keyframe), keyframes_before,
                             "ffmpeg only got its picture after the server sent a new "
                             "keyframe: no GOP cache?")
            self.assertLessEqual(elapsed, RTMP_FIRST_PICTURE_DEADLINE_S,
                                 f"first picture over RTMP play took {elapsed:.2f}s (joined "
                                 f"{delay:.2f}s after a keyframe of a 4 s GOP): no GOP cache?")
            info = harness.probe(png)
            self.assertEqual((info.width, info.height), (1280, 720))

    def test_viewers_stay_connected_across_a_publisher_reconnect(self):
        server = self.start_server()
        key = harness.key_of("demo")
        anchor_a = self.publish(server, key, seconds=5, gop=30, name="publisher-a")
        server.wait_live("demo")
        raw_out = self.tmp / "viewer-raw.flv"
        ffmpeg_out = self.tmp / "viewer-ffmpeg.flv"
        reader = self.flv_reader(server, "/flv/demo.flv", save_to=raw_out)
        # -rw_timeout: ffmpeg leaves after 5 s without a byte, far longer than the outage,
        # and so finalizes its file by itself once the test is over.
        viewer = self.spawn(harness.recorder_cmd(server.url("/flv/demo.flv"), ffmpeg_out, "flv",
                                                 ["-rw_timeout", "5000000"]), "viewer-ffmpeg")
        # An HLS viewer too: it must ride out the outage (ffmpeg's HLS reader gives up on a
        # playlist that 404s) and leaves by itself after 6 reloads (~6 s) without a new
        # segment, which is longer than the outage.
        hls_out = self.tmp / "viewer-hls.ts"
        harness.wait_playlist_with_segment(server, "demo")
        hls = self.spawn(harness.recorder_cmd(
            server.url("/hls/demo/index.m3u8"), hls_out, "mpegts",
            ["-live_start_index", "0", "-m3u8_hold_counters", "6"]), "viewer-hls")

        self.assertEqual(anchor_a.wait(timeout=20), 0, anchor_a.log_tail())
        a_frames = len(reader.frames())
        self.assertGreater(a_frames, 100, "viewer got too little of anchor A")
        time.sleep(1.0)  # the anchor's outage: part of the scenario, not a wait for state
        self.assertTrue(viewer.running(), f"ffmpeg viewer left during the outage\n"
                        f"{viewer.log_tail()}")
        self.assertFalse(reader.closed, "HTTP-FLV viewer disconnected when the anchor left")

        t_reconnect = time.monotonic() - reader.t0
        anchor_b = self.publish(server, key, seconds=5, gop=30, name="publisher-b")
        server.wait_live("demo", timeout=10)
        wait_for(lambda: len(reader.frames()) >= a_frames + 30, 10,
                 "frames from anchor B at the connected viewer")
        self.assertEqual(anchor_b.wait(timeout=20), 0, anchor_b.log_tail())
        self.assertTrue(viewer.running(), f"ffmpeg viewer left\n{viewer.log_tail()}")
        self.assertTrue(hls.running(), f"HLS viewer left\n{hls.log_tail()}")
        self.assertFalse(reader.closed, "HTTP-FLV viewer was disconnected")
        self.assertIsNone(reader.error)

        # The ffmpeg viewer leaves by itself 5-10 s after the last byte, writing its trailer;
        # by then the raw reader has everything too.
        viewer.wait(timeout=30)
        hls.wait(timeout=30)
        reader.close()

        frames = reader.frames()
        before = [t for t in frames if t.arrival_s < t_reconnect]
        after = [t for t in frames if t.arrival_s >= t_reconnect]
        headers = [t for t in reader.video_tags() if t.is_avc_header]
        harness.report(f"reconnect: {len(before)} frames from A, {len(after)} after B "
                       f"started, {len(headers)} AVC sequence headers, timestamps "
                       f"{before[-1].timestamp_ms if before else None} -> "
                       f"{after[0].timestamp_ms if after else None} ms")
        self.assertGreaterEqual(len(after), 120, f"only {len(after)} of anchor B's 150 "
                                "frames reached the viewer")
        self.assertTrue(after[0].keyframe, f"the viewer resumed on a non-keyframe: {after[0]}")
        stamps = [t.timestamp_ms for t in frames]
        backwards = [(a, b) for a, b in zip(stamps, stamps[1:]) if b < a]
        self.assertEqual(backwards, [], "video timestamps went backwards at the reconnect")
        self.assertGreater(after[0].timestamp_ms, before[-1].timestamp_ms)

        for name, path in (("raw", raw_out), ("ffmpeg", ffmpeg_out), ("hls", hls_out)):
            with self.subTest(recording=name):
                info = harness.probe(path)
                harness.report(f"reconnect recording {name}: {info}")
                self.assertGreaterEqual(info.video_frames, 270,
                                        f"{name}: {info.video_frames} decoded frames; anchor A "
                                        f"alone gave {a_frames}, A + B push 300")
                self.assertEqual((info.width, info.height), (1280, 720))
                errors = harness.decode_errors(path)
                self.assertLessEqual(len(errors), 5, f"{name}: decode errors:\n" +
                                     "\n".join(errors[:20]))


if __name__ == "__main__":
    harness.main()
