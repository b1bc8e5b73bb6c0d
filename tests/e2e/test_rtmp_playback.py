"""An anchor pushes 10 s of 1280x720@30 video + AAC over RTMP; three viewers record it at
once over HTTP-FLV, RTMP play and HLS; every recording must hold the whole broadcast.

Why 300 frames within 5 % is a fair bar: the viewers start right after the stream turns
live, a few hundred ms after the anchor connects, while the first GOP (-g 30 = 1 s) is
still the latest one. The GOP cache hands a new FLV/RTMP viewer that latest keyframe and
everything after it, so they lose nothing. Were a viewer to miss the first GOP anyway, the
short GOP bounds the loss to 30 frames (10 %) and the test fails, as it should: a viewer
that joined within the first second must not miss it. HLS viewers start at the first
segment still listed (-live_start_index 0): the 6-segment window of ~1 s segments still
holds segment 0 when they join, so they too get all 300 frames, provided the packager
cuts the last, partial segment when the anchor leaves.
"""

import re
import signal
import time
from urllib.parse import urlsplit

import harness
from harness import E2ETestCase, parse_playlist, recorder_cmd

SECONDS = 10
FPS = 30
EXPECTED_VIDEO_FRAMES = SECONDS * FPS                    # 300
EXPECTED_AUDIO_FRAMES = SECONDS * 44100 / 1024           # ~431 AAC frames of 1024 samples
# ffmpeg only notices a single SIGINT between packets, so a viewer blocked on a quiet
# input needs a second one, which also aborts the trailer write and loses buffered bytes.
# A read timeout instead lets it end the input and finalize the file by itself, 3-6 s after
# the last byte (the anchor never pauses that long while pushing).
QUIET_INPUT_ENDS = ["-rw_timeout", "3000000"]
PLAYLIST_TYPES = {"application/vnd.apple.mpegurl", "application/x-mpegurl"}


def cache_is_short(value: str) -> bool:
    value = value.lower()
    if "no-cache" in value or "no-store" in value:
        return True
    match = re.search(r"max-age=(\d+)", value)
    return bool(match) and int(match.group(1)) <= 2  # segments are ~1 s long


class RtmpPlaybackTest(E2ETestCase):
    def test_flv_rtmp_and_hls_viewers_get_the_whole_broadcast(self):
        server = self.start_server()
        publisher = self.publish(server, harness.key_of("demo"), seconds=SECONDS, gop=30)
        server.wait_live("demo", timeout=15)

        out = {"flv": self.tmp / "viewer-flv.flv", "rtmp": self.tmp / "viewer-rtmp.flv",
               "hls": self.tmp / "viewer-hls.ts"}
        viewers = {
            "flv": self.spawn(recorder_cmd(server.url("/flv/demo.flv"), out["flv"], "flv",
                                           QUIET_INPUT_ENDS), "viewer-flv"),
            "rtmp": self.spawn(recorder_cmd(server.rtmp_play_url("demo"), out["rtmp"], "flv",
                                            QUIET_INPUT_ENDS), "viewer-rtmp"),
        }

        first = harness.wait_playlist_with_segment(server, "demo")
        viewers["hls"] = self.spawn(
            recorder_cmd(server.url("/hls/demo/index.m3u8"), out["hls"], "mpegts",
                         ["-live_start_index", "0", "-m3u8_hold_counters", "4"]), "viewer-hls")

        # HTTP details of the playlist and a segment, while live.
        content_type = first.headers.get("content-type", "").split(";")[0].strip().lower()
        self.assertIn(content_type, PLAYLIST_TYPES, "playlist Content-Type")
        self.assertTrue(cache_is_short(first.headers.get("cache-control", "")),
                        f"playlist Cache-Control must be no-cache or a short max-age, got "
                        f"{first.headers.get('cache-control')!r}")
        self.assertTrue(first.body.decode().startswith("#EXTM3U"), first.body[:100])
        _, segments = parse_playlist(first.body.decode())
        uri = segments[-1][1]
        seg_path = urlsplit(uri).path if "://" in uri or uri.startswith("/") \
            else f"/hls/demo/{uri}"
        seg = server.get(seg_path)
        self.assertEqual(seg.status, 200, f"GET {seg_path}")
        self.assertEqual(seg.headers.get("content-type", "").split(";")[0].strip().lower(),
                         "video/mp2t", f"segment Content-Type of {seg_path}")
        self.assertTrue(len(seg.body) >= 188 and seg.body[0] == 0x47 and
                        len(seg.body) % 188 == 0,
                        f"segment is not MPEG-TS: {len(seg.body)} bytes, {seg.body[:4]!r}")

        # Sample the live playlist while the anchor pushes: RFC 8216 4.3.3.1 (each EXTINF
        # rounds to at most the target duration) and the 6-segment sliding window.
        snapshots = []
        deadline = time.monotonic() + SECONDS + 20
        while publisher.running() and time.monotonic() < deadline:
            resp = server.get("/hls/demo/index.m3u8")
            if resp.status == 200:
                snapshots.append(resp.body.decode())
            time.sleep(0.5)
        self.assertEqual(publisher.wait(timeout=5), 0,
                         f"publisher failed\n{publisher.log_tail()}")
        self.assertGreater(len(snapshots), 5, "playlist samples while live")
        for text in snapshots:
            target, segs = parse_playlist(text)
            self.assertGreaterEqual(target, 1, f"#EXT-X-TARGETDURATION missing:\n{text}")
            self.assertLessEqual(len(segs), 6, f"more than the 6-segment window:\n{text}")
            for duration, uri in segs:
                self.assertGreater(duration, 0, f"EXTINF missing for {uri}:\n{text}")
                self.assertLessEqual(int(duration + 0.5), target,  # nearest integer
                                     f"EXTINF {duration} of {uri} over target {target}")
        max_listed = max(len(parse_playlist(t)[1]) for t in snapshots)
        self.assertGreaterEqual(max_listed, 4, "a 10 s stream of ~1 s segments should fill "
                                "the window to at least 4 segments")

        # The server keeps viewers for a reconnect, so the stream never "ends" for them.
        # ffmpeg ends a quiet input cleanly (QUIET_INPUT_ENDS, -m3u8_hold_counters); any
        # viewer still running once its recording stopped growing gets SIGINT.
        names = list(viewers)
        harness.wait_files_settled([out[n] for n in names], [viewers[n] for n in names],
                                   quiet_s=10.0, timeout=40)
        for name in names:
            # ffmpeg exits 255 on SIGINT after writing the trailer; the file is the result.
            viewers[name].stop(signal.SIGINT, timeout=6)

        low = EXPECTED_VIDEO_FRAMES * 0.95
        high = EXPECTED_VIDEO_FRAMES * 1.05
        for name in names:
            with self.subTest(viewer=name):
                self.assertTrue(out[name].exists() and out[name].stat().st_size > 0,
                                f"{name}: no recording\n{viewers[name].log_tail()}")
                info = harness.probe(out[name])
                harness.report(f"{name}: {info}")
                self.assertEqual((info.width, info.height), (1280, 720), f"{name}: {info}")
                self.assertEqual(info.video_codec, "h264", f"{name}: {info}")
                self.assertTrue(low <= info.video_frames <= high,
                                f"{name}: {info.video_frames} decoded video frames, expected "
                                f"{EXPECTED_VIDEO_FRAMES} +-5 %")
                self.assertEqual(info.audio_codec, "aac", f"{name}: no AAC audio: {info}")
                self.assertGreaterEqual(info.audio_frames, EXPECTED_AUDIO_FRAMES * 0.85,
                                        f"{name}: {info.audio_frames} decoded audio frames, "
                                        f"expected ~{EXPECTED_AUDIO_FRAMES:.0f}")
                # Timestamps: the anchor's 10 s stay 10 s (no time-base slip), and audio
                # and video start and end together (no A/V drift), whatever the offset.
                spans = harness.packet_spans(out[name])
                v_lo, v_hi, _ = spans["video"]
                a_lo, a_hi, _ = spans["audio"]
                harness.report(f"{name}: video pts {v_lo:.3f}-{v_hi:.3f} s, audio pts "
                               f"{a_lo:.3f}-{a_hi:.3f} s")
                covered = (info.video_frames - 1) / FPS
                self.assertAlmostEqual(v_hi - v_lo, covered, delta=0.2,
                                       msg=f"{name}: video timestamps span {v_hi - v_lo:.3f}s "
                                       f"for {info.video_frames} frames at {FPS} fps")
                self.assertAlmostEqual(a_lo, v_lo, delta=0.2, msg=f"{name}: A/V start apart")
                self.assertAlmostEqual(a_hi, v_hi, delta=0.2, msg=f"{name}: A/V end apart")


if __name__ == "__main__":
    harness.main()
