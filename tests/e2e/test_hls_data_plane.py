"""HLS players are served on the data-plane loops: the HTTP thread reads a connection's
first /hls/ request and hands the socket to a loop, which answers that player's next
requests itself and hands the socket back for anything else. Seen from outside, a
browser-like keep-alive connection that mixes HLS with the API must get every answer, in
order, on the same TCP connection; and the connection gauge must show each HLS connection
on a loop exactly while it is there."""

import http.client
import re
import socket
from urllib.parse import urlsplit

import harness
from harness import E2ETestCase, parse_playlist, wait_for

GAUGE = re.compile(r'^anchorcast_data_plane_connections\{loop="(\d+)"\} (\S+)$', re.M)


def loop_connections(server) -> list[int]:
    text = server.get("/metrics").body.decode()
    return [int(float(v)) for _, v in sorted(GAUGE.findall(text))]


def segment_path(playlist: str) -> str:
    uri = parse_playlist(playlist)[1][-1][1]
    return urlsplit(uri).path if uri.startswith("/") else f"/hls/demo/{uri}"


class KeepAliveConnection:
    """One http.client connection that must never be reopened."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection(harness.HOST, port, timeout=5)
        self.conn.connect()
        self.local = self.conn.sock.getsockname()

    def request(self, method: str, path: str) -> tuple[int, dict, bytes]:
        self.conn.request(method, path)
        resp = self.conn.getresponse()
        body = resp.read()
        assert self.conn.sock is not None and self.conn.sock.getsockname() == self.local, \
            f"{method} {path}: the server closed the keep-alive connection"
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body

    def close(self):
        self.conn.close()


class HlsDataPlaneTest(E2ETestCase):
    def test_keep_alive_players_are_served_on_the_loops_and_handed_back(self):
        server = self.start_server(extra={"data_plane": {"threads": 2}})
        self.publish(server, harness.key_of("demo"), seconds=30, gop=30)
        first = harness.wait_playlist_with_segment(server, "demo")
        segment = segment_path(first.body.decode())
        # The publisher's RTMP connection is on one of the two loops.
        wait_for(lambda: sum(loop_connections(server)) == 1, 10, "the publisher on a loop")

        a = KeepAliveConnection(server.http_port)
        b = KeepAliveConnection(server.http_port)
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        for player in (a, b):
            status, headers, body = player.request("GET", "/hls/demo/index.m3u8")
            self.assertEqual(status, 200)
            self.assertTrue(body.startswith(b"#EXTM3U"), body[:40])
            status, headers, body = player.request("GET", segment)
            self.assertEqual(status, 200, f"GET {segment}")
            self.assertEqual(headers["content-type"], "video/mp2t")
            self.assertEqual(int(headers["content-length"]), len(body))
            self.assertTrue(len(body) % 188 == 0 and body[0] == 0x47, "segment is not MPEG-TS")
        # Dealt round robin: one player per loop, beside the publisher.
        wait_for(lambda: sum(loop_connections(server)) == 3, 10, "both players on the loops")
        self.assertTrue(all(n >= 1 for n in loop_connections(server)), loop_connections(server))

        # Player a asks for the API: its connection goes back to the HTTP thread...
        status, _, body = a.request("GET", "/healthz")
        self.assertEqual((status, body), (200, b"ok\n"))
        status, _, body = a.request("GET", "/api/v1/streams")
        self.assertEqual(status, 200)
        self.assertIn(b'"demo"', body)
        wait_for(lambda: sum(loop_connections(server)) == 2, 10, "player a off the loops")
        # ...and to a loop again with its next HLS request.
        status, headers, body = a.request("HEAD", segment)
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")
        self.assertGreater(int(headers["content-length"]), 0)
        status, _, _ = a.request("GET", "/hls/demo/nope.ts")
        self.assertEqual(status, 404)
        wait_for(lambda: sum(loop_connections(server)) == 3, 10, "player a on a loop again")

        # Pipelined: three requests in one write, three answers in order.
        with socket.create_connection((harness.HOST, server.http_port), timeout=5) as s:
            s.sendall((f"GET /hls/demo/index.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n"
                       f"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                       f"GET {segment} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", data)
        self.assertEqual(statuses[:3], [b"200", b"200", b"200"], data[:300])
        self.assertLess(data.index(b"#EXTM3U"), data.index(b"ok\n"))
        self.assertLess(data.index(b"ok\n"), data.index(b"video/mp2t"))

        # Closing the players frees their loop connections.
        a.close()
        b.close()
        wait_for(lambda: sum(loop_connections(server)) == 1, 10, "players gone from the loops")
        server.stop_and_check()


if __name__ == "__main__":
    harness.main()
