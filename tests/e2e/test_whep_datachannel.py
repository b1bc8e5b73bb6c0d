"""The WebRTC `overlay` data channel (issue 7): SCTP over the WHEP session's DTLS, DCEP,
JSON cues stamped with the RTP timestamp they apply at.

ffmpeg anchors push RTMP to the burn-in stream ("shop2", still SMPTE bars, so any change
in the picture is the overlay's) and to the metadata stream ("demo"). aiortc WHEP clients
open a data channel "overlay" before their offer (aiortc 1.4 offers the draft
`DTLS/SCTP 5000` form of the application m-line). The checks:
- the answer accepts the application m-line in the BUNDLE; the channel opens and its
  first message is a snapshot;
- a merchant shows a card: a cue listing it arrives, and its rtp_timestamp is within one
  frame (3000 ticks at 90 kHz) of the RTP timestamp of the first decoded frame whose
  card region changed (burn-in); the card.hide cue is as many ticks later as the two
  `applied` pts_ms are apart (the pts → RTP mapping of the video);
- a viewer who joins while the card is up gets it in its snapshot;
- on the metadata stream a cue arrives with an rtp_timestamp among the live frames';
- garbage SCTP inside DTLS and malformed DCEP are counted in /metrics, and the channel
  keeps working;
- headless Chromium (RFC 8841 SDP, its own SCTP stack) gets the snapshot and a cue.
"""

import asyncio
import json
import re
import time

import numpy as np

import harness
from harness import E2ETestCase, report, wait_for
from merchant import DEMO_TOKEN, SHOP2_TOKEN, Merchant, card
from whep_page import PageServer
from whep_viewer import WhepViewer

FRAME_TICKS = 3000  # one frame at 30 fps in 90 kHz

# Headless Chromium (its own SCTP, dcsctp, in the RFC 8841 SDP form) opens "overlay" and
# reports every message it receives to the test (see test_whep_chromium.py).
CHROMIUM_PAGE = """<!doctype html>
<html><body><video id="v" autoplay muted playsinline></video><script>
const report = (what, data) => fetch("/report", {method: "POST",
  body: JSON.stringify(Object.assign({what}, data))});
window.onerror = (msg) => report("error", {message: String(msg)});
(async () => {
  try {
    const pc = new RTCPeerConnection();
    pc.addTransceiver("video", {direction: "recvonly"});
    pc.addTransceiver("audio", {direction: "recvonly"});
    const channel = pc.createDataChannel("overlay");
    channel.onopen = () => report("open", {});
    channel.onmessage = (e) => report("message", {data: e.data});
    pc.ontrack = (e) => { document.getElementById("v").srcObject = e.streams[0] || new MediaStream([e.track]); };
    await pc.setLocalDescription(await pc.createOffer());
    report("offer", {sdp: pc.localDescription.sdp});
    const resp = await fetch("%(whep)s", {method: "POST", headers: {"Content-Type": "application/sdp"},
                                          body: pc.localDescription.sdp});
    const answer = await resp.text();
    report("answer", {status: resp.status, sdp: answer});
    if (resp.status === 201) await pc.setRemoteDescription({type: "answer", sdp: answer});
  } catch (e) {
    report("error", {message: String(e)});
  }
})();
</script></body></html>
"""
U32 = 1 << 32


def metric(text: str, name: str, **labels) -> float:
    total = 0.0
    for line in text.splitlines():
        m = re.match(r"^([a-z_]+)(\{[^}]*\})?\s+(\S+)$", line)
        if not m or m.group(1) != name:
            continue
        if all(f'{k}="{v}"' in (m.group(2) or "") for k, v in labels.items()):
            total += float(m.group(3))
    return total


def ticks_between(a: int, b: int) -> int:
    """b - a on the 32-bit RTP clock, signed."""
    d = (b - a) % U32
    return d - U32 if d >= U32 // 2 else d


def bottom_left(frame) -> np.ndarray:
    """The bottom-left quadrant (where a bottom-left card goes), every 4th pixel."""
    g = frame.to_ndarray(format="gray")
    h, w = g.shape
    return g[h // 2::4, : w // 2:4].astype(np.int16)


def messages(viewer: WhepViewer, kind: str) -> list[dict]:
    out = []
    for _, text in list(viewer.channel_messages):
        m = json.loads(text)
        if m.get("type") == kind:
            out.append(m)
    return out


def ids(message: dict) -> set[str]:
    return {o.get("id") for o in message.get("overlays", []) if isinstance(o, dict)}


class WhepDataChannelTest(E2ETestCase):
    def setUp(self):
        super().setUp()
        self.server = self.start_server()
        self.publish(self.server, harness.key_of("shop2"), seconds=120, gop=30, picture="smptebars",
                     name="anchor-shop2")
        self.publish(self.server, harness.key_of("demo"), seconds=120, gop=30, name="anchor-demo")
        self.server.wait_live("shop2")
        self.server.wait_live("demo")

    def viewer(self, stream_id: str, **kw) -> WhepViewer:
        # The burn-in rendition goes live a moment after the anchor (the compositor's
        # first frame): "not_live" is retried, anything else fails.
        deadline = time.monotonic() + 15
        while True:
            v = WhepViewer(self.server.http_port, stream_id, webrtc_port=self.server.ports["webrtc"],
                           data_channel="overlay", **kw)
            self.addCleanup(v.close)
            v.start()
            try:
                v.wait_answered(15)
                return v
            except AssertionError as e:
                if v.status != 404 or "not_live" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def wait_message(self, viewer: WhepViewer, kind: str, what: str, predicate=lambda m: True,
                     timeout: float = 10) -> dict:
        found = []

        def arrived():
            found[:] = [m for m in messages(viewer, kind) if predicate(m)]
            return found
        wait_for(arrived, timeout, what)
        return found[0]

    def merchant_call(self, stream: str, token: str, command: dict) -> dict:
        async def call():
            m = await Merchant.open(self.server, stream, token)
            ack = await m.call(command)
            self.assertEqual(ack["type"], "ack", ack)
            applied = await m.event("applied", version=ack["version"])
            await m.close()
            return applied
        return asyncio.run(call())

    def drops(self, reason: str) -> float:
        return metric(self.server.get("/metrics").body.decode(), "anchorcast_webrtc_dropped_datagrams_total",
                      reason=reason)

    def test_cues_match_the_frames_that_carry_the_change(self):
        viewer = self.viewer("shop2", frame_probe=bottom_left)
        sdp = viewer.answer_sdp
        self.assertIn("m=application", sdp)
        self.assertNotIn("m=application 0 ", sdp)
        self.assertRegex(sdp, r"a=group:BUNDLE 0 1 2\r\n")

        wait_for(lambda: viewer.channel_open_at, 15, "the overlay data channel to open")
        snapshot = self.wait_message(viewer, "snapshot", "the snapshot on open")
        self.assertEqual(snapshot.get("overlays"), [], snapshot)
        report(f"channel open {1000 * (viewer.channel_open_at - viewer.posted_at):.0f} ms after the POST; "
               f"snapshot {snapshot}")
        wait_for(lambda: len(viewer.frame_stamps) >= 60, 15, "two seconds of decoded video")

        shown = self.merchant_call("shop2", SHOP2_TOKEN, card("1", "c1", position="bottom-left"))
        cue = self.wait_message(viewer, "cue", "a cue listing card c1", lambda m: "c1" in ids(m))
        self.assertEqual(cue["version"], shown["version"])
        self.assertEqual(cue["pts_ms"], shown["pts_ms"])
        T = cue["rtp_timestamp"]
        self.assertIsInstance(T, int)
        wait_for(lambda: any(ticks_between(T, ts) > 45000 for ts, _ in list(viewer.frame_stamps)), 10,
                 "half a second of video past the cue")

        # The first decoded frame whose card region differs from the frame half a second
        # before the cue.
        stamps = list(viewer.frame_stamps)
        before = [(ts, r) for ts, r in stamps if ticks_between(ts, T) >= 45000]
        self.assertTrue(before, "no frame half a second before the cue was decoded")
        reference = before[-1][1]
        changes = [(ts, float(np.abs(r - reference).mean())) for ts, r in stamps
                   if ticks_between(before[-1][0], ts) > 0]
        noise = max(d for ts, d in changes if ticks_between(ts, T) > 2 * FRAME_TICKS)
        threshold = max(1.0, 3 * noise)
        carrying = next(((ts, d) for ts, d in changes if d > threshold), None)
        self.assertIsNotNone(carrying, f"no decoded frame shows the card (noise {noise:.2f})")
        F, change = carrying
        report(f"cue v{cue['version']} pts_ms {cue['pts_ms']} rtp_timestamp {T}; first frame with the card: "
               f"RTP {F} (mean change {change:.1f}, noise {noise:.2f}), {ticks_between(F, T)} ticks apart")
        self.assertLessEqual(abs(ticks_between(F, T)), FRAME_TICKS,
                             "the cue's rtp_timestamp is not the frame that carries the card")

        # A viewer joining now gets the card in its snapshot.
        late = self.viewer("shop2")
        late_snapshot = self.wait_message(late, "snapshot", "the late viewer's snapshot", timeout=15)
        self.assertIn("c1", ids(late_snapshot))
        self.assertEqual(late_snapshot["rtp_timestamp"], T)

        # card.hide: the pts → RTP mapping is the video's (90 ticks per ms).
        hidden = self.merchant_call("shop2", SHOP2_TOKEN, {"type": "card.hide", "req": "2", "id": "c1"})
        hide_cue = self.wait_message(viewer, "cue", "the card.hide cue", lambda m: m["version"] == hidden["version"])
        self.assertNotIn("c1", ids(hide_cue))
        self.assertEqual(ticks_between(T, hide_cue["rtp_timestamp"]), (hidden["pts_ms"] - shown["pts_ms"]) * 90)

    def test_metadata_stream_cue_is_stamped_among_the_live_frames(self):
        viewer = self.viewer("demo", frame_probe=lambda frame: None)
        wait_for(lambda: viewer.channel_open_at, 15, "the overlay data channel to open")
        self.wait_message(viewer, "snapshot", "the snapshot on open")
        wait_for(lambda: len(viewer.frame_stamps) >= 30, 15, "a second of decoded video")
        shown = self.merchant_call("demo", DEMO_TOKEN, card("1", "m1", url="https://shop.example/p/1"))
        cue = self.wait_message(viewer, "cue", "a cue listing card m1", lambda m: "m1" in ids(m))
        self.assertEqual(cue["version"], shown["version"])
        self.assertEqual([o.get("url") for o in cue["overlays"] if o.get("id") == "m1"],
                         ["https://shop.example/p/1"])
        T = cue["rtp_timestamp"]
        wait_for(lambda: any(ticks_between(T, ts) > 0 for ts, _ in list(viewer.frame_stamps)), 10,
                 "a frame past the cue")
        nearest = min(abs(ticks_between(T, ts)) for ts, _ in list(viewer.frame_stamps))
        report(f"metadata cue rtp_timestamp {T}: nearest decoded frame {nearest} ticks away")
        self.assertLessEqual(nearest, FRAME_TICKS)

    def test_garbage_sctp_and_dcep_are_counted_and_the_channel_survives(self):
        viewer = self.viewer("shop2")
        wait_for(lambda: viewer.channel_open_at, 15, "the overlay data channel to open")
        self.wait_message(viewer, "snapshot", "the snapshot on open")
        sctp_before, dcep_before = self.drops("sctp_invalid"), self.drops("dcep_invalid")

        async def inject(pc):
            dtls = pc.sctp.transport
            await dtls._send_data(b"\x00" * 40)                    # bad CRC32c
            await dtls._send_data(b"\x13\x88\x13\x88" + b"\xff" * 3)  # shorter than a header
            await pc.sctp._send(100, 50, b"\x03\x00\x00")          # truncated DATA_CHANNEL_OPEN
            await pc.sctp._send(102, 50, b"\x09")                  # unknown DCEP message type
            bad_label = b"\x03\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00overlay"
            await pc.sctp._send(104, 50, bad_label)                # label length past the end
        viewer.run_on_loop(inject)

        wait_for(lambda: self.drops("sctp_invalid") >= sctp_before + 2, 10, "garbage SCTP counted")
        wait_for(lambda: self.drops("dcep_invalid") >= dcep_before + 3, 10, "malformed DCEP counted")
        report(f"sctp_invalid +{self.drops('sctp_invalid') - sctp_before:.0f}, "
               f"dcep_invalid +{self.drops('dcep_invalid') - dcep_before:.0f}")
        self.assertTrue(self.server.alive())

        shown = self.merchant_call("shop2", SHOP2_TOKEN, card("1", "c9"))
        cue = self.wait_message(viewer, "cue", "a cue after the garbage", lambda m: "c9" in ids(m))
        self.assertEqual(cue["version"], shown["version"])
        self.assertEqual(viewer.connection_state, "connected")

    def test_chromium_receives_the_snapshot_and_cues(self):
        page = PageServer(CHROMIUM_PAGE % {"whep": self.server.url("/whep/demo")})
        self.addCleanup(page.close)
        self.open_chromium(f"http://{harness.HOST}:{page.port}/")

        def page_messages(kind: str) -> list[dict]:
            if page.find("error"):
                raise AssertionError(f"page error: {page.find('error')}; reports {page.reports}")
            return [m for m in (json.loads(r["data"]) for r in list(page.reports) if r.get("what") == "message")
                    if m.get("type") == kind]

        wait_for(lambda: page_messages("snapshot"), 30, "Chromium's snapshot on the overlay channel")
        offer = page.find("offer")["sdp"]
        self.assertIn("UDP/DTLS/SCTP webrtc-datachannel", offer)
        self.assertIn("a=sctp-port:5000", page.find("answer")["sdp"])
        shown = self.merchant_call("demo", DEMO_TOKEN, card("1", "k1"))
        cues = wait_for(lambda: [m for m in page_messages("cue") if "k1" in ids(m)], 10,
                        "Chromium to receive the card's cue")
        self.assertEqual(cues[0]["version"], shown["version"])
        self.assertIsInstance(cues[0]["rtp_timestamp"], int)
        report(f"chromium: snapshot then cue v{cues[0]['version']} rtp_timestamp {cues[0]['rtp_timestamp']}")


if __name__ == "__main__":
    harness.main()
