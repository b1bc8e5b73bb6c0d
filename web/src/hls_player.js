// HLS playback through hls.js (bundled; Safari plays HLS natively). The playlist has one
// DATERANGE per overlay and version (CLASS="com.anchorcast.overlay", X-PAYLOAD = base64 of
// the overlay's JSON, END-DATE once it is gone); with hls.js's date of the frame on screen
// (EXT-X-PROGRAM-DATE-TIME) they give the overlays of that very frame.
import Hls from "hls.js";

const OVERLAY_CLASS = "com.anchorcast.overlay";

function decodePayload(value) {
  try {
    let text = String(value);
    // hls.js keeps quoted attribute values as written; a hex form (0x...) is also legal.
    if (text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1);
    let bytes;
    if (/^0x/i.test(text)) {
      const hex = text.slice(2);
      bytes = new Uint8Array(hex.length / 2);
      for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
    } else {
      const bin = atob(text);
      bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    }
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

const MAX_RANGES = 512;

// The overlays visible at `dateMs`: per overlay id, its newest version whose range covers it.
export function overlaysAt(ranges, dateMs) {
  const byId = new Map();
  let version = 0;
  for (const r of ranges) {
    if (r.startMs > dateMs || (r.endMs !== null && r.endMs <= dateMs)) continue;
    const old = byId.get(r.overlay.id);
    if (!old || r.version > old.version) byId.set(r.overlay.id, r);
  }
  const visible = [...byId.values()].sort((a, b) => a.startMs - b.startMs);
  for (const r of ranges) if (r.startMs <= dateMs) version = Math.max(version, r.version);
  return { type: "overlays", version, overlays: visible.map((r) => r.overlay) };
}

export function startHls(video, url, { onEnded } = {}) {
  const ranges = new Map(); // DATERANGE ID -> {startMs, endMs, version, overlay}
  const none = { playingDateMs: () => null, cueAt: () => null, hasCues: () => false };
  if (!Hls.isSupported()) {
    if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = url;
      video.play().catch(() => {});
      const onError = () => onEnded?.("native HLS error");
      video.addEventListener("error", onError, { once: true });
      return { kind: "hls", ...none,
        close() { video.removeEventListener("error", onError); video.removeAttribute("src"); video.load(); } };
    }
    throw new Error("this browser plays neither WebRTC nor HLS");
  }
  const hls = new Hls({ lowLatencyMode: true, liveSyncDurationCount: 2, backBufferLength: 10 });
  hls.on(Hls.Events.LEVEL_UPDATED, (_, data) => {
    // Re-read every refresh: a range gets its END-DATE when the overlay goes away.
    for (const [id, range] of Object.entries(data.details?.dateRanges || {})) {
      if (range.class !== OVERLAY_CLASS) continue;
      const overlay = ranges.get(id)?.overlay || decodePayload(range.attr?.["X-PAYLOAD"]);
      const startMs = range.startDate?.getTime?.();
      if (!overlay || typeof overlay.id !== "string" || !Number.isFinite(startMs)) continue;
      const end = range.endDate?.getTime?.();
      ranges.set(id, { startMs, endMs: Number.isFinite(end) ? end : null,
        version: Number(range.attr?.["X-VERSION"]) || 0, overlay });
    }
    if (ranges.size > MAX_RANGES) {
      const closed = [...ranges.entries()].filter(([, r]) => r.endMs !== null).sort((a, b) => a[1].endMs - b[1].endMs);
      for (const [id] of closed.slice(0, ranges.size - MAX_RANGES)) ranges.delete(id);
    }
  });
  hls.on(Hls.Events.ERROR, (_, data) => {
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    else onEnded?.(`hls.js: ${data.details}`);
  });
  hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => {}));
  hls.loadSource(url);
  hls.attachMedia(video);
  const playingDateMs = () => hls.playingDate?.getTime?.() ?? null;
  return {
    kind: "hls",
    hls,
    close() { hls.destroy(); },
    playingDateMs,
    // The playlist's DATERANGEs cover every overlay still visible, so once hls.js knows the
    // date of the frame on screen they are the whole state; a polled cue would run ahead of
    // the picture by the HLS latency (seconds).
    hasCues: () => playingDateMs() !== null,
    rangeCount: () => ranges.size,
    cueAt() {
      const date = playingDateMs();
      return date === null ? null : overlaysAt(ranges.values(), date);
    },
  };
}
