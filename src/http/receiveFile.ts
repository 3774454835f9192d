import { randomUUID } from 'node:crypto';
import { lstat, realpath, rename, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import type { ReceiverStats } from './receiverStats.js';
import { refuse, sendJson } from './respond.js';
import type { Slots } from './slots.js';
import { checkParents, UnsafePathError } from './uploadPath.js';
import { BodyIdleError, BodyTooLargeError, ClientAbortedError, writeBody } from './writeBody.js';

/** What every upload on one receiver shares. */
export interface ReceiveContext {
  root: string;
  tmpDir: string;
  maxBytes: number;
  delayMs: number;
  serviceBytesPerSec: number;
  /** a body that sends nothing for this long is dropped */
  idleTimeoutMs: number;
  slots: Slots;
  stats: ReceiverStats;
  logger: Logger;
  /** aborts when the receiver closes */
  closing: AbortSignal;
  /** (re)make the root and temp folder if someone removed them */
  ensureScratch(): Promise<void>;
}

/** One accepted `PUT /files/<rel>` whose name, token and declared size already passed. */
export interface Upload {
  req: IncomingMessage;
  res: ServerResponse;
  /** relative, `/`-separated */
  rel: string;
  /** absolute destination inside the root */
  target: string;
  /** the client's x-fanout-sha256, lower-case */
  expectedSha256?: string;
  /** the client sent `expect: 100-continue` and waits for our go-ahead */
  expectsContinue: boolean;
}

/** The disk (or the user's quota) is full: 507, so the client tries another host. */
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);

/**
 * Stream the body to a private temp file while hashing it, check the digest, then wait for
 * a slot, hold it for the simulated service time and rename into place: the final path only
 * ever shows a whole file, and a failed upload leaves nothing behind. The body is read
 * before the slot is taken, so a client that trickles (or stalls) never holds a slot; it
 * holds only its connection, until the idle timeout drops it.
 */
export async function receiveFile(ctx: ReceiveContext, up: Upload): Promise<void> {
  const { stats, logger } = ctx;
  const { req, res, rel, target } = up;
  const tmp = path.join(ctx.tmpDir, `${randomUUID()}.part`);
  const gone = new AbortController();
  res.once('close', () => gone.abort(new ClientAbortedError('client went away')));
  const signal = AbortSignal.any([ctx.closing, gone.signal]);
  const t0 = performance.now();
  let release: (() => void) | undefined;
  stats.inFlight++;
  stats.inFlightMax = Math.max(stats.inFlightMax, stats.inFlight);
  try {
    await checkParents(ctx.root, target, false); // refuse a symlinked folder before reading anything
    await ctx.ensureScratch();
    if (up.expectsContinue) res.writeContinue();
    const body = await writeBody(req, tmp, ctx.maxBytes, ctx.idleTimeoutMs);
    if (up.expectedSha256 !== undefined && up.expectedSha256 !== body.sha256) {
      stats.checksumMismatches++;
      await rm(tmp, { force: true });
      logger.warn('receive_checksum_mismatch', { path: rel, bytes: body.bytes, expected: up.expectedSha256, sha256: body.sha256 });
      return sendJson(res, 422, { error: 'sha256 mismatch', path: rel, expected: up.expectedSha256, sha256: body.sha256 }, { 'x-fanout-sha256': body.sha256 });
    }
    release = await ctx.slots.acquire(signal);
    stats.served++;
    stats.servedMax = Math.max(stats.servedMax, stats.served);
    const serviceMs = ctx.delayMs + (ctx.serviceBytesPerSec > 0 ? (body.bytes * 1000) / ctx.serviceBytesPerSec : 0);
    if (serviceMs > 0) await sleep(serviceMs, undefined, { signal });
    await checkParents(ctx.root, target, true);
    const { ino } = await lstat(tmp);
    await rename(tmp, target).catch((err: NodeJS.ErrnoException) => {
      const clash = err.code === 'EISDIR' || err.code === 'ENOTEMPTY' || err.code === 'EEXIST';
      throw clash ? new UnsafePathError(`"${rel}" is a folder`, { cause: err }, 409) : err;
    });
    await undoIfEscaped(ctx, rel, target, ino);
    stats.files++;
    stats.bytes += body.bytes;
    logger.info('receive_stored', { path: rel, bytes: body.bytes, sha256: body.sha256, ms: Math.round(performance.now() - t0) });
    sendJson(res, 201, { path: rel, bytes: body.bytes, sha256: body.sha256 }, { 'x-fanout-sha256': body.sha256 });
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    failed(ctx, up, err, signal.aborted);
  } finally {
    if (release) {
      stats.served--;
      release();
    }
    stats.inFlight--;
  }
}

/**
 * The last check of the check-then-rename: if a folder on the way was swapped for a link
 * between checkParents and rename, the file landed outside the root; take it back out
 * (only if it is still ours) and fail the upload. It narrows the window, it cannot close
 * it: a swap undone before this runs goes unnoticed, and a file of the same name outside
 * was already replaced. Only the folder permissions that checkTree enforces prevent that.
 */
async function undoIfEscaped(ctx: ReceiveContext, rel: string, target: string, ino: number): Promise<void> {
  const parent = path.dirname(target);
  const real = await realpath(parent).catch(() => undefined);
  if (real === parent) return;
  const landed = real === undefined ? undefined : path.join(real, path.basename(target));
  if (landed !== undefined && (await lstat(landed).catch(() => undefined))?.ino === ino) await rm(landed, { force: true });
  ctx.logger.error('receive_escaped', { path: rel, landed });
  throw new Error(`a folder of "${rel}" was swapped for a link during the upload`);
}

function failed(ctx: ReceiveContext, { req, res, rel }: Upload, err: unknown, aborted: boolean): void {
  const reason = err instanceof Error ? err.message : String(err);
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (err instanceof BodyTooLargeError || err instanceof UnsafePathError) {
    const status = err instanceof BodyTooLargeError ? 413 : err.status;
    ctx.stats.rejected++;
    ctx.logger.warn('receive_rejected', { path: rel, status, reason });
    return refuse(req, res, status, reason);
  }
  if (err instanceof BodyIdleError) {
    ctx.stats.timedOut++;
    ctx.logger.warn('receive_timed_out', { path: rel, reason });
    return refuse(req, res, 408, reason);
  }
  if (aborted || err instanceof ClientAbortedError) {
    ctx.stats.aborted++;
    ctx.logger.warn('receive_aborted', { path: rel, reason });
    res.destroy();
    return;
  }
  if (NO_SPACE.has(code)) {
    ctx.logger.error('receive_failed', { path: rel, status: 507, reason });
    return refuse(req, res, 507, 'no space left on the receiver');
  }
  ctx.logger.error('receive_failed', { path: rel, reason });
  refuse(req, res, 500, 'could not store the file');
}
