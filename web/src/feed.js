// The stream's state as the page polls it: live or not, overlay mode, and the latest cue
// (GET /api/v1/streams/{id}/overlays, public and read-only). Also estimates the server's
// clock so countdowns tick locally against the sale's wall-clock end.
export class StreamFeed {
  constructor(streamId, { intervalMs = 250 } = {}) {
    this.url = `/api/v1/streams/${encodeURIComponent(streamId)}/overlays`;
    this.intervalMs = intervalMs;
    this.live = null;
    this.mode = null;
    this.cue = null;
    this.clockOffsetMs = 0; // server wall clock - Date.now()
    this.listeners = new Set();
    this.stopped = false;
  }

  on(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  serverNow() {
    return Date.now() + this.clockOffsetMs;
  }

  start() {
    const tick = async () => {
      if (this.stopped) return;
      await this.poll();
      this.timer = setTimeout(tick, this.intervalMs);
    };
    tick();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  async poll() {
    const sent = Date.now();
    let body;
    try {
      const resp = await fetch(this.url, { cache: "no-store" });
      if (!resp.ok) throw new Error(String(resp.status));
      body = await resp.json();
    } catch {
      return; // the next poll retries; the page keeps what it shows
    }
    const got = Date.now();
    this.clockOffsetMs = body.server_ms - (sent + got) / 2;
    const changed = body.live !== this.live || body.mode !== this.mode || body.cue?.version !== this.cue?.version;
    this.live = body.live;
    this.mode = body.mode;
    this.cue = body.cue;
    if (changed) for (const l of this.listeners) l(this);
  }
}
