"""Hostile or broken bytes on the RTMP port must cost the server one connection, nothing
more: after each case the process is alive, /healthz answers, memory did not balloon, and
the log says what happened (the peer's address, or "rtmp" with a word like error, closed,
invalid). Finally a real anchor still publishes and a viewer still decodes frames, with an
idle, silent connection held open the whole time.

The malformed cases are built with the tiny RTMP client in harness.py (plain handshake,
fmt-0 chunk headers, AMF0 `connect`), so each is exactly the malformation named.
"""

import random
import re
import socket
import struct

import harness
from harness import E2ETestCase, RtmpClient, chunk_header_fmt0, chunk_message, wait_for

RNG = random.Random(20261124)  # reproducible "random" bytes
TROUBLE_WORDS = re.compile(r"error|clos|invalid|reject|refus|malformed|bad|unsupported|"
                           r"too (large|big|long)|exceed|limit|abort|drop|disconnect|"
                           r"reset|eof|truncat|unexpected|fail|timeout|version", re.I)
MAX_RSS_GROWTH_KIB = 200 * 1024


def random_bytes(n: int) -> bytes:
    return bytes(RNG.getrandbits(8) for _ in range(n))


def case_random_bytes(client: RtmpClient) -> None:
    """4 KiB of noise; its first byte (C0, the version) is not 3. Must be closed."""
    noise = bytearray(random_bytes(4096))
    noise[0] = 0x9B
    client.send(bytes(noise))


def case_handshake_then_garbage(client: RtmpClient) -> None:
    client.handshake()
    client.send(random_bytes(4096))


def case_truncated_chunk(client: RtmpClient) -> None:
    """A connect command cut off in the middle of its first chunk, then EOF."""
    client.handshake()
    message = chunk_message(3, 20, harness.connect_command(client.port))
    client.send(message[:60])


def case_huge_chunk_size(client: RtmpClient) -> None:
    """Set Chunk Size 0x7FFFFFFF (RTMP 5.4.1 allows up to that; a server must not size a
    buffer from it), then a connect command in one chunk."""
    client.handshake()
    client.send(chunk_message(2, 1, struct.pack(">I", 0x7FFFFFFF)))
    client.send(chunk_message(3, 20, harness.connect_command(client.port),
                              chunk_size=0x7FFFFFFF))


def case_16mib_message(client: RtmpClient) -> None:
    """A command message header declaring 0xFFFFFF bytes (the 24-bit maximum, 16 MiB),
    followed by only 64 KiB of it."""
    client.handshake()
    client.send(chunk_message(2, 1, struct.pack(">I", 65536)))  # so 64 KiB is one chunk
    client.send(chunk_header_fmt0(3, 0, 0xFFFFFF, 20, 0) + b"\x02" * 65536)


def case_bad_version(client: RtmpClient) -> None:
    """C0 = 0x2A (RTMP is 3), with a well-formed C1. Must be closed."""
    client.send(b"\x2a" + struct.pack(">II", 0, 0) + random_bytes(1528))


CASES = [case_random_bytes, case_handshake_then_garbage, case_truncated_chunk,
         case_huge_chunk_size, case_16mib_message, case_bad_version]
# An invalid version byte can only mean "not RTMP": the server must hang up. For the other
# cases closing or waiting for more bytes are both fine; the test closes after 3 s.
MUST_CLOSE = {case_random_bytes, case_bad_version}


class BadInputTest(E2ETestCase):
    def test_malformed_rtmp_input_costs_one_connection(self):
        server = self.start_server()
        rss_start = harness.rss_kib(server.child.pid)

        # Held open, silent, for the whole test: must not block anyone else.
        idle = RtmpClient(server.rtmp_port)
        self.addCleanup(idle.close)

        for case in CASES:
            with self.subTest(case=case.__name__):
                mark = server.log_size()
                client = RtmpClient(server.rtmp_port)
                self.addCleanup(client.close)
                peer = f":{client.local_port}"
                try:
                    case(client)
                    closed = client.wait_closed(3.0)
                except ConnectionError:  # the server hung up while we were still sending
                    closed = True
                if case in MUST_CLOSE:
                    self.assertTrue(closed, "server kept a connection with a bad RTMP "
                                    "version open")
                client.close()

                self.assertTrue(server.alive(), f"server died\n{server.log_tail()}")
                self.assertEqual(server.get("/healthz").status, 200)
                server.wait_log_line(
                    mark, lambda line: re.search(re.escape(peer) + r"\b", line) is not None
                    or ("rtmp" in line.lower() and TROUBLE_WORDS.search(line) is not None),
                    5, f"a log line about the {case.__name__} connection (peer {peer})")
                rss = harness.rss_kib(server.child.pid)
                self.assertLess(rss - rss_start, MAX_RSS_GROWTH_KIB,
                                f"RSS grew {(rss - rss_start) // 1024} MiB")

        # The silent connection did not wedge the server, and a real anchor still works.
        self.assertTrue(server.alive())
        out = self.tmp / "after.flv"
        publisher = self.publish(server, harness.key_of("demo"), seconds=6, gop=30)
        server.wait_live("demo")
        reader = self.flv_reader(server, "/flv/demo.flv", save_to=out)
        self.assertEqual(publisher.wait(timeout=30), 0, publisher.log_tail())
        wait_for(lambda: len(reader.frames()) >= 150, 10, "the viewer to get the broadcast")
        reader.close()
        info = harness.probe(out)
        self.assertGreaterEqual(info.video_frames, 150, info)
        self.assertEqual((info.width, info.height), (1280, 720))
        self.assertEqual(server.get("/healthz").status, 200)

    def test_slow_flv_viewer_gets_a_well_formed_stream(self):
        """A viewer that reads in small pieces with pauses (a congested phone) keeps the
        server's socket full, so its writes complete in parts and late. What it gets must
        still be the whole broadcast as well-formed FLV: every tag followed by its own size
        (the reader checks each one), timestamps in order, and should the server ever skip
        it ahead (its hub queue full), the skip lands on a keyframe."""
        server = self.start_server()
        publisher = self.publish(server, harness.key_of("demo"), seconds=10, gop=30)
        server.wait_live("demo")
        reference = self.flv_reader(server, "/flv/demo.flv")
        slow = self.flv_reader(server, "/flv/demo.flv", read_pause_s=0.01)

        self.assertEqual(publisher.wait(timeout=30), 0, publisher.log_tail())
        wait_for(lambda: len(reference.frames()) >= 285, 5, "the reference viewer to get the "
                 "broadcast (285 of 300 frames)")
        last_ms = reference.frames()[-1].timestamp_ms
        wait_for(lambda: slow.frames() and slow.frames()[-1].timestamp_ms >= last_ms, 30,
                 "the slow viewer to get to the broadcast's last frame")
        self.assertIsNone(slow.error, "the slow viewer's FLV stream")
        self.assertIsNone(reference.error, "the reference viewer's FLV stream")
        frames = slow.frames()
        stamps = [f.timestamp_ms for f in frames]
        self.assertEqual(stamps, sorted(stamps), "the slow viewer's frames out of order")
        skips = [(a, b) for a, b in zip(frames, frames[1:]) if b.timestamp_ms - a.timestamp_ms > 100]
        harness.report(f"slow FLV viewer: {len(frames)} of {len(reference.frames())} frames, "
                       f"{slow.body_bytes} bytes, {len(skips)} skips, every tag well-formed")
        for before, after in skips:
            self.assertTrue(after.keyframe, f"a skip from {before.timestamp_ms} ms resumed at "
                            f"{after.timestamp_ms} ms on a frame that is not a keyframe")
        if not skips:
            self.assertGreaterEqual(len(frames), 285, "frames lost without a skip")

    def test_stalled_viewer_does_not_stall_the_stream(self):
        """A viewer that stops reading (a phone in a tunnel) must cost only itself: the
        anchor and the other viewers go on at full pace. Its tiny receive buffer makes the
        server's writes to it back up within a second."""
        server = self.start_server()
        publisher = self.publish(server, harness.key_of("demo"), seconds=10, gop=30)
        server.wait_live("demo")
        stalled = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(stalled.close)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect((harness.HOST, server.http_port))
        stalled.sendall(f"GET /flv/demo.flv HTTP/1.1\r\nHost: {harness.HOST}\r\n\r\n".encode())
        reader = self.flv_reader(server, "/flv/demo.flv")

        self.assertEqual(publisher.wait(timeout=30), 0, publisher.log_tail())
        wait_for(lambda: len(reader.frames()) >= 285, 5, "the reading viewer to get the "
                 "broadcast (285 of 300 frames)")
        arrivals = [t.arrival_s for t in reader.frames()]
        worst = max(b - a for a, b in zip(arrivals, arrivals[1:]))
        harness.report(f"reading viewer beside a stalled one: {len(arrivals)} frames, "
                       f"largest gap {worst:.2f}s")
        self.assertLess(worst, 1.0, "the reading viewer stalled")
        self.assertTrue(server.alive())
        self.assertEqual(server.get("/healthz").status, 200)


if __name__ == "__main__":
    harness.main()
