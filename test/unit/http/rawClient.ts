import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Poll `check` every 10 ms until it holds; throws after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** A PUT through node:http with `path` given apart (a URL string would have `..` and `%2e%2e` resolved away). */
export function rawPut(url: string, rawPath: string, body = Buffer.from('x'), headers: http.OutgoingHttpHeaders = {}, agent?: http.Agent) {
  const { hostname, port } = new URL(url);
  return new Promise<{ status: number; body: string; reusedSocket: boolean; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const options = { hostname, port, path: rawPath, method: 'PUT', headers: { 'content-length': body.length, ...headers }, agent };
    const req = http.request(options, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, reusedSocket: req.reusedSocket, headers: res.headers }));
    });
    req.on('error', reject).end(body);
  });
}

export interface Trickler {
  /** what the server sent back so far */
  answer(): string;
  closed(): boolean;
  /** bytes of body sent so far */
  sent(): number;
  stop(): void;
}

/**
 * A raw client that sends a PUT's head declaring `declared` bytes, then one body byte every
 * `everyMs` (never, with 0): the slow or stalled client a receiver must not wait for.
 */
export function trickle(port: number, rawPath: string, declared: number, headers: Record<string, string> = {}, everyMs = 100): Trickler {
  const socket = net.connect(port, '127.0.0.1');
  let answer = '';
  let closed = false;
  let sent = 0;
  socket.on('error', () => undefined);
  socket.on('data', (d) => (answer += String(d)));
  socket.on('close', () => (closed = true));
  const head = Object.entries({ host: 'x', 'content-length': String(declared), ...headers }).map(([k, v]) => `${k}: ${v}\r\n`);
  socket.write(`PUT ${rawPath} HTTP/1.1\r\n${head.join('')}\r\n`);
  const timer =
    everyMs > 0
      ? setInterval(() => {
          if (closed || sent >= declared) return;
          socket.write('x');
          sent++;
        }, everyMs)
      : undefined;
  return {
    answer: () => answer,
    closed: () => closed,
    sent: () => sent,
    stop: () => {
      clearInterval(timer);
      socket.destroy();
    },
  };
}
