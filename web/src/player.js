// The watch player: WebRTC through WHEP first, HLS (hls.js) when ICE finds no path
// within a few seconds; live/offline from the stream's state; reconnects by itself; and
// the overlay layer, whose cues are applied on the video frame that shows them
// (requestVideoFrameCallback). Used by /watch/{id} and by the console's preview.
import { el, sleep } from "./dom.js";
import { reporter } from "./events.js";
import { StreamFeed } from "./feed.js";
import { startHls } from "./hls_player.js";
import { t } from "./i18n.js";
import { OverlayView } from "./overlay_view.js";
import { startWhep } from "./whep.js";

const ICE_TIMEOUT_MS = 4000;
const STALL_MS = 6000; // live, playing, and no frame for this long: start over

export class Player {
  // options: transport "auto" | "webrtc" | "hls"; relayOnly (forces the ICE failure path).
  constructor(root, streamId, { transport = "auto", relayOnly = false, report = true } = {}) {
    this.streamId = streamId;
    this.options = { transport, relayOnly };
    this.useHls = transport === "hls";
    this.session = null;
    this.frames = 0;
    this.lastFrameAt = 0;
    this.stats = { frames: 0, transport: null, fallbacks: 0, restarts: 0, lastError: null, dateRangeCues: 0,
      cueSource: "poll" };

    this.video = el("video", { class: "ac-video", autoplay: true, muted: true, playsinline: true });
    this.video.muted = true;
    this.layer = el("div", { class: "ac-layer" });
    this.badge = el("span", { class: "ac-badge-live" });
    this.transportLabel = el("span", { class: "ac-transport" });
    this.unmute = el("button", { class: "ac-unmute", type: "button", text: t("unmute"),
      onclick: () => { this.video.muted = false; this.unmute.hidden = true; } });
    this.waiting = el("div", { class: "ac-waiting", text: t("waiting") });
    this.stage = el("div", { class: "ac-stage" }, this.video, this.waiting, this.layer,
      el("div", { class: "ac-status" }, this.badge, this.transportLabel), this.unmute);
    root.append(this.stage);

    this.feed = new StreamFeed(streamId);
    this.view = new OverlayView({ video: this.video, layer: this.layer, streamId, feed: this.feed,
      report: report ? reporter(streamId) : () => {} });
    this.feed.on(() => this.onFeed());
    this.setStatus("connecting");
    this.watchFrames();
    this.feed.start();
    this.run();
  }

  setStatus(status) {
    this.status = status;
    this.stage.dataset.status = status;
    this.badge.textContent = t(status);
    this.waiting.hidden = status === "live";
  }

  onFeed() {
    if (this.feed.live === false && this.status !== "offline") this.setStatus("offline");
    if (this.feed.live && this.status === "offline" && this.session) this.setStatus("live");
    this.stage.dataset.mode = this.feed.mode || "";
    // Cues from the poll wait for the next frame; without video they apply shortly anyway.
    this.pendingCue = this.feed.cue;
    if (this.session?.hasCues?.()) return; // pushed cues apply on their frames
    clearTimeout(this.cueTimer);
    this.cueTimer = setTimeout(() => this.applyCue(), this.session ? 300 : 0);
  }

  // The overlays of the frame on screen: from the WebRTC data channel by the frame's RTP
  // timestamp, or from the HLS DATERANGEs by the frame's program date; until either has
  // delivered anything, the newest polled cue (good to a poll interval, not a frame).
  applyCue(frameMeta) {
    clearTimeout(this.cueTimer);
    const pushed = this.session?.hasCues?.();
    this.stats.cueSource = pushed ? (this.session.kind === "webrtc" ? "datachannel" : "daterange") : "poll";
    this.stats.dateRangeCues = this.session?.rangeCount?.() ?? 0;
    // Pushed cues make the poll a liveness check only.
    this.feed.intervalMs = pushed ? 1000 : 250;
    // HLS before hls.js knows the frame's date: a polled cue would run seconds ahead.
    if (!pushed && this.session?.kind === "hls") return;
    const cue = pushed ? this.session.cueAt(frameMeta?.rtpTimestamp) : this.pendingCue;
    if (cue === undefined || cue === null && pushed) return;
    const key = cue ? `${cue.version}|${cue.overlays.map((o) => `${o.id}:${o.shown_at_ms}:${o.stock}:${o.status}`).join(",")}` : "";
    if (key === this.shownKey) return;
    this.shownKey = key;
    this.view.show(cue);
    // What the tests compare: the cue's stamp against the frame it was first shown on.
    this.stats.applied = { version: cue?.version ?? null, source: this.stats.cueSource, at_ms: Date.now(),
      cue_rtp: cue?.rtp_timestamp ?? null, frame_rtp: frameMeta?.rtpTimestamp ?? null };
  }

  watchFrames() {
    const onFrame = (_now, meta) => {
      this.lastFrameMeta = meta;
      this.frames++;
      this.stats.frames = this.frames;
      this.lastFrameAt = performance.now();
      this.applyCue(meta);
      this.video.requestVideoFrameCallback(onFrame);
    };
    if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) this.video.requestVideoFrameCallback(onFrame);
    else setInterval(() => { if (!this.video.paused) { this.lastFrameAt = performance.now(); this.applyCue(); } }, 100);
    this.video.addEventListener("loadedmetadata", () => this.view.layout());
    this.video.addEventListener("resize", () => this.view.layout());
  }

  async waitUntil(predicate, stepMs = 200) {
    while (!predicate()) await sleep(stepMs);
  }

  async run() {
    for (;;) {
      await this.waitUntil(() => this.feed.live === true);
      this.setStatus("connecting");
      let ended = null;
      const endedPromise = new Promise((resolve) => { ended = resolve; });
      try {
        this.session = await this.connect((why) => ended(why));
      } catch (e) {
        this.stats.lastError = String(e.message || e);
        await sleep(1000);
        continue;
      }
      this.stats.transport = this.session.kind;
      this.stage.dataset.transport = this.session.kind;
      this.transportLabel.textContent = t(this.session.kind);
      this.setStatus(this.feed.live ? "live" : "offline");
      this.lastFrameAt = performance.now();
      this.video.play().catch(() => {});
      const stalled = this.waitUntil(() => this.feed.live && performance.now() - this.lastFrameAt > STALL_MS, 500)
        .then(() => "stalled");
      const why = await Promise.race([endedPromise, stalled]);
      this.stats.lastError = why;
      this.stats.restarts++;
      this.session.close();
      this.session = null;
      this.setStatus(this.feed.live ? "connecting" : "offline");
      await sleep(1000);
    }
  }

  async connect(onEnded) {
    const base = `/${encodeURIComponent(this.streamId)}`;
    if (!this.useHls && this.options.transport !== "hls") {
      try {
        return await startWhep(this.video, `${location.origin}/whep${base}`,
          { iceTimeoutMs: ICE_TIMEOUT_MS, relayOnly: this.options.relayOnly, onEnded,
            // A cue whose frame is already on screen (it crossed SCTP slower than the frame
            // crossed RTP) applies now rather than on the next frame.
            onCue: () => this.applyCue(this.lastFrameMeta) });
      } catch (e) {
        if (e.kind !== "ice" || this.options.transport === "webrtc") throw e;
        // UDP is blocked on this network: HLS from now on, for this page.
        this.useHls = true;
        this.stats.fallbacks++;
        this.stats.lastError = e.message;
      }
    }
    this.video.srcObject = null;
    return startHls(this.video, `/hls${base}/index.m3u8`, { onEnded });
  }
}
