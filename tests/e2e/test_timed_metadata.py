"""Timed metadata end to end (issue 7, item 1: HLS and HTTP-FLV; contract: "overlay").

A real ffmpeg anchor pushes RTMP; a real WebSocket merchant shows a card with a `url`,
then hides it. The checks, on what players read:
- HLS: the playlist has an EXT-X-DATERANGE with CLASS "com.anchorcast.overlay" whose
  X-PAYLOAD (base64) decodes to the card, url included; after card.hide that range has
  an END-DATE not before its START-DATE. A segment cut after the change has a timed_id3
  data stream (ffprobe) whose ID3 TXXX frames carry the cue JSON (extracted with ffmpeg);
  ffmpeg reads the segment without errors.
- HTTP-FLV and RTMP play: a viewer connected before the change gets an onCuePoint script
  tag / data message (AMF0) stamped with the `applied` pts_ms whose JSON lists the card;
  burn-in too (FLV), where that pts is the composited frame that first shows it. A viewer who joins later gets the
  current state cue right after the cached first frames.
"""

import asyncio
import base64
import json
import re
import socket
import struct
import subprocess
import threading
import time

import harness
from harness import E2ETestCase, wait_for
from merchant import DEMO_TOKEN, SHOP2_TOKEN, Merchant, card

OVERLAY_CLASS = "com.anchorcast.overlay"
PRODUCT_URL = "https://shop.example/p/42?ref=live&utm=直播"


# ---- FLV script tags and AMF0 (FLV spec v10.1 E.4; AMF0 spec §2) ---------------------

def amf0_value(buf: bytes, pos: int):
    marker = buf[pos]
    pos += 1
    if marker == 0x00:
        return struct.unpack(">d", buf[pos:pos + 8])[0], pos + 8
    if marker == 0x01:
        return buf[pos] != 0, pos + 1
    if marker == 0x02:
        n = struct.unpack(">H", buf[pos:pos + 2])[0]
        return buf[pos + 2:pos + 2 + n].decode(), pos + 2 + n
    if marker == 0x0C:
        n = struct.unpack(">I", buf[pos:pos + 4])[0]
        return buf[pos + 4:pos + 4 + n].decode(), pos + 4 + n
    if marker in (0x03, 0x08):
        if marker == 0x08:
            pos += 4  # ECMA array count, advisory
        obj = {}
        while True:
            n = struct.unpack(">H", buf[pos:pos + 2])[0]
            key = buf[pos + 2:pos + 2 + n].decode()
            pos += 2 + n
            if n == 0 and buf[pos] == 0x09:
                return obj, pos + 1
            obj[key], pos = amf0_value(buf, pos)
    if marker == 0x0A:  # strict array: the connect _result's fourCcList (E-RTMP)
        count = struct.unpack(">I", buf[pos:pos + 4])[0]
        pos += 4
        items = []
        for _ in range(count):
            item, pos = amf0_value(buf, pos)
            items.append(item)
        return items, pos
    if marker in (0x05, 0x06):
        return None, pos
    raise ValueError(f"AMF0 marker {marker:#x} not expected in a cue")


def script_tags(path) -> list[tuple[int, int, list]]:
    """(index among all tags, timestamp ms, AMF0 values) of each script tag in a saved FLV
    body; a tag still being written at the end is left for the next read."""
    data = path.read_bytes()
    if len(data) < 13:
        return []
    pos = struct.unpack(">I", data[5:9])[0] + 4
    out, index = [], 0
    while pos + 11 <= len(data):
        kind = data[pos] & 0x1F
        size = int.from_bytes(data[pos + 1:pos + 4], "big")
        ts = int.from_bytes(data[pos + 4:pos + 7], "big") | (data[pos + 7] << 24)
        if pos + 11 + size + 4 > len(data):
            break
        if kind == 18:
            body, values, p = data[pos + 11:pos + 11 + size], [], 0
            while p < len(body):
                value, p = amf0_value(body, p)
                values.append(value)
            out.append((index, ts, values))
        pos += 11 + size + 4
        index += 1
    return out


def overlay_cues(path) -> list[tuple[int, int, dict]]:
    """(tag index, timestamp, cue JSON) of each onCuePoint "overlay" tag."""
    cues = []
    for index, ts, values in script_tags(path):
        if len(values) == 2 and values[0] == "onCuePoint" and values[1].get("name") == "overlay":
            point = values[1]
            assert point["type"] == "event", point
            cue = json.loads(point["parameters"]["json"])
            assert point["parameters"]["version"] == cue["version"], point
            assert abs(point["time"] * 1000 - cue["pts_ms"]) < 1, point
            cues.append((index, ts, cue))
    return cues


# ---- RTMP play (RTMP spec 1.0 §5.3 chunking, §7.2 commands) ---------------------------

class RtmpPlayer:
    """connect, createStream, play; then de-chunks what the server sends on a thread and
    keeps every message's (type, timestamp, payload)."""

    def __init__(self, server, stream_id):
        self.messages: list[tuple[int, int, bytes]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.client = harness.RtmpClient(server.rtmp_port)
        self.client.handshake()
        self.client.send(harness.chunk_message(3, 20, harness.connect_command(server.rtmp_port)))
        self.client.send(harness.chunk_message(3, 20, harness.amf0("createStream") + harness.amf0(2) +
                                               harness.amf0(None)))
        self.client.sock.settimeout(0.5)
        self.stream_id = stream_id
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def snapshot(self):
        with self._lock:
            return list(self.messages)

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.client.close()

    def _read(self, n):
        buf = bytearray()
        while len(buf) < n:
            if self._stop.is_set():
                raise EOFError
            try:
                data = self.client.sock.recv(n - len(buf))
            except socket.timeout:
                continue
            if not data:
                raise EOFError
            buf += data
        return bytes(buf)

    def _run(self):
        chunk_size, streams, played = 128, {}, False
        try:
            while True:
                first = self._read(1)[0]
                fmt, csid = first >> 6, first & 0x3F
                if csid == 0:
                    csid = 64 + self._read(1)[0]
                elif csid == 1:
                    b = self._read(2)
                    csid = 64 + b[0] + 256 * b[1]
                st = streams.setdefault(csid, {"ts": 0, "delta": 0, "len": 0, "type": 0, "buf": b""})
                if fmt <= 2:
                    ts = int.from_bytes(self._read(3), "big")
                    if fmt <= 1:
                        st["len"] = int.from_bytes(self._read(3), "big")
                        st["type"] = self._read(1)[0]
                    if fmt == 0:
                        self._read(4)  # message stream id
                    if ts == 0xFFFFFF:
                        ts = int.from_bytes(self._read(4), "big")
                    if fmt == 0:
                        st["ts"], st["delta"] = ts, 0
                    else:
                        st["delta"] = ts
                        st["ts"] += ts
                elif not st["buf"]:
                    st["ts"] += st["delta"]  # §5.3.1.2.4: a new message on a type 3 header
                st["buf"] += self._read(min(chunk_size, st["len"] - len(st["buf"])))
                if len(st["buf"]) < st["len"]:
                    continue
                kind, payload, st["buf"] = st["type"], st["buf"], b""
                if kind == 1:
                    chunk_size = struct.unpack(">I", payload)[0] & 0x7FFFFFFF
                elif kind == 20 and not played and payload.startswith(harness.amf0("_result")):
                    values, p = [], 0
                    while p < len(payload):
                        value, p = amf0_value(payload, p)
                        values.append(value)
                    if values[1] == 2:  # createStream's result: the stream id
                        sid = int(values[3])
                        self.client.send(harness.chunk_message(8, 20, harness.amf0("play") + harness.amf0(3) +
                                                               harness.amf0(None) + harness.amf0(self.stream_id),
                                                               stream_id=sid))
                        played = True
                with self._lock:
                    self.messages.append((kind, st["ts"], payload))
        except (EOFError, OSError):
            pass


def rtmp_cues(player) -> list[tuple[int, dict]]:
    cues = []
    for kind, ts, payload in player.snapshot():
        if kind != 18:
            continue
        values, p = [], 0
        while p < len(payload):
            value, p = amf0_value(payload, p)
            values.append(value)
        if values and values[0] == "onCuePoint" and values[1].get("name") == "overlay":
            cues.append((ts, json.loads(values[1]["parameters"]["json"])))
    return cues


# ---- HLS -----------------------------------------------------------------------------

DATERANGE = re.compile(r"^#EXT-X-DATERANGE:(.*)$", re.M)
ATTR = re.compile(r'([A-Z0-9-]+)=("[^"\r\n]*"|[^,]*)(?:,|$)')


def date_ranges(playlist: str) -> list[dict]:
    ranges = []
    for line in DATERANGE.findall(playlist):
        attrs = {k: v.strip('"') for k, v in ATTR.findall(line)}
        ranges.append(attrs)
    return ranges


def id3_txxx_values(blob: bytes) -> list[tuple[str, str]]:
    """(description, value) of every ID3v2.4 TXXX frame in timed_id3 packets as FFmpeg
    extracts them. FFmpeg's mpegts demuxer drops the first 5 bytes of every stream_type
    0x15 PES (it expects an H.222.0 §2.12.4 metadata AU cell header, which Apple's timed
    metadata format, the one Safari and hls.js read, does not have), so a packet starts
    inside the tag header: frames are found by their id."""
    out, pos = [], 0
    syncsafe = lambda b: (b[0] << 21) | (b[1] << 14) | (b[2] << 7) | b[3]  # noqa: E731
    while (pos := blob.find(b"TXXX", pos)) >= 0:
        size = syncsafe(blob[pos + 4:pos + 8])
        body = blob[pos + 10:pos + 10 + size]
        if len(body) == size and body[:1] == b"\x03":
            description, _, value = body[1:].partition(b"\x00")
            out.append((description.decode(), value.rstrip(b"\x00").decode()))
        pos += 10 + size
    return out


class TimedMetadataTest(E2ETestCase):
    def setUp(self):
        super().setUp()
        self.server = self.start_server()

    def start_anchor(self, stream):
        self.publish(self.server, harness.key_of(stream), seconds=120, gop=30, name=f"anchor-{stream}")
        self.server.wait_live(stream)

    def playlist(self, stream) -> str:
        resp = self.server.get(f"/hls/{stream}/index.m3u8")
        return resp.body.decode() if resp.status == 200 else ""

    def wait_flv_cue(self, path, predicate, what, timeout=15.0):
        def found():
            return next((c for c in overlay_cues(path) if predicate(c)), None)
        return wait_for(found, timeout, what, interval=0.1)

    def test_metadata_stream_hls_daterange_id3_flv_and_rtmp_cues(self):
        stream = "demo"
        self.start_anchor(stream)
        harness.wait_playlist_with_segment(self.server, stream, timeout=20)
        early_path = self.tmp / "early.flv"
        early = self.flv_reader(self.server, f"/flv/{stream}.flv", save_to=early_path)
        wait_for(lambda: early.frames(), 15, "the early FLV viewer's first frame")
        rtmp = RtmpPlayer(self.server, stream)
        self.addCleanup(rtmp.close)
        wait_for(lambda: any(k == 9 for k, _, _ in rtmp.snapshot()), 15, "the RTMP player's first video message")

        async def show():
            m = await Merchant.open(self.server, stream, DEMO_TOKEN)
            ack = await m.call(card("1", "c1", url=PRODUCT_URL))
            self.assertEqual(ack["type"], "ack", ack)
            applied = await m.event("applied", version=ack["version"])
            await m.close()
            return ack["version"], applied["pts_ms"]

        version, pts_ms = asyncio.run(show())
        harness.report(f"card.show: version {version}, applied pts_ms {pts_ms}")

        # (b) HTTP-FLV: the cue at the applied pts, listing the card with its url.
        index, ts, cue = self.wait_flv_cue(early_path, lambda c: c[2]["version"] == version,
                                           f"an onCuePoint for version {version} in HTTP-FLV")
        self.assertEqual(ts, pts_ms, "the cue tag is not stamped with the applied pts")
        self.assertEqual(cue["pts_ms"], pts_ms)
        cards = [o for o in cue["overlays"] if o["id"] == "c1"]
        self.assertEqual(len(cards), 1, cue)
        self.assertEqual(cards[0]["url"], PRODUCT_URL)
        self.assertEqual(cards[0]["kind"], "card")
        # RTMP play: the same cue as a data message (type 18) on the play stream.
        rtmp_ts, rtmp_cue = wait_for(lambda: next((c for c in rtmp_cues(rtmp) if c[1]["version"] == version), None),
                                     15, f"an onCuePoint for version {version} over RTMP play", interval=0.1)
        self.assertEqual(rtmp_ts, pts_ms)
        self.assertEqual([o["url"] for o in rtmp_cue["overlays"] if o["id"] == "c1"], [PRODUCT_URL])

        # (a) HLS: a DATERANGE for the card, its payload the card object.
        def card_range():
            return next((r for r in date_ranges(self.playlist(stream))
                         if r.get("CLASS") == OVERLAY_CLASS and r.get("ID") == f"c1-v{version}"), None)
        rng = wait_for(card_range, 15, f"EXT-X-DATERANGE c1-v{version} in the playlist", interval=0.2)
        self.assertIn("START-DATE", rng)
        self.assertNotIn("END-DATE", rng)
        self.assertEqual(rng["X-VERSION"], str(version))
        payload = json.loads(base64.b64decode(rng["X-PAYLOAD"], validate=True))
        self.assertEqual(payload["id"], "c1")
        self.assertEqual(payload["url"], PRODUCT_URL)
        self.assertEqual(payload["title"], "真丝连衣裙 Silk dress")
        self.assertIn("#EXT-X-PROGRAM-DATE-TIME:", self.playlist(stream))

        # A segment cut after the change carries the cue as ID3: the newest one listed
        # once the playlist has moved on by a segment.
        first_listed = harness.parse_playlist(self.playlist(stream))[1][-1][1]
        newest = wait_for(lambda: (lambda s: s[-1][1] if s and s[-1][1] != first_listed else None)(
            harness.parse_playlist(self.playlist(stream))[1]), 15, "a new HLS segment", interval=0.2)
        seg_path = self.tmp / "segment.ts"
        resp = self.server.get(f"/hls/{stream}/{newest}")
        self.assertEqual(resp.status, 200)
        seg_path.write_bytes(resp.body)
        streams = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,codec_type",
                                  "-of", "json", str(seg_path)], capture_output=True, text=True, timeout=60)
        self.assertEqual(streams.returncode, 0, streams.stderr)
        codecs = [(s.get("codec_type"), s.get("codec_name")) for s in json.loads(streams.stdout)["streams"]]
        self.assertIn(("data", "timed_id3"), codecs, codecs)
        id3_path = self.tmp / "id3.bin"
        extract = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(seg_path), "-map", "0:d",
                                  "-c", "copy", "-f", "data", "-y", str(id3_path)],
                                 capture_output=True, text=True, timeout=60)
        self.assertEqual(extract.returncode, 0, extract.stderr)
        frames = id3_txxx_values(id3_path.read_bytes())
        self.assertTrue(frames, "no ID3 TXXX frame in the segment's timed_id3 packets")
        description, value = frames[0]
        self.assertEqual(description, "anchorcast")
        id3_cue = json.loads(value)
        self.assertEqual(id3_cue["version"], version)
        self.assertEqual([o["url"] for o in id3_cue["overlays"] if o["id"] == "c1"], [PRODUCT_URL])
        errors = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(seg_path), "-map", "0",
                                 "-f", "null", "-"], capture_output=True, text=True, timeout=60)
        self.assertEqual(errors.returncode, 0, errors.stderr)
        self.assertEqual(errors.stderr.strip(), "", "ffmpeg reports errors reading the segment")

        # (c) A late FLV viewer: the current state right after the cached first frames.
        late_path = self.tmp / "late.flv"
        late = self.flv_reader(self.server, f"/flv/{stream}.flv", save_to=late_path)
        wait_for(lambda: late.frames(), 15, "the late FLV viewer's first frame")
        late_index, late_ts, late_cue = self.wait_flv_cue(late_path, lambda c: True, "a cue for the late viewer")
        self.assertEqual(late_cue["version"], version)
        self.assertEqual([o["id"] for o in late_cue["overlays"]], ["c1"])
        tags = late.snapshot()
        gop_burst = [t for t in tags[:late_index] if t.arrival_s - tags[0].arrival_s < 1.0]
        self.assertEqual(len(gop_burst), late_index,
                         "the state cue came later than the burst of cached frames a new viewer gets")
        self.assertTrue(any(t.is_video_frame for t in tags[:late_index]), "the state cue came before any frame")

        # card.hide: the range gets an END-DATE; FLV viewers get the empty state.
        async def hide():
            m = await Merchant.open(self.server, stream, DEMO_TOKEN)
            ack = await m.call({"type": "card.hide", "req": "2", "id": "c1"})
            self.assertEqual(ack["type"], "ack", ack)
            applied = await m.event("applied", version=ack["version"])
            await m.close()
            return ack["version"], applied["pts_ms"]

        hide_version, hide_pts = asyncio.run(hide())
        ended = wait_for(lambda: (lambda r: r if r and "END-DATE" in r else None)(card_range()), 15,
                         "END-DATE on the card's range after card.hide", interval=0.2)
        self.assertGreaterEqual(ended["END-DATE"], ended["START-DATE"])
        self.assertEqual(ended["X-PAYLOAD"], rng["X-PAYLOAD"], "a range's attributes changed under its ID")
        _, hide_ts, hide_cue = self.wait_flv_cue(early_path, lambda c: c[2]["version"] == hide_version,
                                                 "the card.hide cue in HTTP-FLV")
        self.assertEqual(hide_ts, hide_pts)
        self.assertEqual(hide_cue["overlays"], [])
        harness.report(f"DATERANGE {ended['ID']}: {ended['START-DATE']} .. {ended['END-DATE']}")

    def test_burn_in_cue_is_stamped_with_the_frame_that_shows_the_card(self):
        stream = "shop2"
        self.start_anchor(stream)
        path = self.tmp / "shop2.flv"
        reader = self.flv_reader(self.server, f"/flv/{stream}.flv", save_to=path)
        wait_for(lambda: reader.frames(), 20, "a composited FLV frame")

        async def show():
            m = await Merchant.open(self.server, stream, SHOP2_TOKEN)
            ack = await m.call(card("1", "c9", url=PRODUCT_URL))
            self.assertEqual(ack["type"], "ack", ack)
            applied = await m.event("applied", version=ack["version"])
            await m.close()
            return ack["version"], applied["pts_ms"]

        version, pts_ms = asyncio.run(show())
        _, ts, cue = self.wait_flv_cue(path, lambda c: c[2]["version"] == version,
                                       f"an onCuePoint for version {version} on the burn-in stream")
        self.assertEqual(ts, pts_ms)
        self.assertEqual([o["url"] for o in cue["overlays"] if o["id"] == "c9"], [PRODUCT_URL])
        # The composited video has no B-frames: a frame's FLV timestamp is its pts.
        wait_for(lambda: any(t.timestamp_ms >= pts_ms for t in reader.frames()), 10, "frames past the cue")
        self.assertIn(pts_ms, [t.timestamp_ms for t in reader.frames()],
                      "the cue's pts is not the pts of a composited frame")
        harness.report(f"burn-in: cue and frame at pts {pts_ms}")


if __name__ == "__main__":
    harness.main()
