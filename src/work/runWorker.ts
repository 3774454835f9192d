import { existsSync } from 'node:fs';
import path from 'node:path';
import { Subject, filter, finalize, lastValueFrom, takeUntil, tap } from 'rxjs';
import type { UploadConfig } from '../config.js';
import { periodic } from '../periodic.js';
import { runStop, whenAborted } from '../runs/runStop.js';
import { ConfigError, describeError } from '../errors.js';
import type { UploaderOptions } from '../http/uploader.js';
import { fleetOptions, uploaderFor } from '../runs/sendParts.js';
import { silentLogger, type Logger } from '../logger.js';
import { recordResults } from '../operators/recordResults.js';
import { emptyTally, tallyResults } from '../operators/tallyResults.js';
import { uploadFiles } from '../operators/uploadFiles.js';
import { thisProcess } from '../runs/processAlive.js';
import { claimFiles, type ClaimedAssignment } from '../sources/claimFiles.js';
import { readBatchLease } from '../store/batchLeaseQueries.js';
import { claimRows, pendingCount, releaseClaims } from '../store/claimQueries.js';
import { openStore } from '../store/openStore.js';
import { sharesClaims } from '../store/parseDbUrl.js';
import { pendingOfWatch } from '../store/watchQueries.js';
import { ensureTargetLeases } from '../store/targetLeaseQueries.js';
import type { Store } from '../store/types.js';
import { withDbRetry } from '../store/withDbRetry.js';
import { registerWorker, stopWorker } from '../store/workerQueries.js';
import type { Tally, UploadResult } from '../types.js';
import { followWatch, type WorkPass, type WorkPassOptions } from './followWatch.js';
import { fencedStore } from './fencedStore.js';
import { HeldFleet } from './heldFleet.js';
import { rateMeter } from '../progress/rateMeter.js';
import { ClaimTimes } from './claimTimes.js';
import { TargetShare } from './targetShare.js';

export const WORK_NEEDS_MYSQL = '`fanout work` needs MySQL/MariaDB (--db mysql://…): a SQLite file is one machine\'s store, not one several machines can share; use `fanout upload --resume` there';

export interface WorkConfig extends UploadConfig {
  /** how long a claim, a target and a heartbeat last without renewal */
  leaseMs: number;
  follow: boolean;
  /** the error a file missing under the root is settled with (default: not found under --root DIR) */
  missingError?: string;
  /** work a watch's batches (`<prefix>-<time>`) in place of the one `batchId`, moving on as they roll */
  prefix?: string;
}

export interface WorkSummary extends WorkPass {
  /** the batch; following a watch, the last one worked */
  batchId: string;
  /** following a watch: its prefix, and the batches worked, in order */
  prefix?: string;
  batches?: string[];
  durationMs: number;
  /** why the worker stopped early (status failed): the database stayed away, no target answered, --max-errors */
  reason?: string;
}

export interface RunWorkerDeps {
  logger?: Logger;
  stop?: AbortSignal;
  abort?: AbortSignal;
  dispatcherFor?: UploaderOptions['dispatcherFor'];
  /** metrics: the fleet and the queue once they exist, every running tally, every recorded result */
  onStart?: (run: { fleet: HeldFleet; store: Store; config: WorkConfig; pending: () => Promise<{ pending: number; oldestMtimeMs: number | null }> }) => void;
  onTally?: (tally: Tally) => void;
  onResult?: (result: UploadResult) => void;
  /** a target went down or came back up (the run's history) */
  onTargetState?: (target: string, state: 'down' | 'up', at: number) => void;
}

/**
 * `fanout work`: one worker of a planned batch. Registers, takes its share of the targets,
 * claims pending rows and sends them through the same upload and record stages as
 * `upload` (the claimed rows are the source in place of the walker), and ends once the
 * batch has nothing pending (or keeps polling with `follow`). With a `prefix`, a worker of
 * a watch: one such pass per batch of the watch, moving on as they roll (followWatch).
 */
export async function runWorker(config: WorkConfig, deps: RunWorkerDeps = {}): Promise<WorkSummary> {
  const logger = deps.logger ?? silentLogger();
  const t0 = Date.now();
  if (!sharesClaims(config.db)) throw new ConfigError(WORK_NEEDS_MYSQL);
  const store = await openStore(config, logger, { poolMax: 6 });
  try {
    if (config.prefix !== undefined) {
      const prefix = config.prefix;
      let checked: { auditFormId: number | null; rootChecked: boolean } | undefined;
      const followed = await followWatch(store.knex, {
        prefix, targets: config.targets, follow: config.follow, stop: deps.stop, logger, retry: { retryMs: config.dbRetryMs, logger, signal: deps.abort },
        settle: (batchId) => settleBatch(store, batchId),
        pass: async (batchId, pass) => {
          // --root is checked against the first batch with files to check it against (a wrong one: exit 2, nothing sent)
          if (!checked?.rootChecked) checked = await preflight(store, { ...config, batchId });
          return workBatch(store, { ...config, batchId }, { ...deps, logger, auditFormId: checked.auditFormId, pending: () => pendingOfWatch(store.knex, prefix) }, pass);
        },
      });
      const summary: WorkSummary = { batchId: followed.batches.at(-1) ?? prefix, prefix, batches: followed.batches, ...followed.pass, durationMs: Date.now() - t0 };
      logger.info('worker_follow_complete', { event: 'worker_follow_complete', ...summary });
      return summary;
    }
    const { auditFormId } = await preflight(store, config);
    const pass = await workBatch(store, config, { ...deps, logger, auditFormId, pending: () => pendingOfBatch(store, config.batchId) }, { follow: config.follow, from: emptyTally(config.targets), settle: true });
    return { batchId: config.batchId, ...pass, durationMs: Date.now() - t0 };
  } finally {
    await store.close().catch(() => undefined);
  }
}

/**
 * One worker's pass over one batch: registers (a fresh worker id), takes its share of the
 * targets, claims and uploads until the batch has nothing pending and `follow` says no
 * more may come (or a stop), then gives everything back and, if `settle` says so and
 * nothing is pending, writes the batch's end.
 */
async function workBatch(
  store: Store,
  config: WorkConfig,
  deps: RunWorkerDeps & { logger: Logger; auditFormId: number | null; pending: () => Promise<{ pending: number; oldestMtimeMs: number | null }> },
  opts: WorkPassOptions,
): Promise<WorkPass> {
  const { logger, auditFormId } = deps;
  const t0 = Date.now();
  const { batchId } = config;
  const me = thisProcess();
  let share: TargetShare | undefined;
  try {
    await registerWorker(store.knex, batchId, me);
    await ensureTargetLeases(store.knex, batchId, config.targets);
    const claims = new Map<string, ClaimedAssignment>();
    const lost = new Set<string>();
    const inFlight = (t: string): number => [...claims.values()].filter((a) => a.target === t).length + (fleet.snapshot().find((x) => x.target === t)?.inFlight ?? 0);
    share = new TargetShare(store.knex, { batchId, workerId: me.id, targets: config.targets, leaseMs: config.leaseMs, logger, inFlight });
    const s: TargetShare = share;
    const fleet: HeldFleet = new HeldFleet(config.targets, () => s.held, () => s.closing, {
      ...fleetOptions(config, logger, batchId), maxWaitMs: config.maxWaitMs, onGiveUp: (reason) => stopEarly(reason), onTargetState: deps.onTargetState,
    });
    await s.tick();
    deps.onStart?.({ fleet, store, config, pending: deps.pending });
    logger.info('worker_start', { event: 'worker_start', batchId, worker: me.id, host: me.host, pid: me.pid, root: config.dir, targets: [...s.held], leaseMs: config.leaseMs });
    const uploader = uploaderFor(config, batchId, deps.dispatcherFor);
    // heartbeat, renewals and the targets' fair share: a third of the lease, and at least every
    // 2 s so that a worker that joins is handed its targets in seconds, not lease/3 twice over
    // (the holder marks one closing on a tick, hands it over on a later one once idle there)
    const ticker = periodic(() => s.tick(), Math.max(50, Math.min(TICK_MAX_MS, Math.floor(config.leaseMs / 3))), (err) =>
      logger.warn('worker_tick_failed', { event: 'worker_tick_failed', batchId, error: describeError(err) }));

    const stopper = runStop({
      graceMs: config.graceMs, stop: deps.stop, abort: deps.abort,
      onStop: () => {
        logger.warn('worker_stopping', { event: 'worker_stopping', batchId, graceMs: config.graceMs });
        fleet.stop();
      },
    });

    // the worker cannot usefully go on (no target answered, --max-errors): like a first signal,
    // files in flight finish and the rest stay pending, but it ends failed
    function stopEarly(reason: string) {
      if (!stopper.stopEarly(reason)) return;
      logger.error('worker_stopped', { event: 'worker_stopped', batchId, reason });
      fleet.stop();
    }

    const credits = new Subject<number>();
    const window = claimWindow(config, () => s.open().length);
    const retry = { retryMs: config.dbRetryMs, logger, signal: stopper.abort };
    const follow = opts.follow;
    let tally = opts.from;
    const claimTimes = new ClaimTimes();
    const onRowsLocked = process.env.FANOUT_CLAIM_LOCKS === '1' ? (n: number) => claimTimes.addLocked(n) : undefined;
    let failed: unknown;
    try {
      await lastValueFrom(
        claimFiles({
          root: config.dir, window: window.size, missing: config.missingError,
          follow: typeof follow === 'function' ? () => withDbRetry(follow, { ...retry, what: 'read' }) : follow,
          claim: (limit) => withDbRetry(() => timedClaim(claimTimes, () => claimRows(store.knex, {
            batchId, workerId: me.id, limit, leaseMs: config.leaseMs, targets: s.open(), allTargets: config.targets, onRowsLocked,
          })), { ...retry, what: 'claim' }),
          remaining: () => withDbRetry(() => pendingCount(store.knex, batchId), { ...retry, what: 'read' }),
        }, credits).pipe(
          takeUntil(whenAborted(stopper.stopped)),
          tap((a) => claims.set(a.file.path, a)),
          uploadFiles({ fleet, uploader, logger, batchId, retries: config.retries, signal: stopper.abort }),
          recordResults({
            store: fencedStore(store, { workerId: me.id, batchId, logger, tokenOf: (p) => claims.get(p)?.claim, onLost: (p) => lost.add(p) }),
            batchId, processId: config.processId ?? null, auditFormId, logger, dbRetryMs: config.dbRetryMs, signal: stopper.abort,
          }),
          tap((r) => {
            claims.delete(r.file.path);
            window.done();
            credits.next(1);
          }),
          filter((r) => !lost.has(r.file.path)),
          tap((r) => deps.onResult?.(r)),
          tallyResults(config.targets, opts.from),
          tap((t) => {
            tally = t;
            deps.onTally?.(t);
            if (config.maxErrors !== undefined && t.failed >= config.maxErrors) stopEarly(`stopped after ${config.maxErrors} failed files (--max-errors)`);
          }),
          finalize(() => credits.complete()),
        ),
        { defaultValue: tally },
      );
    } catch (err) {
      failed = stopper.storeGone(err);
      logger.error('worker_failed', { event: 'worker_failed', batchId, error: describeError(err) });
      stopper.cancel();
    } finally {
      stopper.dispose();
      await ticker.stop();
      fleet.stop();
      await (stopper.abort.aborted ? uploader.destroy() : uploader.close());
    }
    const reason = failed !== undefined ? describeError(failed) : stopper.reason;
    const status = reason !== undefined ? 'failed' : stopper.interrupted ? 'interrupted' : tally.failed > 0 ? 'completed_with_failures' : 'completed';
    const pass: WorkPass = { worker: me.id, status, ...tally, lost: lost.size, ...(reason !== undefined && { reason }) };
    logger.info('worker_complete', { event: 'worker_complete', batchId, ...pass, durationMs: Date.now() - t0, claims: claimTimes.summary() });
    return pass;
  } finally {
    // a clean stop gives everything back at once; a crash leaves it to expire and be pruned
    await releaseClaims(store.knex, batchId, me.id).catch(() => undefined);
    await share?.releaseAll().catch(() => undefined);
    await stopWorker(store.knex, me.id).catch(() => undefined);
    if (opts.settle === true || (opts.settle !== false && (await opts.settle().catch(() => false)))) await settleBatch(store, batchId).catch(() => undefined);
  }
}

/** the longest between a worker's ticks (see the ticker) */
const TICK_MAX_MS = 2000;

/** a worker holds at most this many claimed files (its own: others cannot take them until it lets go) */
const MAX_WINDOW = 1024;
/** and about this much of its own pace ahead */
const AHEAD_MS = 2000;

/**
 * How many claimed files a worker keeps out (claimed, not yet recorded): twice what its
 * targets can have in flight, plus ~2 s of its recent pace. Outcomes are recorded in
 * batches (every 100 ms or so), so a window of only what is in flight idles the uploads
 * while the records catch up (measured: 10,000 x 64 KiB on loopback with a window of 16,
 * 63 s against `fanout upload`'s 3.4 s); a window far beyond the pace holds files another
 * worker could send, which at the end of a batch is time lost (1 MiB files at 12 MB/s:
 * 1,024 files are a minute and a half).
 */
function claimWindow(config: WorkConfig, heldTargets: () => number): { size: () => number; done: () => void } {
  const pace = rateMeter(5_000);
  let finished = 0;
  return {
    size: () => {
      const slots = Math.min(config.concurrency, config.perTarget * Math.max(1, heldTargets()));
      const perSec = pace.sample(performance.now(), finished, 0).filesPerSec;
      return Math.max(4, Math.min(MAX_WINDOW, 2 * slots + Math.ceil((perSec * AHEAD_MS) / 1000)));
    },
    done: () => {
      finished++;
    },
  };
}

/** One claim transaction, timed: its wall time and the rows it took go into `times`. */
async function timedClaim<T extends unknown[]>(times: ClaimTimes, claim: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const rows = await claim();
  times.add(performance.now() - t0, rows.length);
  return rows;
}

/**
 * Before anything is claimed: a batch that exists, no `upload` holding it, a root that
 * holds its files, a known --process-id. Resolves to the process's audit form id, and
 * whether the batch had pending files to check the root against.
 */
async function preflight(store: Store, config: WorkConfig): Promise<{ auditFormId: number | null; rootChecked: boolean }> {
  let auditFormId: number | null = null;
  if (config.processId !== undefined) {
    const proc = await store.lookupProcess(config.processId);
    if (!proc) throw new ConfigError(`unknown --process-id ${config.processId}`);
    auditFormId = proc.auditFormId;
  }
  const batch = await store.getBatch(config.batchId);
  if (!batch) throw new ConfigError(`no batch "${config.batchId}": plan it first (fanout plan <dir> --batch-id ${config.batchId} …)`);
  const lease = await readBatchLease(store.knex, config.batchId);
  if (lease?.holder && (lease.expiresAt ?? 0) > Date.now()) {
    throw new ConfigError(`batch "${config.batchId}" is being run by \`fanout upload\` on ${lease.host} pid ${lease.pid} (its lease ends ${new Date(lease.expiresAt ?? 0).toISOString()}): not joining it`);
  }
  const sample = (await store.knex('file_distributions').where({ batch_id: config.batchId, status: 'pending' }).orderBy('id').limit(20).pluck('file_path')) as string[];
  if (sample.length > 0 && !sample.some((p) => existsSync(path.join(config.dir, ...p.split('/'))))) {
    throw new ConfigError(`--root "${config.dir}" does not hold the batch's files (no "${sample[0]}" under it): check where this machine mounts the tree`);
  }
  return { auditFormId, rootChecked: sample.length > 0 };
}

/** The last worker out writes the batch's end: counts across every worker. */
export async function settleBatch(store: Store, batchId: string): Promise<void> {
  if ((await pendingCount(store.knex, batchId)) > 0) return;
  const c = await store.countFiles(batchId);
  await store.updateBatch(batchId, {
    status: c.failed > 0 ? 'completed_with_failures' : 'completed', total: c.total, uploaded: c.uploaded, failed: c.failed, skipped: 0, bytes: c.bytes, finishedAt: Date.now(),
  });
}

/** The batch's queue for metrics: rows waiting and the oldest waiting file's mtime. */
async function pendingOfBatch(store: Store, batchId: string): Promise<{ pending: number; oldestMtimeMs: number | null }> {
  const r = (await store.knex('file_distributions').where({ batch_id: batchId, status: 'pending' })
    .first(store.knex.raw('count(*) as n'), store.knex.raw('min(mtime_ms) as oldest'))) as { n: unknown; oldest: unknown } | undefined;
  return { pending: Number(r?.n ?? 0), oldestMtimeMs: r?.oldest === null || r?.oldest === undefined ? null : Number(r.oldest) };
}
