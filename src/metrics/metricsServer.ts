import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsServerOptions {
  registry: Registry;
  port: number;
  host?: string;
  /** `/readyz`: 200 when it resolves true, else 503 (the reason in the body) */
  ready: () => Promise<{ ok: boolean; reason?: string }>;
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * `GET /metrics` (Prometheus text format), `GET /healthz` (the process is alive) and
 * `GET /readyz` (it can do its work), on a port of their own so a scraper never queues
 * behind uploads. Binds 127.0.0.1 unless told otherwise.
 */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const { registry, port, host = '127.0.0.1', ready } = opts;
  const server: Server = createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'use GET\n');
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return send(200, 'application/json', '{"ok":true}\n');
    if (path === '/readyz') {
      return void ready().then(
        (r) => send(r.ok ? 200 : 503, 'application/json', `${JSON.stringify(r)}\n`),
        (err: unknown) => send(503, 'application/json', `${JSON.stringify({ ok: false, reason: String(err) })}\n`),
      );
    }
    if (path === '/metrics') {
      return void registry.metrics().then(
        (text) => send(200, registry.contentType, text),
        (err: unknown) => send(500, 'text/plain', `${String(err)}\n`),
      );
    }
    send(404, 'text/plain', 'try /metrics, /healthz or /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
