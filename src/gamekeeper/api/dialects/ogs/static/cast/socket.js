// The cast WebSocket of both pages: attach on every (re)connection, ping every 20 s, and come
// back after a cut with a growing pause (1 s, 2 s, 4 s … at most 30 s), at once when the
// browser says it is online again. Frames are JSON objects with a `type`.

const PING_EVERY_MS = 20_000;
const FIRST_DELAY_MS = 1_000;
const MOST_DELAY_MS = 30_000;

export class CastSocket {
  // attach(): the attach frame for this connection; onFrame(frame); onStatus('connecting' |
  // 'attached' | 'reconnecting' | 'stopped').
  constructor({ path, attach, onFrame, onStatus }) {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.url = `${scheme}//${location.host}${path}`;
    this.attach = attach;
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.delay = FIRST_DELAY_MS;
    this.ws = null;
    this.timer = null;
    this.pinger = null;
    this.stopped = false;
    this.resuming = false;
    window.addEventListener('online', () => this.retryNow());
  }

  start() {
    this.onStatus('connecting');
    this.connect();
  }

  connect() {
    this.timer = null;
    if (this.stopped) return;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify(this.attach()));
      this.pinger = setInterval(() => this.send({ type: 'ping' }), PING_EVERY_MS);
    });
    ws.addEventListener('message', (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!frame || typeof frame !== 'object') return;
      if (frame.type === 'attached') {
        this.delay = FIRST_DELAY_MS;
        this.onStatus('attached');
      }
      this.onFrame(frame);
    });
    ws.addEventListener('close', () => this.closed(ws));
  }

  closed(ws) {
    if (ws !== this.ws) return;
    clearInterval(this.pinger);
    this.ws = null;
    if (this.stopped) return;
    if (this.resuming) {
      this.resuming = false;
      this.timer = setTimeout(() => this.connect(), 0);
      return;
    }
    this.onStatus('reconnecting');
    this.timer = setTimeout(() => this.connect(), this.delay);
    this.delay = Math.min(this.delay * 2, MOST_DELAY_MS);
  }

  retryNow() {
    if (this.timer === null || this.stopped) return;
    clearTimeout(this.timer);
    this.connect();
  }

  // Drop this connection and attach again (e.g. to resume after a gap in the inputs).
  reconnect() {
    if (!this.ws) return;
    this.resuming = true;
    this.ws.close(4000, 'resume');
  }

  send(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    if (this.ws) this.ws.close(1000);
    this.onStatus('stopped');
  }
}
