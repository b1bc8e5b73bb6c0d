"""The operator API while an anchor publishes: /api/v1/streams describes the ingest and
counts viewers; /metrics is Prometheus text with the stream, viewer, byte and reject
counters an operator alerts on (contract: "Operator API")."""

import re
import time

import harness
from harness import E2ETestCase, wait_for

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Samples of the Prometheus text format (0.0.4); raises on a malformed line."""
    samples = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = SAMPLE.match(line.strip())
        if not match:
            raise AssertionError(f"not a Prometheus sample line: {line!r}")
        labels = dict(LABEL.findall(match.group(3) or ""))
        samples.append((match.group(1), labels, float(match.group(4))))
    return samples


def values(samples, name: str) -> list[float]:
    return [v for n, _, v in samples if n == name]


def viewer_samples(samples, protocol: str):
    return [(n, l, v) for n, l, v in samples if "viewers" in n and
            (l.get("protocol") == protocol or protocol in n)]


def total_viewers(entry: dict) -> float:
    return sum(v for v in entry.get("viewers", {}).values() if isinstance(v, (int, float)))


class OperatorApiTest(E2ETestCase):
    def metrics(self, server):
        resp = server.get("/metrics")
        self.assertEqual(resp.status, 200)
        self.assertTrue(resp.headers.get("content-type", "").startswith("text/plain"),
                        f"/metrics Content-Type {resp.headers.get('content-type')!r}")
        return parse_metrics(resp.body.decode("utf-8"))

    def test_streams_list_every_configured_stream(self):
        server = self.start_server()
        resp = server.get("/api/v1/streams")
        self.assertEqual(resp.status, 200)
        self.assertIn("json", resp.headers.get("content-type", ""))
        entries = resp.json()
        self.assertIsInstance(entries, list)
        self.assertEqual(sorted(e["id"] for e in entries),
                         sorted(s["id"] for s in harness.STREAMS))
        for entry in entries:
            self.assertIs(entry["live"], False, entry)
            for protocol in ("webrtc", "hls"):
                self.assertIsInstance(entry["viewers"][protocol], (int, float), entry)
            self.assertIsInstance(entry["overlays"], (int, float), entry)
            self.assertNotIn("publish_key", entry)
        text = resp.body.decode()
        for secret in harness.secrets():
            self.assertNotIn(secret, text, "a secret is shown by /api/v1/streams")

    def test_live_stream_ingest_viewers_and_metrics(self):
        server = self.start_server()
        publisher = self.publish(server, harness.key_of("demo"), seconds=40, gop=30)
        server.wait_live("demo")

        # Codec details arrive with the first frames, the measured fps after a while.
        def described():
            entry = server.stream("demo")
            video = (entry.get("ingest") or {}).get("video") or {}  # null until frames come
            fps = video.get("fps")
            return (video.get("width") == 1280 and isinstance(fps, (int, float))
                    and abs(fps - 30) <= 1.5 and entry)
        try:
            entry = wait_for(described, 10, "ingest video 1280x720 at ~30 fps", interval=0.2)
        except AssertionError:
            entry = server.stream("demo")
            self.fail(f"/api/v1/streams entry for the live stream: {entry}")
        self.assertIs(entry["live"], True)
        self.assertEqual(entry["ingest"]["protocol"], "rtmp")
        video, audio = entry["ingest"]["video"], entry["ingest"]["audio"]
        self.assertEqual(video["codec"], "h264")
        self.assertEqual((video["width"], video["height"]), (1280, 720))
        self.assertAlmostEqual(video["fps"], 30, delta=1.5)
        self.assertEqual(audio["codec"], "aac")
        for protocol in ("webrtc", "hls"):
            self.assertIsInstance(entry["viewers"][protocol], (int, float), entry)
        self.assertTrue(all(not s["live"] for s in server.streams() if s["id"] != "demo"))

        samples = self.metrics(server)
        self.assertGreaterEqual(sum(values(samples, "anchorcast_streams_live")), 1)
        for protocol in ("webrtc", "hls", "flv"):
            self.assertTrue(viewer_samples(samples, protocol),
                            f"no viewers metric for protocol {protocol}")
        ingest_1 = sum(values(samples, "anchorcast_ingest_bytes_total"))
        self.assertGreater(ingest_1, 0, "anchorcast_ingest_bytes_total")
        egress_1 = sum(values(samples, "anchorcast_egress_bytes_total"))

        # A viewer joins: the counts go up; it leaves: they go back down.
        viewers_before = total_viewers(entry)
        reader = self.flv_reader(server, "/flv/demo.flv")
        wait_for(lambda: total_viewers(server.stream("demo")) >= viewers_before + 1, 5,
                 "/api/v1/streams viewers to count the HTTP-FLV viewer")
        wait_for(lambda: len(reader.frames()) >= 30, 10, "frames at the viewer")
        samples = self.metrics(server)
        flv_viewers = sum(v for _, _, v in viewer_samples(samples, "flv"))
        self.assertGreaterEqual(flv_viewers, 1, "the flv viewers metric misses the viewer")
        self.assertGreater(sum(values(samples, "anchorcast_ingest_bytes_total")), ingest_1)
        self.assertGreater(sum(values(samples, "anchorcast_egress_bytes_total")), egress_1)
        reader.close()
        wait_for(lambda: total_viewers(server.stream("demo")) <= viewers_before, 5,
                 "/api/v1/streams viewers to drop the departed viewer")
        self.assertTrue(publisher.running())

        # The anchor leaves: the operator sees it.
        publisher.stop()
        server.wait_live("demo", live=False, timeout=5)
        wait_for(lambda: sum(values(self.metrics(server), "anchorcast_streams_live")) == 0, 5,
                 "anchorcast_streams_live back to 0")

    def test_flv_viewers_are_served_on_every_data_plane_loop(self):
        # The HTTP thread parses the request, then the socket goes to a data-plane loop
        # (round robin): with two loops, four viewers land on both, and each plays.
        server = self.start_server(extra={"data_plane": {"threads": 2}})
        publisher = self.publish(server, harness.key_of("demo"), seconds=40, gop=30)
        server.wait_live("demo")
        readers = [self.flv_reader(server, "/flv/demo.flv") for _ in range(4)]
        for reader in readers:
            wait_for(lambda: len(reader.frames()) >= 30, 10, "frames at every HTTP-FLV viewer")

        def per_loop():
            samples = self.metrics(server)
            return {l["loop"]: v for n, l, v in samples if n == "anchorcast_data_plane_connections"}
        def spread_over_both():
            # Four viewers plus the publisher's RTMP connection: at least two on each loop.
            p = per_loop()
            return p if len(p) == 2 and sum(p.values()) == 5 and min(p.values()) >= 2 else None
        spread = wait_for(spread_over_both, 5, "anchorcast_data_plane_connections to show 5 over 2 loops")
        self.assertEqual(set(spread), {"0", "1"}, spread)
        for reader in readers:
            reader.close()
        wait_for(lambda: sum(per_loop().values()) == 1, 5, "the loops to let the viewers go")
        self.assertTrue(publisher.running())

    def test_write_batching_sends_each_viewer_its_packets_together(self):
        # data_plane.write_batch_ms 400: a loop writes its viewers' new packets at most
        # every 400 ms, so an HTTP-FLV viewer gets its tags in a few bursts a second (as
        # they come, ~70 a second: 30 video frames, ~43 AAC frames), all of them, in order.
        server = self.start_server(extra={"data_plane": {"threads": 1, "write_batch_ms": 400}})
        server.wait_log_line(0, lambda l: "viewer writes batched every 400 ms" in l, 5,
                             "the ready line naming the write batching")
        publisher = self.publish(server, harness.key_of("demo"), seconds=40, gop=30)
        server.wait_live("demo")
        reader = self.flv_reader(server, "/flv/demo.flv")
        wait_for(lambda: len(reader.frames()) >= 150, 15, "5 s of frames at the HTTP-FLV viewer")
        tags = [t for t in reader.snapshot() if t.kind in (harness.FLV_AUDIO, harness.FLV_VIDEO)]
        frames = reader.frames()
        # Past the join (the GOP cache goes out at once), at 30 fps: ~3 s of frames.
        later = [t for t in tags if t.timestamp_ms >= frames[-90].timestamp_ms]
        span = later[-1].arrival_s - later[0].arrival_s
        bursts = 1 + sum(1 for a, b in zip(later, later[1:]) if b.arrival_s - a.arrival_s > 0.1)
        harness.report(f"write batching: {len(later)} tags in {bursts} bursts over {span:.1f} s")
        # One write every 0.4 s is ~7 bursts over 3 s with a quiet 0.4 s between them;
        # a reader that stalls mid-burst splits one, so allow some. Written as they come,
        # the tags are 10-33 ms apart: one "burst" with no quiet gap at all.
        self.assertGreaterEqual(bursts, span / 0.4 / 2, "no quiet gaps: tags arrive as they come")
        self.assertLessEqual(bursts, span / 0.4 + 6, "more writes than one per 0.4 s")
        for kind in (harness.FLV_AUDIO, harness.FLV_VIDEO):
            stamps = [t.timestamp_ms for t in tags if t.kind == kind]
            self.assertEqual(stamps, sorted(stamps), f"FLV tags of type {kind} out of order")
        steps = [b.timestamp_ms - a.timestamp_ms for a, b in zip(frames, frames[1:])]
        self.assertLessEqual(max(steps), 40, "a video frame is missing (30 fps: 33 ms apart)")
        self.assertTrue(publisher.running())

    def test_an_idle_webrtc_thread_wakes_only_for_its_tick(self):
        """No publisher, no viewer: the WebRTC UDP thread sleeps until a datagram, a wake or
        its 50 ms tick (20 wakes a second), never polls with a zero timeout (issue 13)."""
        server = self.start_server()

        def wakes():
            return sum(values(self.metrics(server), "anchorcast_webrtc_loop_wakes_total"))

        first, started = wakes(), time.monotonic()
        time.sleep(2)  # a window to count wakes in, not a wait for something to happen
        last, elapsed = wakes(), time.monotonic() - started
        self.assertGreater(last, first, "the UDP thread never woke: is the counter wired?")
        rate = (last - first) / elapsed
        self.assertLessEqual(rate, 30, f"{rate:.0f} wakes a second with nothing to do (tick: 20 a second)")

    def test_publish_rejects_are_counted_by_reason(self):
        server = self.start_server()
        attempt = self.publish(server, "not-a-key-Hh7Jj8", seconds=3, name="publisher-wrong")
        self.assertNotEqual(attempt.wait(timeout=20), 0, attempt.log_tail())
        rejects = wait_for(
            lambda: [(l, v) for n, l, v in self.metrics(server)
                     if n == "anchorcast_publish_rejects_total" and "reason" in l and v >= 1],
            5, "anchorcast_publish_rejects_total{reason=...} >= 1")
        self.assertTrue(rejects)
        metrics_text = server.get("/metrics").body.decode()
        self.assertNotIn("not-a-key-Hh7Jj8", metrics_text)


if __name__ == "__main__":
    harness.main()
