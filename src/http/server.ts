import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, describeError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { bearerChecker, weakToken } from './bearer.js';
import { receiveFile, type ReceiveContext } from './receiveFile.js';
import { canWrite, checkTree, clearFolder, ensureFolder, makeDir, UnsafeFolderError, unsafeFolder } from './receiverDir.js';
import { emptyStats, type ReceiverStats } from './receiverStats.js';
import { refuse, sendJson } from './respond.js';
import { createSlots } from './slots.js';
import { parseUploadPath, resolveInside, TMP_DIR_NAME, UnsafePathError } from './uploadPath.js';

export type { ReceiverStats } from './receiverStats.js';

export interface ReceiverOptions {
  /** where files land; created if missing */
  dir: string;
  host?: string;
  /** 0 picks a free port */
  port?: number;
  /** when set, every upload needs `authorization: Bearer <token>` */
  token?: string;
  maxBytes?: number;
  /** simulated service time per upload, holding its slot */
  delayMs?: number;
  /** with it, a simulated per-byte service time too (a host whose time grows with the file): bytes / this s more; 0 = none */
  serviceBytesPerSec?: number;
  /** uploads served at once; 0 or unset = unlimited */
  slots?: number;
  /** an upload body that sends nothing for this long is dropped (408) and its temp file removed */
  idleTimeoutMs?: number;
  /** connections open at once; more are closed on arrival */
  maxConnections?: number;
  logger?: Logger;
}

export interface Receiver {
  /** e.g. http://127.0.0.1:PORT */
  url: string;
  port: number;
  stats(): ReceiverStats;
  /** whether the dir can be written now (what /healthz answers) */
  healthy(): Promise<boolean>;
  /** stop listening, drop open connections, wait for in-flight uploads to clean up */
  close(): Promise<void>;
}

export const RECEIVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  maxBytes: 10 * 2 ** 30,
  delayMs: 0,
  serviceBytesPerSec: 0,
  slots: 0,
  idleTimeoutMs: 60_000,
  maxConnections: 1024,
} as const;

const SHA256_HEX = /^[0-9a-f]{64}$/i;

/** The reference receiver of a GPU host (`fanout serve`), listening once this resolves. */
export async function startReceiver(opts: ReceiverOptions): Promise<Receiver> {
  const { dir, token, logger = silentLogger() } = opts;
  const { host, port, maxBytes, delayMs, serviceBytesPerSec, slots, idleTimeoutMs, maxConnections } = { ...RECEIVER_DEFAULTS, ...definedOnly(opts) };
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`port must be an integer 0..65535, got ${port}`);
  for (const [name, v] of Object.entries({ maxBytes, delayMs, serviceBytesPerSec, slots })) {
    if (!Number.isSafeInteger(v) || v < 0) throw new ConfigError(`${name} must be a whole number >= 0, got ${v}`);
  }
  for (const [name, v] of Object.entries({ idleTimeoutMs, maxConnections })) {
    if (!Number.isSafeInteger(v) || v < 1) throw new ConfigError(`${name} must be a whole number >= 1, got ${v}`);
  }
  const weak = token === undefined ? undefined : weakToken(token);
  if (weak) throw new ConfigError(`token ${weak}`);
  const { root, tmpDir, cleared } = await prepareDir(dir);
  if (cleared > 0) logger.info('receiver_tmp_cleared', { dir: tmpDir, count: cleared });

  const stats = emptyStats();
  const closing = new AbortController();
  // An operator may empty the dir while we run: the next upload (or /healthz) remakes what it needs.
  const ensureScratch = async () => {
    const stat = await lstat(tmpDir).catch(() => undefined);
    if (stat?.isDirectory() && !unsafeFolder(stat)) return; // the usual case: one syscall
    await ensureFolder(root);
    await ensureFolder(tmpDir);
  };
  const ctx: ReceiveContext = { root, tmpDir, maxBytes, delayMs, serviceBytesPerSec, idleTimeoutMs, slots: createSlots(slots), stats, logger, closing: closing.signal, ensureScratch };
  const healthy = async () => (await ensureScratch().then(() => true, () => false)) && (await canWrite(tmpDir));
  const authorized = token === undefined ? () => true : bearerChecker(token);
  const pending = new Set<Promise<void>>();

  const reject = (req: IncomingMessage, res: ServerResponse, status: number, reason: string, headers?: Record<string, string>) => {
    stats.rejected++;
    logger.warn('receive_rejected', { method: req.method, url: req.url?.slice(0, 300), status, reason });
    refuse(req, res, status, reason, headers);
  };

  const route = async (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): Promise<void> => {
    const pathname = (req.url ?? '').split('?')[0];
    if (pathname === '/healthz' || pathname === '/stats') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return reject(req, res, 405, 'use GET', { allow: 'GET, HEAD' });
      if (pathname === '/stats') return sendJson(res, 200, { ...stats });
      if (!(await healthy())) {
        logger.warn('receiver_unhealthy', { dir: root, reason: 'cannot write to the dir' });
        return sendJson(res, 503, { ok: false, error: 'cannot write to the dir', inFlight: stats.inFlight });
      }
      return sendJson(res, 200, { ok: true, files: stats.files, bytes: stats.bytes, inFlight: stats.inFlight });
    }
    if (!pathname.startsWith('/files/')) return reject(req, res, 404, 'no such route');
    if (req.method !== 'PUT') return reject(req, res, 405, 'use PUT', { allow: 'PUT' });
    if (!authorized(req.headers.authorization)) return reject(req, res, 401, 'missing or wrong token', { 'www-authenticate': 'Bearer' });
    let segments: string[];
    try {
      segments = parseUploadPath(pathname.slice('/files/'.length));
    } catch (err) {
      if (err instanceof UnsafePathError) return reject(req, res, 400, `bad path: ${err.message}`);
      throw err;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) return reject(req, res, 413, `body of ${declared} bytes is over the ${maxBytes} byte limit`);
    const sent = req.headers['x-fanout-sha256'];
    if (sent !== undefined && (typeof sent !== 'string' || !SHA256_HEX.test(sent.trim()))) {
      return reject(req, res, 400, 'x-fanout-sha256 must be 64 hex digits');
    }
    const rel = segments.join('/');
    const target = resolveInside(root, segments);
    await receiveFile(ctx, { req, res, rel, target, expectedSha256: sent?.trim().toLowerCase(), expectsContinue });
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse, expectsContinue = false) => {
    const task = route(req, res, expectsContinue)
      .catch((err: unknown) => {
        logger.error('receive_failed', { url: req.url?.slice(0, 300), reason: err instanceof Error ? err.message : String(err) });
        refuse(req, res, err instanceof UnsafePathError ? err.status : 500, 'could not store the file');
      })
      .finally(() => pending.delete(task));
    pending.add(task);
  };

  // requestTimeout 0: a big file takes as long as it takes (and may first wait for a slot).
  // The body's own inactivity limit is idleTimeoutMs (writeBody); past maxConnections, Node
  // closes a new connection as soon as it is accepted, so no client can starve the descriptors.
  const server = createServer({ requestTimeout: 0, headersTimeout: 60_000 }, onRequest);
  server.keepAliveTimeout = 65_000;
  server.maxConnections = maxConnections;
  server.on('drop', () => stats.connectionsRefused++);
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => onRequest(req, res, true));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${urlHost(address)}:${address.port}`;
  logger.info('receiver_listening', { url, dir: root, maxBytes, delayMs, slots, idleTimeoutMs, maxConnections, token: token !== undefined });

  let closed: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    stats: () => ({ ...stats }),
    healthy,
    close: () =>
      (closed ??= (async () => {
        closing.abort();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await stopped;
        await Promise.allSettled([...pending]);
        logger.info('receiver_closed', { url, ...stats });
      })()),
  };
}

/**
 * Make the dir if missing, check that nobody else could swap a folder in or above it for a
 * link (ConfigError saying which and why), and empty the temp folder a killed receiver left.
 */
async function prepareDir(dir: string): Promise<{ root: string; tmpDir: string; cleared: number }> {
  try {
    await makeDir(dir);
    const root = await realpath(dir);
    const tmpDir = path.join(root, TMP_DIR_NAME);
    await checkTree(root);
    await ensureFolder(tmpDir);
    return { root, tmpDir, cleared: await clearFolder(tmpDir) };
  } catch (err) {
    if (err instanceof UnsafeFolderError) throw new ConfigError(`dir "${dir}" is unsafe: ${err.message}`, { cause: err });
    throw new ConfigError(`dir "${dir}" cannot be used: ${describeError(err)}`, { cause: err });
  }
}

/** An address a local client can dial: the wildcard addresses become loopback. */
function urlHost({ address, family }: AddressInfo): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '[::1]';
  return family === 'IPv6' ? `[${address}]` : address;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
