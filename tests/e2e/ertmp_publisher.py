"""An Enhanced RTMP (E-RTMP v1) HEVC anchor and player, Python 3 stdlib only, for
test_ertmp_hevc.py: what OBS >= 29.1 sends when its encoder is HEVC, which the installed
FFmpeg 5.1 cannot (its flv muxer and rtmp protocol predate E-RTMP).

publish: `ffmpeg -re` encodes lavfi testsrc2 with libx265 (and optionally a sine with AAC)
into MPEG-TS on a pipe. TS rather than raw `-f hevc`: a raw HEVC stream carries no
timestamps, and with B-frames the composition times must come from the encoder; the PES
headers carry its pts and dts (ISO 13818-1 2.4.3.7). The access units are split into NAL
units, the parameter sets go into an HEVCDecoderConfigurationRecord built here (ISO
14496-15 8.3.3.1) and leave the frames (hvc1: arrays complete), and the stream goes out
over RTMP (plain handshake, connect with fourCcList ["hvc1"], createStream, publish,
chunk size 4096) as E-RTMP video tags: SequenceStart with the record, CodedFrames (SI24
composition time) or CodedFramesX (composition time 0); AAC as legacy FLV audio tags.

play: connect (fourCcList ["hvc1"]), createStream, play; every audio, video and data
message is written to an FLV file (the RTMP message payloads are FLV tag bodies) until
the server has sent no media for --idle seconds.

Both write a JSON report (--report) for the test: what the server answered, what was sent
or received. The socket, handshake and chunk writer are harness.py's RtmpClient and
chunk_message; this file adds what they lack: AMF0 strict arrays and decoding, a chunk
stream reader, TS demuxing and the HEVC record.

    python3 ertmp_publisher.py publish rtmp://127.0.0.1:1935/live/KEY --seconds 6 --bframes 2
    python3 ertmp_publisher.py play rtmp://127.0.0.1:1935/live/demo --out got.flv
"""

from __future__ import annotations

import argparse
import json
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Iterator, Optional
from urllib.parse import urlsplit

import harness

# RTMP spec 1.0: message types (5.4, 7.1) and the chunk stream ids we send on.
MSG_SET_CHUNK_SIZE, MSG_AUDIO, MSG_VIDEO, MSG_DATA_AMF0, MSG_COMMAND_AMF0 = 1, 8, 9, 18, 20
CSID_CONTROL, CSID_COMMAND, CSID_STREAM, CSID_AUDIO, CSID_VIDEO = 2, 3, 5, 4, 6
CHUNK_SIZE = 4096

# enhanced-rtmp v1, Table 4 (ExVideoTagHeader).
EX_HEADER = 0x80
FRAME_KEY, FRAME_INTER = 1, 2
PACKET_SEQUENCE_START, PACKET_CODED_FRAMES, PACKET_SEQUENCE_END, PACKET_CODED_FRAMES_X = 0, 1, 2, 3
FOURCC_HVC1 = b"hvc1"
FOURCC_HVC1_NUMBER = int.from_bytes(FOURCC_HVC1, "big")  # onMetaData videocodecid

# H.265 Table 7-1.
NAL_VPS, NAL_SPS, NAL_PPS, NAL_AUD = 32, 33, 34, 35


# ---------------------------------------------------------------------------------------
# AMF0 (Adobe AMF0 spec, section 2): harness.amf0 writes scalars and objects; E-RTMP's
# fourCcList needs strict arrays (2.12), and replies need decoding.


def amf0(value) -> bytes:
    if isinstance(value, (list, tuple)):
        return b"\x0a" + struct.pack(">I", len(value)) + b"".join(amf0(v) for v in value)
    if isinstance(value, dict):
        out = b"\x03"
        for k, v in value.items():
            key = k.encode("utf-8")
            out += struct.pack(">H", len(key)) + key + amf0(v)
        return out + b"\x00\x00\x09"
    return harness.amf0(value)


class AmfReader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError(f"AMF0 value runs past the end at byte {self.pos}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def key(self) -> str:
        return self.take(struct.unpack(">H", self.take(2))[0]).decode("utf-8", "replace")

    def properties(self) -> dict:
        out = {}
        while True:
            name = self.key()
            if name == "" and self.data[self.pos:self.pos + 1] == b"\x09":
                self.pos += 1
                return out
            out[name] = self.value()

    def value(self):
        marker = self.take(1)[0]
        if marker == 0x00:
            return struct.unpack(">d", self.take(8))[0]
        if marker == 0x01:
            return self.take(1) != b"\x00"
        if marker == 0x02:
            return self.key()
        if marker == 0x03:
            return self.properties()
        if marker in (0x05, 0x06):
            return None
        if marker == 0x08:
            self.take(4)  # ECMA array: an approximate count, then properties
            return self.properties()
        if marker == 0x0A:
            return [self.value() for _ in range(struct.unpack(">I", self.take(4))[0])]
        if marker == 0x0B:
            ms = struct.unpack(">d", self.take(8))[0]
            self.take(2)
            return ms
        if marker == 0x0C:
            return self.take(struct.unpack(">I", self.take(4))[0]).decode("utf-8", "replace")
        raise ValueError(f"AMF0 marker 0x{marker:02x} not supported here")

    def all(self) -> list:
        out = []
        while self.pos < len(self.data):
            out.append(self.value())
        return out


def decode_amf0(data: bytes) -> list:
    return AmfReader(data).all()


# ---------------------------------------------------------------------------------------
# RTMP: harness.RtmpClient (socket, plain handshake) + a chunk stream reader (5.3.1).


@dataclass
class Message:
    type_id: int
    stream_id: int
    timestamp: int
    payload: bytes


@dataclass
class _ChunkStream:
    timestamp: int = 0
    delta: int = 0
    length: int = 0
    type_id: int = 0
    stream_id: int = 0
    extended: bool = False
    buf: bytearray = field(default_factory=bytearray)


class RtmpConnection:
    def __init__(self, url: str, timeout: float = 5.0):
        parts = urlsplit(url)
        if parts.scheme != "rtmp" or not parts.port:
            raise ValueError(f"expected rtmp://HOST:PORT/APP/NAME, got {url!r}")
        if parts.hostname not in (harness.HOST, "localhost"):
            raise ValueError(f"loopback only (harness.RtmpClient connects to {harness.HOST}): {url!r}")
        app, _, name = parts.path.lstrip("/").partition("/")
        self.app, self.name = app, name
        self.tc_url = f"rtmp://{parts.hostname}:{parts.port}/{app}"
        self.client = harness.RtmpClient(parts.port, timeout=timeout)
        self.client.handshake()
        self.in_chunk_size = 128
        self.out_chunk_size = 128
        self.streams: dict[int, _ChunkStream] = {}
        self.transaction = 0

    def close(self) -> None:
        self.client.close()

    # writing
    def send(self, csid: int, type_id: int, payload: bytes, stream_id: int = 0, timestamp: int = 0) -> None:
        # harness.chunk_message writes no extended timestamp: fine for minutes of media.
        assert timestamp < 0xFFFFFF, "extended timestamps are not written"
        self.client.send(harness.chunk_message(csid, type_id, payload, stream_id, timestamp,
                                               self.out_chunk_size))

    def set_chunk_size(self, size: int) -> None:
        self.send(CSID_CONTROL, MSG_SET_CHUNK_SIZE, struct.pack(">I", size))
        self.out_chunk_size = size

    def command(self, name: str, obj, *args, stream_id: int = 0, csid: int = CSID_COMMAND) -> int:
        self.transaction += 1
        payload = amf0(name) + amf0(self.transaction) + amf0(obj) + b"".join(amf0(a) for a in args)
        self.send(csid, MSG_COMMAND_AMF0, payload, stream_id)
        return self.transaction

    # reading
    def read_message(self, timeout: float) -> Optional[Message]:
        """The next whole message, None when nothing arrives within `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.client.sock.settimeout(left)
            try:
                first = self.client.sock.recv(1)
            except socket.timeout:
                return None
            if not first:
                raise ConnectionError("the server closed the connection")
            self.client.sock.settimeout(5.0)  # the rest of a started chunk follows at once
            message = self._read_chunk(first[0])
            if message is None:
                continue
            if message.type_id == MSG_SET_CHUNK_SIZE:
                self.in_chunk_size = struct.unpack(">I", message.payload[:4])[0] & 0x7FFFFFFF
            return message

    def _read_chunk(self, b0: int) -> Optional[Message]:
        recv = self.client.recv_exact
        fmt, csid = b0 >> 6, b0 & 0x3F
        if csid == 0:
            csid = 64 + recv(1)[0]
        elif csid == 1:
            b = recv(2)
            csid = 64 + b[0] + 256 * b[1]
        st = self.streams.setdefault(csid, _ChunkStream())
        starting = not st.buf
        if fmt <= 2:
            ts = int.from_bytes(recv(3), "big")
            if fmt <= 1:
                st.length = int.from_bytes(recv(3), "big")
                st.type_id = recv(1)[0]
            if fmt == 0:
                st.stream_id = struct.unpack("<I", recv(4))[0]
            st.extended = ts == 0xFFFFFF
            if st.extended:
                ts = struct.unpack(">I", recv(4))[0]
            if fmt == 0:
                st.timestamp, st.delta = ts, 0
            else:
                st.delta = ts
                st.timestamp += ts
        else:
            if st.extended:
                recv(4)
            if starting:
                st.timestamp += st.delta
        want = min(self.in_chunk_size, st.length - len(st.buf))
        st.buf += recv(want)
        if len(st.buf) < st.length:
            return None
        message = Message(st.type_id, st.stream_id, st.timestamp, bytes(st.buf))
        st.buf = bytearray()
        return message

    def wait_command(self, name: str, timeout: float = 5.0, transaction: Optional[int] = None) -> list:
        """[name, transaction, object, args...] of the next command called `name`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.read_message(deadline - time.monotonic())
            if m is None or m.type_id != MSG_COMMAND_AMF0:
                continue
            values = decode_amf0(m.payload)
            if values and values[0] == name and (transaction is None or values[1] == transaction):
                return values
        raise TimeoutError(f"no '{name}' from the server within {timeout} s")

    def connect(self, four_cc_list: Optional[list[str]]) -> dict:
        """NetConnection.connect; returns the _result's properties object (7.2.1.1)."""
        obj = {"app": self.app, "type": "nonprivate", "flashVer": "FMLE/3.0 (compatible; ertmp_publisher)",
               "tcUrl": self.tc_url}
        if four_cc_list is not None:
            obj["fourCcList"] = four_cc_list
        tx = self.command("connect", obj)
        reply = self.wait_command("_result", transaction=tx)
        info = reply[3] if len(reply) > 3 and isinstance(reply[3], dict) else {}
        if info.get("code") != "NetConnection.Connect.Success":
            raise RuntimeError(f"connect refused: {reply}")
        return reply[2] if isinstance(reply[2], dict) else {}

    def create_stream(self) -> int:
        tx = self.command("createStream", None)
        return int(self.wait_command("_result", transaction=tx)[3])

    def wait_status(self, timeout: float = 5.0) -> str:
        values = self.wait_command("onStatus", timeout)
        info = values[3] if len(values) > 3 and isinstance(values[3], dict) else {}
        return str(info.get("code", ""))


# ---------------------------------------------------------------------------------------
# MPEG-TS (ISO 13818-1): PAT, PMT, PES with PTS/DTS, one PES per access unit as FFmpeg's
# muxer writes them.

STREAM_TYPE_AAC, STREAM_TYPE_HEVC = 0x0F, 0x24


@dataclass
class Pes:
    kind: str  # "video" | "audio"
    pts: int   # 90 kHz
    dts: int
    data: bytes


class TsDemuxer:
    def __init__(self):
        self.pmt_pid: Optional[int] = None
        self.kinds: dict[int, str] = {}
        self.pending: dict[int, tuple[int, int, bytearray]] = {}

    def packets(self, pipe) -> Iterator[Pes]:
        while True:
            packet = pipe.read(188)
            if len(packet) < 188:
                break
            if packet[0] != 0x47:
                raise ValueError("MPEG-TS lost sync")
            yield from self._packet(packet)
        for pid in list(self.pending):
            yield from self._flush(pid)

    def _packet(self, p: bytes) -> Iterator[Pes]:
        pid = ((p[1] & 0x1F) << 8) | p[2]
        start = bool(p[1] & 0x40)
        afc = (p[3] >> 4) & 0x3
        if not afc & 0x1:
            return
        pos = 4 + (1 + p[4] if afc & 0x2 else 0)
        payload = p[pos:]
        if pid == 0 and start:
            section = payload[1 + payload[0]:]
            self.pmt_pid = ((section[10] & 0x1F) << 8) | section[11]  # the first program
        elif pid == self.pmt_pid and start:
            section = payload[1 + payload[0]:]
            end = 3 + (((section[1] & 0x0F) << 8) | section[2]) - 4  # before the CRC
            i = 12 + (((section[10] & 0x0F) << 8) | section[11])
            while i + 5 <= end:
                stream_type, es_pid = section[i], ((section[i + 1] & 0x1F) << 8) | section[i + 2]
                if stream_type == STREAM_TYPE_HEVC:
                    self.kinds[es_pid] = "video"
                elif stream_type == STREAM_TYPE_AAC:
                    self.kinds[es_pid] = "audio"
                i += 5 + (((section[i + 3] & 0x0F) << 8) | section[i + 4])
        elif pid in self.kinds:
            if start:
                yield from self._flush(pid)
                if payload[:3] != b"\x00\x00\x01":
                    raise ValueError(f"PES on PID {pid} without a start code")
                flags, header_len = payload[7], payload[8]
                pts = dts = self._timestamp(payload[9:14]) if flags & 0x80 else 0
                if flags & 0x40:
                    dts = self._timestamp(payload[14:19])
                self.pending[pid] = (pts, dts, bytearray(payload[9 + header_len:]))
            elif pid in self.pending:
                self.pending[pid][2].extend(payload)

    def _flush(self, pid: int) -> Iterator[Pes]:
        if pid in self.pending:
            pts, dts, data = self.pending.pop(pid)
            yield Pes(self.kinds[pid], pts, dts, bytes(data))

    @staticmethod
    def _timestamp(b: bytes) -> int:
        return (((b[0] >> 1) & 0x07) << 30) | (b[1] << 22) | ((b[2] >> 1) << 15) | (b[3] << 7) | (b[4] >> 1)


# ---------------------------------------------------------------------------------------
# HEVC: Annex B, the SPS fields the record copies, the record.


def annexb_nal_units(data: bytes) -> list[bytes]:
    """NAL units between start codes (H.265 B.2), trailing zero bytes dropped."""
    out, i, start = [], 0, -1
    while True:
        j = data.find(b"\x00\x00\x01", i)
        if start >= 0:
            nal = data[start:j if j >= 0 else len(data)].rstrip(b"\x00")
            if nal:
                out.append(nal)
        if j < 0:
            return out
        start = i = j + 3


def nal_type(nal: bytes) -> int:
    return (nal[0] >> 1) & 0x3F


def rbsp(nal: bytes) -> bytes:
    """Without emulation_prevention_three_bytes (7.4.2)."""
    out, zeros = bytearray(), 0
    for b in nal:
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


class BitReader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def u(self, n: int) -> int:
        v = 0
        for _ in range(n):
            if self.pos >= 8 * len(self.data):
                raise ValueError("SPS ends early")
            v = (v << 1) | ((self.data[self.pos >> 3] >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return v

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
        return (1 << zeros) - 1 + self.u(zeros)


def sps_fields(sps_nal: bytes) -> dict:
    """The parts of seq_parameter_set_rbsp (7.3.2.2.1) up to the bit depths."""
    data = rbsp(sps_nal)
    br = BitReader(data[2:])  # after the 2-byte NAL header
    br.u(4)  # sps_video_parameter_set_id
    max_sub_layers_minus1 = br.u(3)
    temporal_id_nesting = br.u(1)
    ptl = data[3:15]  # profile_tier_level's general part: 12 bytes, copied verbatim
    br.u(96)
    # 7.3.3: sub-layer flags, alignment, then the sub-layers' own profile/level fields.
    flags = [(br.u(1), br.u(1)) for _ in range(max_sub_layers_minus1)]
    if max_sub_layers_minus1 > 0:
        br.u(2 * (8 - max_sub_layers_minus1))
    for profile_present, level_present in flags:
        br.u(88 if profile_present else 0)
        br.u(8 if level_present else 0)
    br.ue()  # sps_seq_parameter_set_id
    chroma_format_idc = br.ue()
    if chroma_format_idc == 3:
        br.u(1)
    width, height = br.ue(), br.ue()
    if br.u(1):  # conformance_window_flag
        sub_w = 2 if chroma_format_idc in (1, 2) else 1
        sub_h = 2 if chroma_format_idc == 1 else 1
        left, right, top, bottom = br.ue(), br.ue(), br.ue(), br.ue()
        width -= sub_w * (left + right)
        height -= sub_h * (top + bottom)
    return {"ptl": ptl, "max_sub_layers_minus1": max_sub_layers_minus1,
            "temporal_id_nesting": temporal_id_nesting, "chroma_format_idc": chroma_format_idc,
            "bit_depth_luma": br.ue() + 8, "bit_depth_chroma": br.ue() + 8,
            "width": width, "height": height}


def hevc_decoder_config(vps: bytes, sps: bytes, pps: bytes, length_size: int) -> bytes:
    """HEVCDecoderConfigurationRecord (ISO 14496-15 8.3.3.1.2), arrays marked complete:
    the frames sent carry no parameter sets (hvc1)."""
    f = sps_fields(sps)
    out = bytearray([1])                    # configurationVersion
    out += f["ptl"]                         # general profile space .. general_level_idc
    out += struct.pack(">H", 0xF000)        # reserved 1111, min_spatial_segmentation_idc 0
    out.append(0xFC)                        # reserved 111111, parallelismType 0
    out.append(0xFC | f["chroma_format_idc"])
    out.append(0xF8 | (f["bit_depth_luma"] - 8))
    out.append(0xF8 | (f["bit_depth_chroma"] - 8))
    out += struct.pack(">H", 0)             # avgFrameRate: unspecified
    out.append(((f["max_sub_layers_minus1"] + 1) << 3) | (f["temporal_id_nesting"] << 2) | (length_size - 1))
    out.append(3)                           # numOfArrays
    for kind, nal in ((NAL_VPS, vps), (NAL_SPS, sps), (NAL_PPS, pps)):
        out.append(0x80 | kind)             # array_completeness 1, reserved 0, NAL_unit_type
        out += struct.pack(">HH", 1, len(nal)) + nal
    return bytes(out)


def length_prefixed(nals: list[bytes], length_size: int) -> bytes:
    out = bytearray()
    for nal in nals:
        if len(nal) >= 1 << (8 * length_size):
            raise ValueError(f"a {len(nal)}-byte NAL unit does not fit a {length_size}-byte length")
        out += len(nal).to_bytes(length_size, "big") + nal
    return bytes(out)


def ex_video_body(frame_type: int, packet_type: int, data: bytes, cts_ms: int = 0) -> bytes:
    """enhanced-rtmp v1 ExVideoTagHeader + VideoTagBody for hvc1."""
    body = bytes([EX_HEADER | (frame_type << 4) | packet_type]) + FOURCC_HVC1
    if packet_type == PACKET_CODED_FRAMES:
        body += (cts_ms & 0xFFFFFF).to_bytes(3, "big")
    return body + data


# ---------------------------------------------------------------------------------------
# AAC: ADTS (ISO 14496-3 1.A.2) → raw frames and AudioSpecificConfig (1.6.2.1).

ADTS_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350]


def adts_frames(data: bytes) -> Iterator[tuple[bytes, bytes, int]]:
    """(AudioSpecificConfig, raw frame, sample rate) per ADTS frame."""
    i = 0
    while i + 7 <= len(data):
        h = data[i:i + 7]
        if h[0] != 0xFF or h[1] & 0xF0 != 0xF0:
            raise ValueError("ADTS lost sync")
        header_len = 7 if h[1] & 0x01 else 9
        object_type = (h[2] >> 6) + 1
        rate_index = (h[2] >> 2) & 0x0F
        channels = ((h[2] & 0x01) << 2) | (h[3] >> 6)
        frame_len = ((h[3] & 0x03) << 11) | (h[4] << 3) | (h[5] >> 5)
        asc = struct.pack(">H", (object_type << 11) | (rate_index << 7) | (channels << 3))
        yield asc, data[i + header_len:i + frame_len], ADTS_RATES[rate_index]
        i += frame_len


# ---------------------------------------------------------------------------------------
# publish


def encoder_cmd(args) -> list[str]:
    x265 = f"bframes={args.bframes}:keyint={args.keyint}:min-keyint={args.keyint}:scenecut=0:log-level=error:info=0"
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
           "-f", "lavfi", "-i", f"{args.picture}=size={args.size}:rate={args.fps}"]
    if args.audio:
        cmd += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
    cmd += ["-t", str(args.seconds), "-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-x265-params", x265]
    cmd += ["-c:a", "aac", "-b:a", "64k"] if args.audio else ["-an"]
    # One PES per frame, flushed at once: the anchor stays real time.
    # pes_payload_size 0: one PES per audio frame too, instead of ~0.4 s of them.
    return cmd + ["-flush_packets", "1", "-pes_payload_size", "0", "-f", "mpegts", "-"]


def publish(args) -> dict:
    report: dict = {"frames": 0, "keyframes": 0, "nonzero_cts": 0, "audio_frames": 0}
    conn = RtmpConnection(args.url)
    conn.set_chunk_size(CHUNK_SIZE)
    props = conn.connect(["hvc1"])
    report["server_fourcc_list"] = props.get("fourCcList")
    conn.command("releaseStream", None, conn.name)
    conn.command("FCPublish", None, conn.name)
    stream_id = conn.create_stream()
    conn.command("publish", None, conn.name, "live", stream_id=stream_id, csid=CSID_STREAM)
    report["publish_code"] = conn.wait_status()
    if report["publish_code"] != "NetStream.Publish.Start":
        return report
    width, height = (int(v) for v in args.size.split("x"))
    # What OBS sends: @setDataFrame onMetaData with the FourCC as videocodecid (v1 "Enhancing onMetaData").
    meta = {"width": width, "height": height, "framerate": args.fps, "videocodecid": FOURCC_HVC1_NUMBER,
            "encoder": "ertmp_publisher"}
    if args.audio:
        meta.update({"audiocodecid": 10, "audiosamplerate": 44100, "audiochannels": 1})
    conn.send(CSID_STREAM, MSG_DATA_AMF0, amf0("@setDataFrame") + amf0("onMetaData") + amf0(meta), stream_id)

    encoder = subprocess.Popen(encoder_cmd(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    base: Optional[int] = None
    record: Optional[bytes] = None
    asc: Optional[bytes] = None
    # Like OBS, both sequence headers go out before any frame (a server announces the
    # tracks at the first frame): frames wait here until the record and the
    # AudioSpecificConfig are known. The TS muxer's first audio PES trails the video.
    held: list[tuple[int, int, bytes, int]] = []  # csid, type, payload, timestamp
    headers_sent = False

    def send(csid: int, type_id: int, payload: bytes, ts: int) -> None:
        nonlocal headers_sent
        held.append((csid, type_id, payload, ts))
        if not headers_sent:
            if record is None or (args.audio and asc is None):
                return
            first_ts = min(m[3] for m in held)
            conn.send(CSID_VIDEO, MSG_VIDEO, ex_video_body(FRAME_KEY, PACKET_SEQUENCE_START, record), stream_id,
                      first_ts)
            if asc is not None:
                conn.send(CSID_AUDIO, MSG_AUDIO, b"\xaf\x00" + asc, stream_id, first_ts)
            headers_sent = True
        for m in held:
            conn.send(m[0], m[1], m[2], stream_id, m[3])
        held.clear()

    try:
        for pes in TsDemuxer().packets(encoder.stdout):
            if base is None:
                # The streams' first PES are not in strict dts order: keep a margin so
                # none goes below 0.
                base = pes.dts - 200 * 90
            dts_ms = max(0, round((pes.dts - base) / 90))
            if pes.kind == "audio":
                for i, (config, raw, rate) in enumerate(adts_frames(pes.data)):
                    asc = asc or config
                    send(CSID_AUDIO, MSG_AUDIO, b"\xaf\x01" + raw,
                         max(0, round((pes.pts - base) / 90 + i * 1024 * 1000 / rate)))
                    report["audio_frames"] += 1
                continue
            nals = annexb_nal_units(pes.data)
            params = {nal_type(n): n for n in nals if nal_type(n) in (NAL_VPS, NAL_SPS, NAL_PPS)}
            if record is None:
                if len(params) < 3:
                    continue  # no record yet: a player could not decode this frame
                record = hevc_decoder_config(params[NAL_VPS], params[NAL_SPS], params[NAL_PPS], args.length_size)
                report["record"] = record.hex()
                report["sps"] = {k: v for k, v in sps_fields(params[NAL_SPS]).items() if k != "ptl"}
            frame = [n for n in nals if nal_type(n) not in (NAL_VPS, NAL_SPS, NAL_PPS, NAL_AUD)]
            key = any(16 <= nal_type(n) <= 23 for n in frame)  # IRAP (7.4.2.2)
            cts_ms = max(0, round((pes.pts - base) / 90)) - dts_ms
            packet_type = PACKET_CODED_FRAMES if cts_ms != 0 else PACKET_CODED_FRAMES_X
            send(CSID_VIDEO, MSG_VIDEO, ex_video_body(FRAME_KEY if key else FRAME_INTER, packet_type,
                                                      length_prefixed(frame, args.length_size), cts_ms), dts_ms)
            report["frames"] += 1
            report["keyframes"] += key
            report["nonzero_cts"] += cts_ms != 0
            report["last_dts_ms"] = dts_ms
        if record is not None:
            conn.send(CSID_VIDEO, MSG_VIDEO, ex_video_body(FRAME_KEY, PACKET_SEQUENCE_END, b""), stream_id,
                      report.get("last_dts_ms", 0))
        conn.command("deleteStream", None, stream_id)
    finally:
        report["encoder_exit"] = encoder.wait(timeout=30)
        conn.close()
    return report


# ---------------------------------------------------------------------------------------
# play


def flv_tag(tag_type: int, timestamp: int, data: bytes) -> bytes:
    """FLV spec E.4.1 tag header + data + PreviousTagSize."""
    head = bytes([tag_type]) + len(data).to_bytes(3, "big") + (timestamp & 0xFFFFFF).to_bytes(3, "big") + \
        bytes([(timestamp >> 24) & 0xFF]) + b"\x00\x00\x00"
    return head + data + struct.pack(">I", 11 + len(data))


def play(args) -> dict:
    report: dict = {"messages": 0, "video": 0, "audio": 0}
    conn = RtmpConnection(args.url)
    props = conn.connect(["hvc1"])
    report["server_fourcc_list"] = props.get("fourCcList")
    stream_id = conn.create_stream()
    conn.command("play", None, conn.name, stream_id=stream_id, csid=CSID_STREAM)
    deadline = time.monotonic() + args.max_seconds
    last_media = time.monotonic()
    with open(args.out, "wb") as out:
        out.write(b"FLV\x01\x05\x00\x00\x00\x09" + b"\x00\x00\x00\x00")  # E.2 header, PreviousTagSize0
        while time.monotonic() < deadline:
            idle_left = last_media + args.idle - time.monotonic()
            if report["video"] and idle_left <= 0:
                break
            try:
                m = conn.read_message(min(0.5, max(idle_left, 0.05)))
            except ConnectionError:
                report["closed"] = True
                break
            if m is None:
                continue
            if m.type_id == MSG_COMMAND_AMF0:
                values = decode_amf0(m.payload)
                if values and values[0] == "onStatus" and len(values) > 3 and isinstance(values[3], dict):
                    report.setdefault("status", []).append(values[3].get("code"))
                continue
            if m.type_id not in (MSG_AUDIO, MSG_VIDEO, MSG_DATA_AMF0):
                continue
            out.write(flv_tag(m.type_id, m.timestamp, m.payload))
            report["messages"] += 1
            if m.type_id in (MSG_AUDIO, MSG_VIDEO):
                report["video" if m.type_id == MSG_VIDEO else "audio"] += 1
                last_media = time.monotonic()
    conn.close()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("publish")
    p.add_argument("url")
    p.add_argument("--seconds", type=float, default=6)
    p.add_argument("--size", default="640x360")
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--picture", default="testsrc2", help="lavfi source (smptebars: a still picture)")
    p.add_argument("--bframes", type=int, default=0)
    p.add_argument("--keyint", type=int, default=60)
    p.add_argument("--length-size", type=int, choices=(2, 4), default=4,
                   help="NAL length size of the record and frames (lengthSizeMinusOne + 1)")
    p.add_argument("--audio", action="store_true", help="AAC audio beside the video")
    p.add_argument("--report", help="write a JSON report here")
    q = sub.add_parser("play")
    q.add_argument("url")
    q.add_argument("--out", required=True, help="FLV file to write what arrives into")
    q.add_argument("--idle", type=float, default=3.0, help="end after this long without media")
    q.add_argument("--max-seconds", type=float, default=60)
    q.add_argument("--report", help="write a JSON report here")
    args = parser.parse_args()
    report = publish(args) if args.mode == "publish" else play(args)
    text = json.dumps(report, indent=1)
    if args.report:
        with open(args.report, "w") as f:
            f.write(text)
    print(text, file=sys.stderr)
    ok = report.get("publish_code", "NetStream.Publish.Start") == "NetStream.Publish.Start"
    return 0 if ok and report.get("encoder_exit", 0) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
