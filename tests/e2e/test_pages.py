"""The viewer page (/watch/{id}) and the merchant console (/console/{id}) in headless
Chromium, driven by Playwright (tests/browser/pages.mjs on playwright-core from the build's
npm install). This script starts the server and two anchors — "shop2" (burn-in) sends a
flat blue picture so a card drawn into it is measurable pixel by pixel, "demo" (metadata)
sends testsrc2 — then runs the browser script and checks its report: WebRTC plays, the
ICE-failure path falls back to HLS, a card shown from the console reaches the video within
500 ms, a tap on it reaches the console's counters, metadata cards are drawn by the page
and their countdowns tick, merchant strings are escaped, phone viewport and Chinese UI.
A second browser script (tests/browser/reconnect.mjs) follows the watch page through an
anchor's absence: offline before the anchor starts, playing, offline when the anchor's
connection drops, playing again by itself when it returns. The events endpoint's caps are
checked over plain HTTP.

Screenshots are kept in a folder outside the test's temp folder (printed)."""

import json
import os
import select
import signal
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import harness
from harness import E2ETestCase, report, wait_for

from harness import CHROMIUM
DEMO_TOKEN = next(s for s in harness.STREAMS if s["id"] == "demo")["merchant_tokens"][0]
SHOP2_TOKEN = next(s for s in harness.STREAMS if s["id"] == "shop2")["merchant_tokens"][0]
SCRIPT = harness.REPO_ROOT / "tests" / "browser" / "pages.mjs"


def anchor(url: str, picture: str) -> list[str]:
    return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", picture,
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "240",
            "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "30",
            "-bf", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-f", "flv", url]


class PagesTest(E2ETestCase):
    def test_watch_and_console_in_chromium(self):
        node = shutil.which("node")
        modules = Path(harness.BINARY).parent / "web" / "npm" / "node_modules"
        self.assertTrue(Path(CHROMIUM).exists() and node, "chromium and node are missing: ./dev.sh installs them")
        self.assertTrue((modules / "playwright-core").is_dir(),
                        f"{modules}/playwright-core missing: the build runs npm ci (web/CMakeLists.txt)")
        server = self.start_server()
        self.spawn(anchor(server.rtmp_publish_url(harness.key_of("shop2")), "color=c=0x2050c0:size=640x360:rate=30"), "anchor-shop2")
        self.spawn(anchor(server.rtmp_publish_url(harness.key_of("demo")), "testsrc2=size=640x360:rate=30"), "anchor-demo")
        server.wait_live("shop2")
        server.wait_live("demo")
        # The burn-in rendition starts with the compositor's first frame.
        wait_for(lambda: server.get("/hls/shop2/index.m3u8").status == 200, 20, "shop2's HLS playlist")

        artifacts = Path(os.environ.get("ANCHORCAST_ARTIFACTS") or
                         tempfile.mkdtemp(prefix=f"anchorcast-pages-{time.strftime('%H%M%S')}-"))
        artifacts.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [node, str(SCRIPT), "--base", server.url(""), "--modules", str(modules), "--out", str(artifacts),
             "--burnin", f"shop2:{SHOP2_TOKEN}", "--metadata", f"demo:{DEMO_TOKEN}"],
            capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
        print(proc.stderr[-6000:], flush=True)
        self.assertEqual(proc.returncode, 0, f"browser script failed:\n{proc.stderr[-4000:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        report(f"screenshots in {artifacts}: {', '.join(Path(p).name for p in result['screenshots'])}")
        for name, outcome in result["checks"].items():
            report(f"{name}: {json.dumps(outcome, ensure_ascii=False)[:400]}")
        failed = {n: c["error"] for n, c in result["checks"].items() if not c["ok"]}
        self.assertEqual(failed, {}, "browser checks failed")
        self.assertEqual(len(result["checks"]), 12)

    def test_watch_page_rides_out_the_anchor_leaving(self):
        node = shutil.which("node")
        modules = Path(harness.BINARY).parent / "web" / "npm" / "node_modules"
        self.assertTrue(Path(CHROMIUM).exists() and node, "chromium and node are missing: ./dev.sh installs them")
        server = self.start_server()
        artifacts = Path(tempfile.mkdtemp(prefix=f"anchorcast-pages-reconnect-{time.strftime('%H%M%S')}-"))
        log = open(self.tmp / "reconnect.log", "w")
        self.addCleanup(log.close)
        proc = subprocess.Popen(
            [node, str(SCRIPT.parent / "reconnect.mjs"), "--base", server.url(""), "--modules", str(modules),
             "--out", str(artifacts), "--stream", "demo"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
        self.addCleanup(proc.kill)
        self.addCleanup(proc.stdout.close)
        key = harness.key_of("demo")
        url = server.rtmp_publish_url(key)

        def step(expected: str) -> dict:
            ready, _, _ = select.select([proc.stdout], [], [], 60)
            self.assertTrue(ready, f"no word from the browser script waiting for {expected}")
            line = proc.stdout.readline()
            if not line:
                self.fail(f"browser script ended: {(self.tmp / 'reconnect.log').read_text()[-3000:]}")
            msg = json.loads(line)
            report(f"watch page: {msg}")
            self.assertEqual(msg["step"], expected, msg)
            return msg

        def go() -> None:
            proc.stdin.write("next\n")
            proc.stdin.flush()

        self.assertEqual(step("offline")["badge"], "Offline")
        first = self.spawn(anchor(url, "testsrc2=size=640x360:rate=30"), "anchor-1")
        go()
        step("playing")
        first.stop(signal.SIGKILL)  # the anchor's connection drops
        server.wait_live("demo", live=False)
        go()
        step("offline_again")
        self.spawn(anchor(url, "testsrc2=size=640x360:rate=30"), "anchor-2")
        go()
        back = step("playing_again")
        report(f"screenshots in {artifacts}")
        self.assertIn(back["transport"], ("webrtc", "hls"))
        proc.stdin.close()
        self.assertEqual(proc.wait(timeout=30), 0)

    def test_events_endpoint_caps_size_and_rate(self):
        server = self.start_server()
        path = "/api/v1/streams/demo/events"
        click = json.dumps({"type": "click", "id": "c1"}).encode()
        big = harness.http_request(server.http_port, "POST", path, b"{" + b" " * 2048 + b"}")
        self.assertEqual(big.status, 413)
        self.assertEqual(big.json()["error"], "too_large")
        bad = harness.http_request(server.http_port, "POST", path, b'{"type":"like","id":"c1"}')
        self.assertEqual(bad.status, 400)
        self.assertIn("type", bad.json()["message"])
        statuses = [harness.http_request(server.http_port, "POST", path, click).status for _ in range(25)]
        self.assertIn(429, statuses, statuses)
        # A one-second bucket of 10; the refused body above took one of them.
        self.assertGreaterEqual(statuses.count(202), 8, statuses)
        limited = next(r for r in (harness.http_request(server.http_port, "POST", path, click) for _ in range(20))
                       if r.status == 429)
        self.assertEqual(limited.json()["error"], "rate_limited")
        self.assertEqual(harness.http_request(server.http_port, "POST", "/api/v1/streams/nope/events", click).status, 404)


if __name__ == "__main__":
    harness.main()
