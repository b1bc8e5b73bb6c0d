"""Enhanced RTMP HEVC: an anchor publishes 6 s of 30 fps HEVC + AAC as E-RTMP v1 (what
OBS >= 29.1 sends; ertmp_publisher.py, since FFmpeg 5.1 cannot), and viewers get it back
as E-RTMP tags over HTTP-FLV and RTMP play.

Each viewer's recording must start with a SequenceStart whose hvcC is the one published
(with lengthSizeMinusOne 3 when the anchor used 2-byte NAL lengths: the hub holds 4-byte
ones), hold CodedFrames/CodedFramesX tags whose composition times put the frames back on
the 33.3 ms grid, and decode: its access units, turned into Annex B with the record's
parameter sets, go to `ffprobe -f hevc -count_frames`, which must decode all of them
without an error line. FFmpeg 5.1's flv demuxer does not read E-RTMP, so the tags are
read here and the RTMP viewer is ertmp_publisher.py's play mode. The viewers join right
after the stream turns live, within the first GOP (keyint 60 = 2 s) that the GOP cache
replays, so they must get at least 95 % of what was sent. /api/v1/streams must describe
the ingest as hevc at the published size.

Two anchors: no B-frames with 4-byte lengths (every frame CodedFramesX, the zero-copy
ingest path), and bframes=2 with 2-byte lengths (composition times, and the rewrite of
the NAL lengths and of the record).
"""

import json
import struct
import subprocess
import sys
from pathlib import Path

import ertmp_publisher as ertmp
import harness
from harness import E2ETestCase

PUBLISHER = Path(__file__).resolve().with_name("ertmp_publisher.py")
SECONDS = 6
FPS = 30
FRAME_MS = 1000 / FPS


def read_flv(path: Path) -> list[tuple[int, int, bytes]]:
    """(tag type, timestamp ms, data) of every tag, each PreviousTagSize checked (E.3)."""
    data = path.read_bytes()
    if data[:3] != b"FLV":
        raise AssertionError(f"{path.name}: not FLV: {data[:16]!r}")
    pos = struct.unpack(">I", data[5:9])[0] + 4
    tags = []
    while pos + 11 <= len(data):
        size = int.from_bytes(data[pos + 1:pos + 4], "big")
        if pos + 11 + size + 4 > len(data):
            break  # the recording ended inside a tag
        ts = int.from_bytes(data[pos + 4:pos + 7], "big") | (data[pos + 7] << 24)
        body = data[pos + 11:pos + 11 + size]
        if struct.unpack(">I", data[pos + 11 + size:pos + 15 + size])[0] != 11 + size:
            raise AssertionError(f"{path.name}: PreviousTagSize wrong after tag {len(tags)}")
        tags.append((data[pos] & 0x1F, ts, body))
        pos += 11 + size + 4
    return tags


def record_parameter_sets(record: bytes) -> list[bytes]:
    """The NAL units of an HEVCDecoderConfigurationRecord's arrays (14496-15 8.3.3.1.2)."""
    nals, pos = [], 23
    for _ in range(record[22]):
        count = struct.unpack(">H", record[pos + 1:pos + 3])[0]
        pos += 3
        for _ in range(count):
            size = struct.unpack(">H", record[pos:pos + 2])[0]
            nals.append(record[pos + 2:pos + 2 + size])
            pos += 2 + size
    return nals


def four_byte_units(au: bytes) -> list[bytes]:
    units, pos = [], 0
    while pos < len(au):
        if pos + 4 > len(au):
            raise AssertionError(f"access unit ends inside a NAL length at byte {pos}")
        size = struct.unpack(">I", au[pos:pos + 4])[0]
        if pos + 4 + size > len(au):
            raise AssertionError(f"NAL unit at byte {pos} claims {size} bytes, {len(au) - pos - 4} remain")
        units.append(au[pos + 4:pos + 4 + size])
        pos += 4 + size
    return units


def probe_annexb(stream: bytes) -> tuple[dict, str]:
    """(the stream's ffprobe entries, error output) for a raw HEVC byte stream."""
    proc = subprocess.run(["ffprobe", "-v", "error", "-f", "hevc", "-count_frames", "-show_entries",
                           "stream=codec_name,width,height,nb_read_frames", "-of", "json", "-"],
                          input=stream, capture_output=True, timeout=120)
    streams = json.loads(proc.stdout or b"{}").get("streams", [{}])
    errors = proc.stderr.decode(errors="replace").strip()
    if proc.returncode != 0:
        errors += f"\n(ffprobe exit {proc.returncode})"
    return streams[0] if streams else {}, errors


class ErtmpHevcTest(E2ETestCase):
    def test_hevc_without_b_frames(self):
        self.check_relay(bframes=0, length_size=4, size=(640, 360))

    def test_hevc_with_b_frames_and_two_byte_nal_lengths(self):
        self.check_relay(bframes=2, length_size=2, size=(320, 240))

    def check_relay(self, bframes: int, length_size: int, size: tuple[int, int]) -> None:
        server = self.start_server()
        report_path = self.tmp / "publisher.json"
        publisher = self.spawn([sys.executable, str(PUBLISHER), "publish",
                                server.rtmp_publish_url(harness.key_of("demo")), "--seconds", str(SECONDS),
                                "--fps", str(FPS), "--size", f"{size[0]}x{size[1]}", "--bframes", str(bframes),
                                "--length-size", str(length_size), "--audio", "--report", str(report_path)],
                               "ertmp-publisher")
        server.wait_live("demo", timeout=20)

        out = {"flv": self.tmp / "viewer-flv.flv", "rtmp": self.tmp / "viewer-rtmp.flv"}
        flv = self.flv_reader(server, "/flv/demo.flv", save_to=out["flv"])
        player_report = self.tmp / "player.json"
        player = self.spawn([sys.executable, str(PUBLISHER), "play", server.rtmp_play_url("demo"),
                             "--out", str(out["rtmp"]), "--idle", "4", "--report", str(player_report)],
                            "ertmp-player")

        # (c) the operator API while live.
        video = harness.wait_for(lambda: (v := server.stream("demo")["ingest"].get("video")) and
                                 v.get("codec") == "hevc" and v, 10, "/api/v1/streams: video codec hevc")
        harness.report(f"api ingest video: {video}")
        self.assertEqual((video.get("width"), video.get("height")), size, f"api: {video}")

        self.assertEqual(publisher.wait(timeout=SECONDS + 40), 0, f"publisher failed\n{publisher.log_tail()}")
        sent = json.loads(report_path.read_text())
        harness.report(f"published: {sent['frames']} frames ({sent['keyframes']} key, "
                       f"{sent['nonzero_cts']} with cts != 0), {sent['audio_frames']} AAC frames")
        self.assertEqual(sent["server_fourcc_list"], ["hvc1"], "connect _result fourCcList")
        self.assertGreaterEqual(sent["frames"], SECONDS * FPS * 0.95, sent)
        if bframes:
            self.assertGreater(sent["nonzero_cts"], sent["frames"] // 3, "the encoder made no B-frames")

        harness.wait_files_settled([out["flv"], out["rtmp"]], [flv, player], quiet_s=2.0, timeout=30)
        flv.close()
        self.assertIsNone(flv.error, f"HTTP-FLV reader: {flv.error}")
        self.assertEqual(flv.status, 200)
        player.wait(timeout=15)
        played = json.loads(player_report.read_text())
        self.assertEqual(played["server_fourcc_list"], ["hvc1"], played)
        self.assertIn("NetStream.Play.Start", played.get("status", []), played)

        record = bytearray.fromhex(sent["record"])
        record[21] |= 0x03  # what viewers get: lengthSizeMinusOne 3
        for name, path in out.items():
            with self.subTest(viewer=name):
                self.check_recording(name, path, bytes(record), sent, bframes, size)
        self.assertTrue(server.alive(), f"the server died\n{server.log_tail()}")

    def check_recording(self, name: str, path: Path, record: bytes, sent: dict, bframes: int,
                        size: tuple[int, int]) -> None:
        tags = read_flv(path)
        meta = next((ertmp.decode_amf0(d) for t, _, d in tags if t == harness.FLV_SCRIPT
                     and ertmp.decode_amf0(d)[0] == "onMetaData"), None)
        self.assertIsNotNone(meta, f"{name}: no onMetaData")
        # enhanced-rtmp v1 "Enhancing onMetaData": videocodecid is the FourCC as a number.
        self.assertEqual(meta[1].get("videocodecid"), ertmp.FOURCC_HVC1_NUMBER, f"{name}: {meta}")
        self.assertEqual((meta[1].get("width"), meta[1].get("height")), size, f"{name}: {meta}")

        video = [(ts, d) for t, ts, d in tags if t == harness.FLV_VIDEO]
        audio = [d for t, _, d in tags if t == harness.FLV_AUDIO]
        self.assertTrue(video, f"{name}: no video tags")
        first = video[0][1]
        self.assertEqual(first[:5], bytes([0x80 | (ertmp.FRAME_KEY << 4) | ertmp.PACKET_SEQUENCE_START]) +
                         ertmp.FOURCC_HVC1, f"{name}: the first video tag is no hvc1 SequenceStart: {first[:8]!r}")
        self.assertEqual(first[5:], record, f"{name}: the SequenceStart's hvcC is not the published one")

        frames = []  # (dts ms, cts ms, key, access unit)
        for ts, d in video[1:]:
            self.assertEqual((d[0] & 0x80, d[1:5]), (0x80, ertmp.FOURCC_HVC1), f"{name}: not an hvc1 tag: {d[:8]!r}")
            packet_type, frame_type = d[0] & 0x0F, (d[0] >> 4) & 0x07
            self.assertIn(packet_type, (ertmp.PACKET_CODED_FRAMES, ertmp.PACKET_CODED_FRAMES_X),
                          f"{name}: video tag with packet type {packet_type} after the SequenceStart")
            if packet_type == ertmp.PACKET_CODED_FRAMES:
                cts = int.from_bytes(d[5:8], "big", signed=True)
                self.assertNotEqual(cts, 0, f"{name}: CodedFrames with composition time 0 (CodedFramesX is shorter)")
                au = d[8:]
            else:
                cts, au = 0, d[5:]
            frames.append((ts, cts, frame_type == ertmp.FRAME_KEY, au))
        harness.report(f"{name}: {len(frames)} frames, {sum(f[2] for f in frames)} key, "
                       f"{sum(f[1] != 0 for f in frames)} with cts != 0, {len(audio)} audio tags")

        self.assertGreaterEqual(len(frames), sent["frames"] * 0.95,
                                f"{name}: {len(frames)} of {sent['frames']} frames arrived")
        self.assertLessEqual(len(frames), sent["frames"], f"{name}: more frames than were sent")
        self.assertTrue(frames[0][2], f"{name}: the first frame is not a keyframe")
        self.assertTrue(audio and all(a[0] == 0xAF for a in audio), f"{name}: no AAC audio")
        dts = [f[0] for f in frames]
        self.assertEqual(dts, sorted(dts), f"{name}: dts go backwards")
        if bframes == 0:
            self.assertTrue(all(f[1] == 0 for f in frames), f"{name}: cts != 0 without B-frames")
        else:
            self.assertGreater(sum(f[1] != 0 for f in frames), len(frames) // 3, f"{name}: composition times lost")
        # pts = dts + cts: every frame on the 30 fps grid, none twice (ms, 90 kHz rounded).
        pts = sorted(f[0] + f[1] for f in frames)
        steps = {b - a for a, b in zip(pts, pts[1:])}
        self.assertTrue(steps <= {33, 34}, f"{name}: presentation steps {sorted(steps)} ms, expected 33/34")
        self.assertAlmostEqual(pts[-1] - pts[0], (len(frames) - 1) * FRAME_MS, delta=2)

        stream = b"".join(b"\x00\x00\x00\x01" + n for n in record_parameter_sets(record))
        for _, _, _, au in frames:
            stream += b"".join(b"\x00\x00\x00\x01" + n for n in four_byte_units(au))
        info, errors = probe_annexb(stream)
        harness.report(f"{name}: ffprobe {info}")
        self.assertEqual(errors, "", f"{name}: decoding errors")
        self.assertEqual(info.get("codec_name"), "hevc")
        self.assertEqual((info.get("width"), info.get("height")), size)
        decoded = int(info.get("nb_read_frames", 0))
        self.assertTrue(len(frames) * 0.95 <= decoded <= len(frames),
                        f"{name}: {decoded} frames decoded of {len(frames)} received")


if __name__ == "__main__":
    harness.main()
