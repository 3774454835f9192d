import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { defer, mergeMap, of, type OperatorFunction } from 'rxjs';
import { describeError } from '../errors.js';
import { classifyError, isCredentialsRefused, isHostFault } from '../http/classifyResponse.js';
import { FleetStoppedError, type Fleet, type Lease } from '../http/fleet.js';
import type { UploadOutcome } from '../http/uploader.js';
import type { Logger } from '../logger.js';
import { printablePath } from '../pathBytes.js';
import type { Assignment, SourceFile, UploadResult, UploadTry } from '../types.js';
import { backoffMs } from './backoff.js';
import { holdsEachFile } from './holdsEachFile.js';

export interface UploadDeps {
  fleet: Fleet;
  uploader: { upload(target: string, file: SourceFile, signal?: AbortSignal): Promise<UploadOutcome> };
  logger: Logger;
  batchId: string;
  /** extra attempts per target for transient errors */
  retries: number;
  /** aborts uploads in flight (second signal or grace period over) */
  signal?: AbortSignal;
  backoff?: (attempt: number, retryAfterMs?: number) => number;
  now?: () => number;
}

/**
 * Upload each assignment, one inner observable per file so its failure becomes a value.
 * Slots (per target and overall) come from the fleet, so a file waiting for a busy host
 * holds no slot. Transient errors are retried on the same target with backoff; once a
 * target's retries are used up (or it goes down) the file fails over to another. A target
 * that refuses our credentials is out of the run: the file moves on, no retry spent there.
 * A file the run stops before it is sent (signal, fleet given up) ends pending, not failed.
 *
 *   assignments: -a--b--c-------|
 *   results:     ----a'---c'-b'-|   (in completion order)
 */
export function uploadFiles(deps: UploadDeps): OperatorFunction<Assignment, UploadResult> {
  // every file in backoff or waiting for --bwlimit tokens listens on it: more than Node's
  // default of 10 is normal here, and its warning would be a stray non-JSON line on stderr
  if (deps.signal) setMaxListeners(0, deps.signal);
  // no concurrency argument here: the fleet's slots are the limit, and the window bounds how many wait
  return holdsEachFile(mergeMap((a) => {
    if (a.skip) return of(skipped(a));
    if (a.planError !== undefined) return of(unsent(a, a.planError, deps)); // plan() logged it
    if (a.file.invalidName) return of(unsent(a, badName(a, deps), deps));
    if (a.file.error !== undefined) return of(unsent(a, a.file.error, deps)); // listedFiles: missing or refused
    return defer(() => uploadOne(a, deps));
  }));
}

/** A file that is never sent fails with no attempt and no target charged, so the run cannot end `completed`. */
export function unsent(a: Assignment, error: string, { now = Date.now }: Pick<UploadDeps, 'now'> = {}): UploadResult {
  return { file: a.file, target: null, status: 'failed', sha256: null, verified: false, attempts: 0, error, startedAt: null, finishedAt: now() };
}

/** A name that is not valid UTF-8 has no URL a receiver would store under the same bytes. */
function badName(a: Assignment, { logger, batchId }: UploadDeps): string {
  const file = printablePath(a.file.path);
  const error = `file name is not valid UTF-8: ${file} (rename it)`;
  logger.warn('file_error', { event: 'file_error', batchId, file, target: null, attempts: 0, error });
  return error;
}

function skipped(a: Assignment): UploadResult {
  return { file: a.file, target: a.target, status: 'skipped', sha256: a.sha256 ?? null, verified: false, attempts: 0, error: null, startedAt: null, finishedAt: null };
}

export async function uploadOne(a: Assignment, deps: UploadDeps): Promise<UploadResult> {
  const { fleet, uploader, logger, batchId, retries, signal, now = Date.now } = deps;
  const wait = deps.backoff ?? ((n: number, ra?: number) => backoffMs(n, { retryAfterMs: ra }));
  const file = a.file;
  // winston builds and pipes a filtered line before dropping it: per-file lines are asked for first
  const debug = logger.isDebugEnabled();
  const exhausted = new Set<string>();
  const triesOn = new Map<string, number>();
  let preferred = a.target;
  let attempts = 0;
  let startedAt: number | null = null;
  let lastTarget: string | null = a.target;
  let lastError: string | undefined;
  const tries: UploadTry[] = [];
  const result = (status: UploadResult['status'], extra: Partial<UploadResult> = {}): UploadResult => ({
    file, target: lastTarget, status, sha256: null, verified: false, attempts, error: null, startedAt, finishedAt: now(), tries, ...extra,
  });
  const tried = (lease: Lease, at: number, outcome: UploadTry['outcome'], error: string | null = null) =>
    tries.push({ target: lease.target, startedAt: at, finishedAt: now(), outcome, error, limit: lease.limit });

  for (;;) {
    let lease;
    try {
      lease = await fleet.acquire(preferred, exhausted, file.size);
    } catch (err) {
      if (err instanceof FleetStoppedError) return result('pending', { finishedAt: null });
      const error = attempts > 0 ? `${describeError(err)} (last error: ${lastError})` : describeError(err);
      logger.warn('file_error', { event: 'file_error', batchId, file: file.path, target: lastTarget, attempts, error });
      if (lastTarget) fleet.countFailed(lastTarget);
      return result('failed', { error });
    }
    const target = lease.target;
    lastTarget = target;
    const triedAt = now();
    startedAt ??= triedAt;
    attempts++;
    const n = (triesOn.get(target) ?? 0) + 1;
    triesOn.set(target, n);
    if (debug) logger.debug('file_start', { event: 'file_start', batchId, file: file.path, target, attempt: attempts });
    try {
      const out = await uploader.upload(target, file, signal);
      lease.release({ bytes: file.size, dropped: false });
      tried(lease, triedAt, 'uploaded');
      fleet.reportSuccess(target);
      if (debug) logger.debug('file_complete', { event: 'file_complete', batchId, file: file.path, target, bytes: file.size, attempts });
      return result('uploaded', { sha256: out.sha256, verified: out.verified });
    } catch (raw) {
      const err = classifyError(raw);
      // counted before the slot goes back, so no waiter is handed a target this failure marks down
      const hostFault = isHostFault(err);
      if (!signal?.aborted) fleet.reportFailure(target, hostFault);
      if (!signal?.aborted && isCredentialsRefused(err)) fleet.reportRefused(target, err.statusCode as number);
      // a failure that is the host's is a sample for its limit (overload); ours (a 4xx, a
      // file that changed) or an abort says nothing about the host
      lease.release(hostFault && !signal?.aborted ? { bytes: file.size, dropped: true } : undefined);
      lastError = describeError(err);
      // a refused token is the target's, not the file's: the file goes on elsewhere (a retry of sorts)
      tried(lease, triedAt, signal?.aborted ? 'interrupted' : err.transient || isCredentialsRefused(err) ? 'retried' : 'failed', lastError);
      if (signal?.aborted) return result('pending', { finishedAt: null });
      if (isCredentialsRefused(err)) {
        // the token, not the file: any other target may take it (the fleet logged the target once)
        exhausted.add(target);
        preferred = null;
        if (debug) logger.debug('file_retry', { event: 'file_retry', batchId, file: file.path, target, attempt: attempts, error: lastError, delayMs: 0 });
        continue;
      }
      if (!err.transient) {
        logger.warn('file_error', { event: 'file_error', batchId, file: file.path, target, attempts, error: lastError });
        fleet.countFailed(target);
        return result('failed', { error: lastError });
      }
      const failOver = n > retries || !fleet.isUp(target);
      if (failOver) exhausted.add(target); // any other healthy target
      preferred = failOver ? null : target;
      // backoff and Retry-After spare the target that asked for them; another need not wait
      const delay = failOver ? 0 : wait(n, err.retryAfterMs);
      logger.warn('file_retry', { event: 'file_retry', batchId, file: file.path, target, attempt: attempts, error: lastError, delayMs: delay });
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        return result('pending', { finishedAt: null });
      }
    }
  }
}
