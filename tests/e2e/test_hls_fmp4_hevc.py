"""HEVC over SRT comes out as fMP4 HLS: an anchor pushing libx265 + AAC in MPEG-TS over
SRT gets a media playlist of version 7 whose segments are `.m4s` behind an EXT-X-MAP
(`init-N.mp4`, an `hvc1` sample entry), served as video/mp4; the init section and the
listed segments, concatenated as a player does, are one fragmented MP4 that FFmpeg reads
as hvc1 + AAC and decodes without an error, every listed frame of it. H.264 publishers
keep MPEG-TS segments (test_hls_data_plane, test_srt_ingest)."""

import harness
from harness import HOST, E2ETestCase, parse_playlist, wait_for

SECONDS = 8
FPS = 30
GOP = 30


def srt_hevc_publisher_cmd(url: str, seconds: float) -> list[str]:
    """An anchor's HEVC encoder (libx265: closed GOPs of a second, as streaming encoders
    are set, B-frames as x265 makes them) + 440 Hz AAC, as MPEG-TS over SRT in real time."""
    return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate={FPS}",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", str(seconds),
            "-c:v", "libx265", "-preset", "ultrafast",
            "-x265-params", f"log-level=error:keyint={GOP}:min-keyint={GOP}:scenecut=0:open-gop=0",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-f", "mpegts", url]


class HlsFmp4HevcTest(E2ETestCase):
    def test_hevc_over_srt_is_served_as_fmp4_hls(self):
        server = self.start_server()
        server.wait_log_line(0, lambda l: "srt: listening on" in l, 5, "the server's SRT listener")
        url = f"srt://{HOST}:{server.ports['srt']}?streamid={harness.key_of('demo')}"
        publisher = self.spawn(srt_hevc_publisher_cmd(url, SECONDS), "publisher")
        server.wait_live("demo", timeout=15)
        entry = wait_for(lambda: (e := server.stream("demo"))["ingest"].get("video") and e,
                         10, "/api/v1/streams: demo ingest video")
        self.assertEqual(entry["ingest"]["video"]["codec"], "hevc", entry)
        harness.wait_playlist_with_segment(server, "demo", timeout=20)
        self.assertEqual(publisher.wait(timeout=SECONDS + 20), 0,
                         f"publisher failed\n{publisher.log_tail()}")

        # The publisher is gone; the playlist stays for the reconnect grace, complete.
        resp = server.get("/hls/demo/index.m3u8")
        self.assertEqual(resp.status, 200)
        text = resp.body.decode()
        lines = text.splitlines()
        self.assertEqual(lines[:2], ["#EXTM3U", "#EXT-X-VERSION:7"], text)
        maps = [l for l in lines if l.startswith("#EXT-X-MAP:")]
        self.assertEqual(len(maps), 1, text)
        init_name = maps[0].split('URI="', 1)[1].split('"', 1)[0]
        self.assertRegex(init_name, r"^init-\d+\.mp4$")
        _, segments = parse_playlist(text)
        self.assertGreaterEqual(len(segments), 3, text)
        for _, uri in segments:
            self.assertRegex(uri, r"^seg-\d+\.m4s$")

        init = server.get(f"/hls/demo/{init_name}")
        self.assertEqual(init.status, 200)
        self.assertEqual(init.headers["content-type"], "video/mp4")
        self.assertEqual(init.body[4:8], b"ftyp")
        self.assertIn(b"hvc1", init.body)
        self.assertIn(b"hvcC", init.body)
        movie = bytearray(init.body)
        for _, uri in segments:
            seg = server.get(f"/hls/demo/{uri}")
            self.assertEqual(seg.status, 200, uri)
            self.assertEqual(seg.headers["content-type"], "video/mp4", uri)
            self.assertEqual(seg.body[4:8], b"styp", uri)
            movie += seg.body
        path = self.tmp / "hls.mp4"
        path.write_bytes(bytes(movie))

        info = harness.probe(path)
        self.assertEqual(info.video_codec, "hevc", info)
        self.assertEqual((info.width, info.height), (640, 360), info)
        self.assertEqual(info.audio_codec, "aac", info)
        self.assertEqual(harness.decode_errors(path), [])
        # Every frame the playlist lists decodes: its duration at 30 fps, give or take
        # the last segment's estimated end.
        listed = sum(d for d, _ in segments)
        self.assertLessEqual(abs(info.video_frames - listed * FPS), 1.0, (info, listed))


if __name__ == "__main__":
    harness.main()
