"""A WHEP player page for headless Chromium tests, and the tiny HTTP server that serves
it and collects what it reports (fetch POST /report), so no DevTools driver is needed.
The page is served from another origin than the anchorcast server, so the CORS preflight
is exercised too."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import harness
from harness import report, wait_for

# The offer (recvonly video + audio), ICE gathering, the POST, the answer. Then the
# caller's script runs with `pc`, `video` (playing the tracks), `location` (the session's
# URL) and `report(what, data)` in scope.
_PLAYER = """<!doctype html>
<html><body>
<video id="v" autoplay muted playsinline></video>
<script>
const WHEP = "%(whep)s";
const report = (what, data) => fetch("/report", {method: "POST",
  body: JSON.stringify(Object.assign({what}, data))});
window.onerror = (msg) => report("error", {message: String(msg)});
window.onunhandledrejection = (e) => report("error", {message: "unhandled: " + e.reason});
(async () => {
  try {
    const pc = new RTCPeerConnection();
    pc.addTransceiver("video", {direction: "recvonly"});
    pc.addTransceiver("audio", {direction: "recvonly"});
    const media = new MediaStream();
    const video = document.getElementById("v");
    pc.ontrack = (e) => { media.addTrack(e.track); video.srcObject = media; };
    pc.onconnectionstatechange = () => report("state", {state: pc.connectionState});
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((done) => {
      if (pc.iceGatheringState === "complete") return done();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && done();
      setTimeout(done, 2000);
    });
    const posted = performance.now();
    const resp = await fetch(WHEP, {method: "POST", headers: {"Content-Type": "application/sdp"},
                                    body: pc.localDescription.sdp});
    const answer = await resp.text();
    const location = resp.headers.get("Location");
    report("answer", {status: resp.status, location});
    if (resp.status !== 201) return;
    await pc.setRemoteDescription({type: "answer", sdp: answer});
%(then)s
  } catch (e) {
    report("error", {message: String(e)});
  }
})();
</script></body></html>
"""


def whep_player_page(whep_url: str, then_js: str) -> str:
    return _PLAYER % {"whep": whep_url, "then": then_js}


class PageServer:
    """Serves one page and collects what it reports."""

    def __init__(self, page: str):
        self.reports: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = page.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                outer.reports.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((harness.HOST, 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def find(self, what: str):
        return next((r for r in self.reports if r.get("what") == what), None)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


PLAY_S = 10

# From two seconds after the first frame (a join replays the GOP fast and the jitter
# buffer settles) for PLAY_S: the
# frames presented (rVFC's presentedFrames) and the longest gap between two callbacks;
# then getStats, and the session ends (DELETE) so the server sees the viewer leave.
PLAY_JS = """
    let first = 0, start = null, last = null, gap = 0, callbacks = 0;
    const finish = async () => {
      try {
        const codecs = {};
        let inbound = {};
        const stats = await pc.getStats();
        stats.forEach((s) => { if (s.type === "codec") codecs[s.id] = s.mimeType; });
        stats.forEach((s) => {
          if (s.type === "inbound-rtp" && s.kind === "video") inbound = {
            codec: codecs[s.codecId] || "", framesDecoded: s.framesDecoded, freezeCount: s.freezeCount,
            totalFreezesDuration: s.totalFreezesDuration};
        });
        report("done", {played_ms: last.now - start.now, presented: last.presented - start.presented,
                        callbacks, media_s: last.media - start.media, max_gap_ms: gap, inbound,
                        width: video.videoWidth, height: video.videoHeight});
        pc.close();
        await fetch(new URL(location, WHEP), {method: "DELETE"});
        report("left", {});
      } catch (e) {
        report("error", {message: "finish: " + e});
      }
    };
    const onFrame = (now, meta) => {
      if (!first) first = now;
      if (now - first >= 2000) {
        if (!start) start = {now, presented: meta.presentedFrames, media: meta.mediaTime};
        else gap = Math.max(gap, now - last.now);
        last = {now, presented: meta.presentedFrames, media: meta.mediaTime};
        callbacks++;
      }
      if (!start || now - start.now < %(play_ms)d) video.requestVideoFrameCallback(onFrame);
      else finish();
    };
    video.requestVideoFrameCallback(onFrame);
    video.play().catch((e) => report("error", {message: "play: " + e}));
"""


def play_smoothly(test, server, path: str, fps: int = 30, size=(640, 360), min_presented: float = 0.95,
                  max_gap_ms: float = 200) -> dict:
    """Plays `path` (a WHEP URL path) in headless Chromium for PLAY_S and asserts the
    inbound video is H.264 and, by default, what issue 14 asks of B-frame sources: >= 95 %
    of the frames sent over the window are presented, no gap over 200 ms between two
    presented frames. Returns the page's report."""
    page = PageServer(whep_player_page(server.url(path), PLAY_JS % {"play_ms": PLAY_S * 1000}))
    test.addCleanup(page.close)
    browser = test.open_chromium(f"http://{harness.HOST}:{page.port}/")

    def finished():
        if page.find("error"):
            raise AssertionError(f"page error: {page.find('error')}; reports {page.reports}")
        return page.find("left")

    try:
        wait_for(finished, PLAY_S + 45, "the page's report")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the page reported {page.reports}") from None
    browser.stop()
    done = page.find("done")
    report(f"chromium {path}: {json.dumps(done)}")
    test.assertEqual(page.find("answer")["status"], 201)
    test.assertEqual(done["inbound"].get("codec"), "video/H264", done)
    expected = fps * done["played_ms"] / 1000
    test.assertGreaterEqual(done["presented"], min_presented * expected, done)
    test.assertLessEqual(done["max_gap_ms"], max_gap_ms, done)
    test.assertEqual((done["width"], done["height"]), tuple(size))
    return done
