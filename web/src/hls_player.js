// HLS playback through hls.js (bundled; Safari plays HLS natively). Exposes the
// playlist's overlay DATERANGEs (CLASS="com.anchorcast.overlay", X-PAYLOAD base64 JSON)
// and the wall-clock date of the frame on screen, for frame-accurate cues.
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

export function startHls(video, url, { onEnded } = {}) {
  const cues = new Map(); // DATERANGE id -> {startMs, cue}
  if (!Hls.isSupported()) {
    if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = url;
      video.play().catch(() => {});
      const onError = () => onEnded?.("native HLS error");
      video.addEventListener("error", onError, { once: true });
      return {
        kind: "hls", close() { video.removeEventListener("error", onError); video.removeAttribute("src"); video.load(); },
        playingDateMs: () => null, dateRangeCues: () => [],
      };
    }
    throw new Error("this browser plays neither WebRTC nor HLS");
  }
  const hls = new Hls({ lowLatencyMode: true, liveSyncDurationCount: 2, backBufferLength: 10 });
  hls.on(Hls.Events.LEVEL_UPDATED, (_, data) => {
    const ranges = data.details?.dateRanges || {};
    for (const [id, range] of Object.entries(ranges)) {
      if (cues.has(id) || range.class !== OVERLAY_CLASS) continue;
      const cue = decodePayload(range.attr?.["X-PAYLOAD"]);
      const start = range.startDate?.getTime?.();
      if (cue && Number.isFinite(start)) cues.set(id, { startMs: start, cue });
    }
    if (cues.size > 64) {
      const sorted = [...cues.entries()].sort((a, b) => a[1].startMs - b[1].startMs);
      for (const [id] of sorted.slice(0, cues.size - 64)) cues.delete(id);
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
  return {
    kind: "hls",
    hls,
    close() { hls.destroy(); },
    // EXT-X-PROGRAM-DATE-TIME of the position on screen (hls.js maps it per fragment).
    playingDateMs: () => hls.playingDate?.getTime?.() ?? null,
    dateRangeCues: () => [...cues.values()].sort((a, b) => a.startMs - b.startMs),
  };
}
