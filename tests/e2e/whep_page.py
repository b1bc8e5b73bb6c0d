"""A WHEP player page for headless Chromium tests, and the tiny HTTP server that serves
it and collects what it reports (fetch POST /report), so no DevTools driver is needed.
The page is served from another origin than the anchorcast server, so the CORS preflight
is exercised too."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import harness

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
