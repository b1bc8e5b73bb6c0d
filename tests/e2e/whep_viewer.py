"""A WHEP viewer for the test_whep_* tests, built on Debian's python3-aiortc: it POSTs an
SDP offer to /whep/{id}, plays what comes back (aiortc decodes H.264 with PyAV and Opus
with libopus) and records when each decoded frame arrived; optionally each frame's RTP
timestamp with a probe of its picture or samples, and the server's RTCP sender reports.
It runs its own asyncio loop on a thread so a test keeps polling with harness.wait_for.

LossyUdpRelay sits between the viewer and the server's UDP port and drops a fraction of
the datagrams in both directions (the answer's candidate is rewritten to point at it)."""

import asyncio
import http.client
import random
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from aiortc.rtp import RtcpSrPacket

HOST = "127.0.0.1"


@dataclass
class SenderReport:
    """One RTCP SR (RFC 3550 6.4.1) as received: the sender's NTP time of the instant
    whose RTP timestamp is rtp_timestamp, on the stream `kind` ("video"/"audio")."""
    arrived: float  # time.monotonic() at the viewer
    kind: str
    ssrc: int
    ntp_timestamp: int  # 64-bit NTP: seconds since 1900 << 32 | fraction
    rtp_timestamp: int

    @property
    def ntp_seconds(self) -> float:
        return self.ntp_timestamp / float(1 << 32)


class LossyUdpRelay(asyncio.DatagramProtocol):
    """client <-> relay port <-> server port; one client. Seeded: runs are repeatable."""

    def __init__(self, server_port: int, loss: float, seed: int = 5):
        self.server = (HOST, server_port)
        self.loss = loss
        self.random = random.Random(seed)
        self.client_addr = None
        self.transport = None
        self.upstream = None
        self.dropped = 0
        self.forwarded = 0

    async def open(self) -> int:
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(HOST, 0))
        relay = self

        class Upstream(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                relay.forward(data, toward_client=True)

        self.upstream, _ = await loop.create_datagram_endpoint(Upstream, local_addr=(HOST, 0))
        return self.transport.get_extra_info("sockname")[1]

    def datagram_received(self, data, addr):
        self.client_addr = addr
        self.forward(data, toward_client=False)

    def forward(self, data: bytes, toward_client: bool) -> None:
        if self.random.random() < self.loss:
            self.dropped += 1
            return
        self.forwarded += 1
        if toward_client:
            if self.client_addr:
                self.transport.sendto(data, self.client_addr)
        else:
            self.upstream.sendto(data, self.server)

    def close(self) -> None:
        for t in (self.transport, self.upstream):
            if t:
                t.close()


class WhepViewer:
    def __init__(self, http_port: int, stream_id: str, query: str = "",
                 relay_loss: Optional[float] = None, webrtc_port: Optional[int] = None,
                 data_channel: Optional[str] = None, frame_probe: Optional[Callable] = None,
                 audio_probe: Optional[Callable] = None, record_sender_reports: bool = False):
        self.http_port = http_port
        # A data channel opened before the offer (its application m-line goes in the offer):
        # its text messages with their arrival time, and when it opened.
        self.data_channel = data_channel
        self.channel_messages: list[tuple[float, str]] = []
        self.channel_open_at: Optional[float] = None
        # With frame_probe: (RTP timestamp, frame_probe(frame)) of each decoded video frame.
        # aiortc's frame.pts is the RTP timestamp less the first one it received (its
        # receiver's TimestampMapper): the origin is added back (see rtp_timestamp_of).
        self.frame_probe = frame_probe
        self.frame_stamps: list[tuple[int, object]] = []
        # With audio_probe: (RTP timestamp, audio_probe(frame)) of each decoded Opus frame
        # (aiortc's OpusDecoder sets frame.pts to the packet's rebased RTP timestamp too).
        self.audio_probe = audio_probe
        self.audio_stamps: list[tuple[int, object]] = []
        # With record_sender_reports: every RTCP sender report the server sent, as
        # SenderReport(arrived monotonic, kind, ssrc, 64-bit NTP timestamp, RTP timestamp).
        self.record_sender_reports = record_sender_reports
        self.sender_reports: list[SenderReport] = []
        self.path = f"/whep/{stream_id}{query}"
        self.relay_loss = relay_loss
        self.webrtc_port = webrtc_port
        self.relay: Optional[LossyUdpRelay] = None
        self.video_times: list[float] = []   # time.monotonic() of each decoded video frame
        self.video_sizes: set[tuple[int, int]] = set()
        self.last_gray = None  # the newest decoded picture as a numpy gray image, with keep_picture
        self.keep_picture = False
        self.audio_frames = 0
        self.audio_samples = 0
        self.answer_sdp = ""
        self.location = ""
        self.status = 0
        self.error: Optional[BaseException] = None
        self.connection_state = "new"
        self.posted_at = 0.0
        self._loop = asyncio.new_event_loop()
        self._pc: Optional[RTCPeerConnection] = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="whep-viewer", daemon=True)

    # Test thread -------------------------------------------------------------------------

    def start(self) -> "WhepViewer":
        self._thread.start()
        return self

    def wait_answered(self, timeout: float) -> None:
        if not self._ready.wait(timeout):
            raise AssertionError(f"no WHEP answer within {timeout}s")
        if self.error:
            raise self.error

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        fut = asyncio.run_coroutine_threadsafe(self._close(), self._loop)
        try:
            fut.result(timeout=10)
        except Exception:  # closing must not hide the test's own failure
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def inject_upstream(self, datagrams: list[bytes]) -> None:
        """Sends datagrams to the server from the relay's socket: the address the server
        knows as this viewer's (relay_loss must be set, 0.0 for no loss)."""
        def send():
            for d in datagrams:
                self.relay.upstream.sendto(d, self.relay.server)
        self._loop.call_soon_threadsafe(send)

    def run_on_loop(self, coroutine_fn, timeout: float = 10.0):
        """Runs coroutine_fn(pc) on the viewer's loop and returns its result."""
        fut = asyncio.run_coroutine_threadsafe(coroutine_fn(self._pc), self._loop)
        return fut.result(timeout=timeout)

    def rtp_counts(self) -> dict[str, tuple[int, int]]:
        """kind -> (packets received, packets lost) from aiortc's inbound-rtp stats: lost
        is the span of sequence numbers seen less the packets received."""
        async def collect(pc):
            counts = {}
            for receiver in pc.getReceivers():
                for s in (await receiver.getStats()).values():
                    if s.type == "inbound-rtp":
                        counts[s.kind] = (s.packetsReceived, s.packetsLost)
            return counts
        return self.run_on_loop(collect)

    def ice_ufrag(self) -> str:
        m = re.search(r"a=ice-ufrag:(\S+)", self.answer_sdp)
        return m.group(1) if m else ""

    # Viewer thread -----------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.create_task(self._play())
        self._loop.run_forever()

    def _post(self, offer_sdp: str) -> tuple[int, dict, str]:
        conn = http.client.HTTPConnection(HOST, self.http_port, timeout=10)
        try:
            conn.request("POST", self.path, body=offer_sdp.encode(),
                         headers={"Content-Type": "application/sdp"})
            resp = conn.getresponse()
            body = resp.read().decode("utf-8", "replace")
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
        finally:
            conn.close()

    async def _play(self) -> None:
        try:
            pc = self._pc = RTCPeerConnection()
            pc.addTransceiver("video", direction="recvonly")
            pc.addTransceiver("audio", direction="recvonly")
            if self.record_sender_reports:
                for transceiver in pc.getTransceivers():
                    self._tap_sender_reports(transceiver.receiver, transceiver.kind)

            @pc.on("track")
            def on_track(track):
                asyncio.ensure_future(self._consume(track))

            if self.data_channel:
                channel = pc.createDataChannel(self.data_channel)

                @channel.on("open")
                def on_open():
                    self.channel_open_at = time.monotonic()

                @channel.on("message")
                def on_message(message):
                    if isinstance(message, str):
                        self.channel_messages.append((time.monotonic(), message))

            @pc.on("connectionstatechange")
            def on_state():
                self.connection_state = pc.connectionState

            # aiortc gathers every candidate inside setLocalDescription (no trickle).
            await pc.setLocalDescription(await pc.createOffer())
            self.posted_at = time.monotonic()
            status, headers, body = await asyncio.get_running_loop().run_in_executor(
                None, self._post, pc.localDescription.sdp)
            self.status = status
            if status != 201:
                raise AssertionError(f"WHEP POST {self.path}: {status} {body}")
            self.location = headers.get("location", "")
            self.answer_sdp = body
            answer = body
            if self.relay_loss is not None:
                self.relay = LossyUdpRelay(self.webrtc_port, self.relay_loss)
                relay_port = await self.relay.open()
                answer = re.sub(rf"(a=candidate:\S+ 1 (?:udp|UDP) \d+ \S+ ){self.webrtc_port} ",
                                rf"\g<1>{relay_port} ", answer)
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        except BaseException as exc:  # reported to the test thread
            self.error = exc
        finally:
            self._ready.set()

    async def _consume(self, track) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if track.kind == "video":
                self.video_times.append(time.monotonic())
                self.video_sizes.add((frame.width, frame.height))
                if self.keep_picture:
                    self.last_gray = frame.to_ndarray(format="gray")
                if self.frame_probe:
                    self.frame_stamps.append((self.rtp_timestamp_of(track, frame), self.frame_probe(frame)))
            else:
                self.audio_frames += 1
                self.audio_samples += frame.samples
                if self.audio_probe:
                    self.audio_stamps.append((self.rtp_timestamp_of(track, frame), self.audio_probe(frame)))

    def _tap_sender_reports(self, receiver, kind: str) -> None:
        """aiortc 1.4 parses RTCP SRs and routes each to the RTCRtpReceiver of its SSRC
        (RTCDtlsTransport.route_rtcp → receiver._handle_rtcp_packet), which keeps only
        the LSR for its receiver reports and exposes no public API for the NTP/RTP pair:
        wrap that method on this instance to record them, then let aiortc handle the
        packet as before."""
        original = receiver._handle_rtcp_packet

        async def handle(packet):
            if isinstance(packet, RtcpSrPacket):
                self.sender_reports.append(SenderReport(
                    time.monotonic(), kind, packet.ssrc, packet.sender_info.ntp_timestamp,
                    packet.sender_info.rtp_timestamp))
            await original(packet)

        receiver._handle_rtcp_packet = handle

    def rtp_timestamp_of(self, track, frame) -> int:
        """The RTP timestamp a decoded frame came with. aiortc 1.4 rebases it to its first
        packet's (RTCRtpReceiver.__timestamp_mapper, private): read that origin back."""
        for receiver in self._pc.getReceivers():
            if receiver.track is track:
                mapper = getattr(receiver, "_RTCRtpReceiver__timestamp_mapper", None)
                origin = getattr(mapper, "_origin", None)
                if origin is not None:
                    return (frame.pts + origin) % (1 << 32)
        raise AssertionError("aiortc's RTP timestamp origin is not readable (aiortc changed?)")

    async def _close(self) -> None:
        if self._pc:
            await self._pc.close()
        if self.relay:
            self.relay.close()


def delete_session(http_port: int, location: str) -> int:
    conn = http.client.HTTPConnection(HOST, http_port, timeout=5)
    try:
        conn.request("DELETE", location)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()
