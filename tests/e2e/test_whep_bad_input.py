"""Bad datagrams at the WebRTC UDP port while a good WHEP session plays: random bytes of
every RFC 7983 class, truncated STUN, DTLS and SRTCP, and STUN checks naming the good
session's ufrag but signed with a wrong password. Sent from a stranger's socket and also
from the good viewer's own address (through a loss-free relay, so the server sees them
on the session's 5-tuple). The server stays up, the good viewer keeps decoding, and
/metrics counts the drops by reason."""

import hashlib
import hmac
import os
import random
import socket
import struct
import time
import zlib

import harness
from harness import E2ETestCase, report, wait_for
from test_whep_aiortc import FPS, anchor_cmd, metric
from whep_viewer import WhepViewer

MAGIC = 0x2112A442


def stun_binding_request(username: str, password: str) -> bytes:
    """RFC 8489 Binding request with USERNAME, MESSAGE-INTEGRITY and FINGERPRINT."""
    txid = os.urandom(12)
    user = username.encode()
    attrs = struct.pack("!HH", 0x0006, len(user)) + user + b"\x00" * (-len(user) % 4)
    length_with_mi = len(attrs) + 24
    header = struct.pack("!HHI", 0x0001, length_with_mi, MAGIC) + txid
    mac = hmac.new(password.encode(), header + attrs, hashlib.sha1).digest()
    attrs += struct.pack("!HH", 0x0008, 20) + mac
    header = struct.pack("!HHI", 0x0001, len(attrs) + 8, MAGIC) + txid
    crc = (zlib.crc32(header + attrs) ^ 0x5354554E) & 0xFFFFFFFF
    return header + attrs + struct.pack("!HHI", 0x8028, 4, crc)


def drops(text: str) -> dict[str, float]:
    out = {}
    for reason in ("stun_malformed", "stun_unknown_username", "stun_bad_integrity", "dtls_unknown_peer",
                   "rtp_unknown_peer", "rtcp_invalid", "dtls_invalid", "unknown_protocol", "rtp_from_viewer"):
        out[reason] = metric(text, "anchorcast_webrtc_dropped_datagrams_total", reason=reason)
    return out


class WhepBadInputTest(E2ETestCase):
    def test_bad_datagrams_are_dropped_and_counted(self):
        server = self.start_server()
        self.spawn(anchor_cmd(server.rtmp_publish_url(harness.key_of("demo")), 45), "anchor")
        server.wait_live("demo")
        viewer = WhepViewer(server.http_port, "demo", relay_loss=0.0, webrtc_port=server.ports["webrtc"])
        self.addCleanup(viewer.close)
        viewer.start()
        viewer.wait_answered(15)
        wait_for(lambda: len(viewer.video_times) > FPS, 15, "a second of decoded video")
        ufrag = viewer.ice_ufrag()
        self.assertTrue(ufrag)

        rng = random.Random(7)
        good_check = stun_binding_request(f"{ufrag}:x", "wrong-password-0123456789")
        stranger_junk = [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 1400))) for _ in range(300)]
        for first in (0, 1, 22, 23, 128, 129, 200, 255):  # every class, random tails
            stranger_junk += [bytes([first]) + bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 100)))
                              for _ in range(10)]
        stranger_junk += [good_check[:n] for n in (1, 19, 20, 27, len(good_check) - 1)]
        stranger_junk += [good_check] * 20  # wrong password, right ufrag
        stranger_junk += [stun_binding_request("nosuchufrag:x", "whatever-password-12345")] * 5

        # From the viewer's own 5-tuple: truncated DTLS records, junk SRTCP, junk RTCP
        # headers, truncated STUN, wrong-password checks.
        own_junk = [bytes([22, 0xFE, 0xFD]), bytes([23, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 5, 0, 40]) + b"x" * 5,
                    bytes([21]) * 30, bytes([0x80, 200]), bytes([0x81, 205, 0, 3]) + os.urandom(40),
                    bytes([0x80, 201, 0, 1]) + os.urandom(4), good_check[:30], good_check,
                    bytes([0x80, 96]) + os.urandom(100)]
        own_junk = own_junk * 10

        before = drops(server.get("/metrics").body.decode())
        frames_before = len(viewer.video_times)
        attack_start = time.monotonic()
        stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(stranger.close)
        for d in stranger_junk:
            stranger.sendto(d, (harness.HOST, server.ports["webrtc"]))
        viewer.inject_upstream(own_junk)

        # The good viewer keeps decoding for 5 s after the attack.
        wait_for(lambda: time.monotonic() >= attack_start + 5, 10, "5 s of playback after the attack")
        after_attack = [t for t in viewer.video_times[frames_before:] if t >= attack_start]
        after = drops(server.get("/metrics").body.decode())
        delta = {k: after[k] - before[k] for k in after}
        report(f"{len(stranger_junk)} stranger datagrams + {len(own_junk)} on the session's 5-tuple; "
               f"drops by reason: {delta}; {len(after_attack)} frames decoded in the 5 s after")
        self.assertTrue(server.alive())
        self.assertGreaterEqual(len(after_attack), 0.9 * FPS * 5)
        self.assertEqual(viewer.connection_state, "connected")
        self.assertGreaterEqual(delta["stun_bad_integrity"], 30)
        self.assertGreaterEqual(delta["stun_malformed"], 5)
        self.assertGreaterEqual(delta["stun_unknown_username"], 5)
        self.assertGreater(delta["dtls_unknown_peer"], 0)
        self.assertGreater(delta["rtp_unknown_peer"], 0)
        self.assertGreater(delta["unknown_protocol"], 0)
        self.assertGreaterEqual(delta["rtcp_invalid"], 20)
        self.assertGreaterEqual(delta["dtls_invalid"], 10)
        self.assertGreaterEqual(delta["rtp_from_viewer"], 10)
        self.assertEqual(server.stream("demo")["viewers"]["webrtc"], 1)


if __name__ == "__main__":
    harness.main()
