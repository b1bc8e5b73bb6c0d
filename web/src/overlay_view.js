// Cards and flash sales over the video. `metadata` streams: the page draws them (HTML/CSS,
// the server's 1080p design scaled to the picture); `burn-in` streams: the server already
// drew them into the frames, so the page only lays invisible links over the same places
// (overlay/render/placement.cpp: 4 % safe margins; card 480x184 and sale 480x248 at 1080p,
// scaled by the video height). Either way a tap opens the product's url and is reported.
import { append, el, safeUrl } from "./dom.js";
import { cardLabels } from "./i18n.js";

const DESIGN_HEIGHT = 1080;
const SIZE_1080 = { card: [480, 184], sale: [480, 248] };
const SAFE_MARGIN = 0.04;
const ENDED_SHOWN_MS = 3000; // as the server's renderer: "ended" for 3 s, then gone

function even(v) { return Math.round(v) & ~1; }

// place() in overlay/render/placement.cpp, in video pixels.
export function placeCard(position, cardW, cardH, videoW, videoH) {
  const axis = (far, card, video) => {
    const margin = Math.round(video * SAFE_MARGIN);
    const offset = far ? video - margin - card : margin;
    return Math.max(0, Math.min(offset, Math.max(0, video - card))) & ~1;
  };
  const right = position === "top-right" || position === "bottom-right";
  const bottom = position === "bottom-left" || position === "bottom-right";
  return { x: axis(right, cardW, videoW), y: axis(bottom, cardH, videoH) };
}

function formatCountdown(seconds) {
  const s = Math.max(0, seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${pad(m)}:${pad(sec)}`;
}

export class OverlayView {
  // layer: an element covering the video element; feed: StreamFeed (clock, mode);
  // report(type, id): events back to the server.
  constructor({ video, layer, streamId, feed, report }) {
    this.video = video;
    this.layer = layer;
    this.streamId = streamId;
    this.feed = feed;
    this.report = report;
    this.cue = null;
    this.nodes = new Map(); // overlay id -> {node, key, overlay}
    this.impressed = new Set();
    this.ticker = setInterval(() => this.tick(), 250);
    new ResizeObserver(() => this.layout()).observe(video);
  }

  get mode() { return this.feed.mode || "metadata"; }

  // The whole overlay state from one cue (each cue carries every visible overlay).
  show(cue) {
    if (cue === this.cue) return;
    this.cue = cue;
    const overlays = cue?.overlays || [];
    const seen = new Set();
    for (const o of overlays) {
      if (!o || typeof o.id !== "string") continue;
      seen.add(o.id);
      const key = JSON.stringify(o) + this.mode;
      const old = this.nodes.get(o.id);
      if (old && old.key === key) continue;
      const node = this.build(o);
      if (old) old.node.replaceWith(node);
      else this.layer.append(node);
      this.nodes.set(o.id, { node, key, overlay: o });
    }
    for (const [id, entry] of this.nodes) {
      if (!seen.has(id)) {
        entry.node.remove();
        this.nodes.delete(id);
      }
    }
    this.layer.dataset.version = cue ? String(cue.version) : "";
    this.tick();
    this.layout();
  }

  build(o) {
    const url = safeUrl(o.url);
    const kind = o.kind === "sale" ? "sale" : "card";
    const node = el(url ? "a" : "div", {
      class: `ac-overlay ac-${kind} ${this.mode === "burn-in" ? "ac-hit" : "ac-drawn"}`,
      href: url || undefined, target: url ? "_blank" : undefined, rel: url ? "noopener noreferrer" : undefined,
      dataset: { id: o.id, kind },
      "aria-label": o.title || o.id,
      onclick: () => this.report("click", o.id),
    });
    if (this.mode === "burn-in") return node; // the frames show it; this is the tap area
    const labels = cardLabels(o.locale);
    const image = el("div", { class: "ac-image" });
    if (typeof o.image === "string" && /^img-[0-9a-f]{16}$/.test(o.image)) {
      image.append(el("img", {
        alt: "", draggable: "false",
        src: `/api/v1/streams/${encodeURIComponent(this.streamId)}/assets/${o.image}`,
      }));
    } else {
      image.classList.add("ac-placeholder");
    }
    image.append(el("span", { class: "ac-veil", text: labels.soldOut }));
    append(node,
      image,
      el("div", { class: "ac-body" },
        el("div", { class: "ac-title", text: o.title || "" }),
        el("div", { class: "ac-prices" },
          el("span", { class: "ac-price", text: o.price || "" }),
          o.original_price ? el("s", { class: "ac-original", text: o.original_price }) : null)),
      o.badge ? el("span", { class: "ac-badge", text: o.badge }) : null);
    if (kind === "sale") {
      append(node, el("div", { class: "ac-strip" },
        el("span", { class: "ac-countdown" }),
        el("div", { class: "ac-stock" }, el("span", { class: "ac-stock-text" }), el("div", { class: "ac-bar" }, el("i")))));
    }
    return node;
  }

  // Countdowns, expiry and sale states move with the (server-corrected) clock.
  tick() {
    const now = this.feed.serverNow();
    for (const [id, { node, overlay: o }] of this.nodes) {
      let visible = true;
      if (o.kind !== "sale" && o.expires_at_ms && now >= o.expires_at_ms) visible = false;
      let state = "active";
      if (o.kind === "sale") {
        const endsAt = o.ends_at_ms || 0;
        if (o.status === "ended" || (endsAt && now >= endsAt)) state = "ended";
        else if ((o.stock ?? 1) <= 0 || o.status === "sold_out") state = "sold_out";
        if (state === "ended" && endsAt && now >= endsAt + ENDED_SHOWN_MS) visible = false;
        node.dataset.state = state;
        const labels = cardLabels(o.locale);
        const countdown = node.querySelector(".ac-countdown");
        if (countdown) countdown.textContent = state === "ended" ? labels.ended
          : formatCountdown(Math.ceil((endsAt - now) / 1000));
        const stock = node.querySelector(".ac-stock-text");
        if (stock) stock.textContent = state === "sold_out" ? labels.soldOut : labels.left(o.stock ?? 0);
        const bar = node.querySelector(".ac-bar i");
        if (bar) bar.style.width = `${Math.min(100, (Math.log10(1 + Math.max(0, o.stock ?? 0)) / 3) * 100)}%`;
      }
      node.hidden = !visible;
      if (visible && !this.impressed.has(`${id}@${o.shown_at_ms}`)) {
        this.impressed.add(`${id}@${o.shown_at_ms}`);
        this.report("impression", id);
      }
    }
  }

  // Positions in CSS pixels over the picture (object-fit: contain leaves bars).
  layout() {
    const vw = this.video.videoWidth || 1920, vh = this.video.videoHeight || 1080;
    const ew = this.video.clientWidth, eh = this.video.clientHeight;
    if (!ew || !eh) return;
    const scale = Math.min(ew / vw, eh / vh);
    const offX = (ew - vw * scale) / 2 + this.video.offsetLeft, offY = (eh - vh * scale) / 2 + this.video.offsetTop;
    const unit = (vh / DESIGN_HEIGHT) * scale; // CSS px per 1080p design px
    this.layer.style.setProperty("--u", `${unit}px`);
    for (const { node, overlay: o } of this.nodes.values()) {
      const [w1080, h1080] = SIZE_1080[o.kind === "sale" ? "sale" : "card"];
      const cw = even((w1080 * vh) / DESIGN_HEIGHT), ch = even((h1080 * vh) / DESIGN_HEIGHT);
      const at = placeCard(o.position || "bottom-left", cw, ch, vw, vh);
      node.style.left = `${offX + at.x * scale}px`;
      node.style.top = `${offY + at.y * scale}px`;
      node.style.width = `${cw * scale}px`;
      node.style.height = `${ch * scale}px`;
    }
  }
}
