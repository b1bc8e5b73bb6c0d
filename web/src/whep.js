// WebRTC playback by WHEP (contract: POST /whep/{id} with an SDP offer, 201 + answer,
// DELETE on the Location to end). Rejects with kind "ice" when no media path comes up
// within iceTimeoutMs: UDP blocked, so the caller falls back to HLS.
export class WhepError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind; // "ice" | "http" | "offline"
  }
}

function waitGathering(pc, ms) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    const done = () => pc.iceGatheringState === "complete" && resolve();
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, ms);
  });
}

function waitConnected(pc, ms) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (pc.connectionState === "connected") resolve();
      else if (pc.connectionState === "failed" || pc.connectionState === "closed")
        reject(new WhepError("ice", `ICE ${pc.connectionState}`));
    };
    pc.addEventListener("connectionstatechange", check);
    setTimeout(() => reject(new WhepError("ice", `no ICE connection within ${ms} ms`)), ms);
    check();
  });
}

// `relayOnly`: only TURN relays may carry media, and none is configured, so ICE has no
// path at all: the browser's real failure path when UDP is blocked (used by ?ice=relay).
export async function startWhep(video, url, { iceTimeoutMs = 4000, relayOnly = false, onEnded, onCue } = {}) {
  const pc = new RTCPeerConnection(relayOnly ? { iceTransportPolicy: "relay" } : {});
  let location = null;
  let ended = false;
  const cues = []; // data channel messages, oldest first
  const close = () => {
    if (ended) return;
    ended = true;
    pc.close();
    if (location) fetch(location, { method: "DELETE" }).catch(() => {});
  };
  try {
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    // The server's overlay cues: a snapshot when it opens, then one cue per change, each
    // with the RTP timestamp of the first video frame it applies to.
    const channel = pc.createDataChannel("overlay");
    channel.addEventListener("message", (e) => {
      if (typeof e.data !== "string" || e.data.length > 4 << 20) return;
      try {
        const msg = JSON.parse(e.data);
        if ((msg.type === "cue" || msg.type === "snapshot") && Array.isArray(msg.overlays)) {
          cues.push(msg);
          if (cues.length > 64) cues.splice(0, cues.length - 64);
          onCue?.();
        }
      } catch { /* not JSON: ignored */ }
    });
    const media = new MediaStream();
    pc.addEventListener("track", (e) => {
      media.addTrack(e.track);
      if (video.srcObject !== media) video.srcObject = media;
    });
    await pc.setLocalDescription(await pc.createOffer());
    await waitGathering(pc, 1000);
    const resp = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/sdp" },
      body: pc.localDescription.sdp,
    });
    if (resp.status === 404) throw new WhepError("offline", "stream not live");
    if (resp.status !== 201) throw new WhepError("http", `WHEP answered ${resp.status}`);
    const loc = resp.headers.get("Location");
    location = loc ? new URL(loc, url).href : null;
    await pc.setRemoteDescription({ type: "answer", sdp: await resp.text() });
    await waitConnected(pc, iceTimeoutMs);
  } catch (e) {
    close();
    throw e;
  }
  // After it came up: "failed" ends the session; "disconnected" may heal (consent
  // freshness), so give it a few seconds.
  let disconnectTimer = null;
  pc.addEventListener("connectionstatechange", () => {
    clearTimeout(disconnectTimer);
    if (pc.connectionState === "failed" || pc.connectionState === "closed") {
      if (!ended) onEnded?.(`ICE ${pc.connectionState}`);
    } else if (pc.connectionState === "disconnected") {
      disconnectTimer = setTimeout(() => !ended && onEnded?.("ICE disconnected"), 4000);
    }
  });
  return {
    kind: "webrtc",
    pc,
    close,
    hasCues: () => cues.length > 0,
    // The overlays of the frame with RTP timestamp `rtp` (rVFC metadata.rtpTimestamp): the
    // newest cue stamped at or before it (32-bit wrap-around). Without a timestamp, the newest.
    cueAt(rtp) {
      if (!cues.length) return null;
      if (!Number.isFinite(rtp)) return cues[cues.length - 1];
      let current = null;
      for (const c of cues) if (c.type === "snapshot" || ((rtp - c.rtp_timestamp) | 0) >= 0) current = c;
      return current;
    },
  };
}
