import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Bodies up to this size are read and dropped so the connection can be reused. */
const DRAIN_LIMIT = 64 * 1024;
/**
 * How long a refused upload's socket keeps swallowing bytes after the answer went out, and
 * how long a small refused body may take to arrive: a refusal never holds a socket longer.
 */
const LINGER_MS = 2000;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/**
 * Answer `status` without storing the body. A small (or already read) body is drained
 * so the connection stays usable, unless it takes longer than LINGER_MS to arrive (a
 * trickling client), when the socket is dropped. A big or unbounded one is not read: the
 * answer goes out with `connection: close`, then the socket lingers half-closed, discarding
 * what the client still sends, so the kernel does not reset the connection (which can wipe
 * the answer from the client's buffer before it reads it).
 */
export function refuse(req: IncomingMessage, res: ServerResponse, status: number, error: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const declared = Number(req.headers['content-length'] ?? (req.headers['transfer-encoding'] ? Infinity : 0));
  const small = req.complete || declared <= DRAIN_LIMIT;
  if (!small) {
    lingerOnClose(req.socket);
    headers = { ...headers, connection: 'close' };
  }
  sendJson(res, status, { error }, headers);
  if (small && !req.complete) dropIfSlow(req);
  req.resume();
}

function dropIfSlow(req: IncomingMessage): void {
  const timer = setTimeout(() => req.socket.destroy(), LINGER_MS);
  timer.unref();
  const done = () => clearTimeout(timer);
  req.once('end', done).once('close', done);
}

/** Node destroys a `connection: close` socket right after the answer is flushed; half-close and linger instead. */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = function lingeringClose(this: Socket) {
    this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
  };
}
