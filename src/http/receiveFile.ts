import { randomUUID } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import type { ReceiverStats } from './receiverStats.js';
import { refuse, sendJson } from './respond.js';
import type { Slots } from './slots.js';
import { checkParents, UnsafePathError } from './uploadPath.js';
import { BodyTooLargeError, ClientAbortedError, writeBody } from './writeBody.js';

/** What every upload on one receiver shares. */
export interface ReceiveContext {
  root: string;
  tmpDir: string;
  maxBytes: number;
  delayMs: number;
  slots: Slots;
  stats: ReceiverStats;
  logger: Logger;
  /** aborts when the receiver closes */
  closing: AbortSignal;
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

/**
 * Wait for a slot, stream the body to a private temp file while hashing it, hold the slot
 * for the simulated service time, check the digest, then rename into place: the final
 * path only ever shows a whole file, and a failed upload leaves nothing behind.
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
    release = await ctx.slots.acquire(signal);
    stats.served++;
    stats.servedMax = Math.max(stats.servedMax, stats.served);
    if (up.expectsContinue) res.writeContinue();
    const body = await writeBody(req, tmp, ctx.maxBytes);
    if (ctx.delayMs > 0) await sleep(ctx.delayMs, undefined, { signal });
    if (up.expectedSha256 !== undefined && up.expectedSha256 !== body.sha256) {
      stats.checksumMismatches++;
      await rm(tmp, { force: true });
      logger.warn('receive_checksum_mismatch', { path: rel, bytes: body.bytes, expected: up.expectedSha256, sha256: body.sha256 });
      return sendJson(res, 422, { error: 'sha256 mismatch', path: rel, expected: up.expectedSha256, sha256: body.sha256 });
    }
    await checkParents(ctx.root, target, true);
    await rename(tmp, target).catch((err: NodeJS.ErrnoException) => {
      const clash = err.code === 'EISDIR' || err.code === 'ENOTEMPTY' || err.code === 'EEXIST';
      throw clash ? new UnsafePathError(`"${rel}" is a folder`, { cause: err }, 409) : err;
    });
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

function failed(ctx: ReceiveContext, { req, res, rel }: Upload, err: unknown, aborted: boolean): void {
  const reason = err instanceof Error ? err.message : String(err);
  if (err instanceof BodyTooLargeError || err instanceof UnsafePathError) {
    const status = err instanceof BodyTooLargeError ? 413 : err.status;
    ctx.stats.rejected++;
    ctx.logger.warn('receive_rejected', { path: rel, status, reason });
    return refuse(req, res, status, reason);
  }
  if (aborted || err instanceof ClientAbortedError) {
    ctx.stats.aborted++;
    ctx.logger.warn('receive_aborted', { path: rel, reason });
    res.destroy();
    return;
  }
  ctx.logger.error('receive_failed', { path: rel, reason });
  refuse(req, res, 500, 'could not store the file');
}
