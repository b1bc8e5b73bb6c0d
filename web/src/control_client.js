// The merchant control channel from a browser (contract: WebSocket /control/{id},
// ?token= because browsers cannot set headers). One reply per command, in order; events
// (state, applied, scheduled, stats) go to onEvent. Reconnects by itself after a drop.
export class ControlClient {
  constructor(streamId, token, { onEvent, onStatus }) {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    this.url = `${proto}//${location.host}/control/${encodeURIComponent(streamId)}?token=${encodeURIComponent(token)}`;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.pending = new Map(); // req -> resolve
    this.nextReq = 1;
    this.everOpened = false;
    this.closed = false;
    this.open();
  }

  open() {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => { this.everOpened = true; this.onStatus("connected"); };
    ws.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      if ((msg.type === "ack" || msg.type === "error") && this.pending.has(msg.req)) {
        const resolve = this.pending.get(msg.req);
        this.pending.delete(msg.req);
        resolve(msg);
      }
      this.onEvent(msg);
    };
    ws.onclose = () => {
      for (const resolve of this.pending.values()) resolve({ type: "error", code: "disconnected", message: "connection lost" });
      this.pending.clear();
      if (this.closed) return;
      // Refused before it ever opened: a bad token (401 before the upgrade).
      if (!this.everOpened) return this.onStatus("refused");
      this.onStatus("disconnected");
      setTimeout(() => !this.closed && this.open(), 1000);
    };
  }

  send(command) {
    const req = `web-${this.nextReq++}`;
    return new Promise((resolve) => {
      if (this.ws.readyState !== WebSocket.OPEN)
        return resolve({ type: "error", req, code: "disconnected", message: "not connected" });
      this.pending.set(req, resolve);
      this.ws.send(JSON.stringify({ ...command, req }));
    });
  }

  close() {
    this.closed = true;
    this.ws.close();
  }
}
