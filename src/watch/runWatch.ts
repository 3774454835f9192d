import { createHash } from 'node:crypto';
import { periodic } from '../periodic.js';
import { runStop, whenAborted } from '../runs/runStop.js';
import path from 'node:path';
import {
  EMPTY, Subject, concatMap, defer, filter, finalize, from, lastValueFrom, merge, repeat, takeUntil, tap, timer, type Observable,
} from 'rxjs';
import type { UploadConfig } from '../config.js';
import { describeError } from '../errors.js';
import { Fleet } from '../http/fleet.js';
import type { UploaderOptions } from '../http/uploader.js';
import { fleetOptions, uploaderFor } from '../runs/sendParts.js';
import { silentLogger, type Logger } from '../logger.js';
import { writeInBatches } from '../operators/writeInBatches.js';
import { recordResults } from '../operators/recordResults.js';
import { emptyTally, tallyResults } from '../operators/tallyResults.js';
import { uploadFiles } from '../operators/uploadFiles.js';
import { printablePath } from '../pathBytes.js';
import { claimFiles, type ClaimedAssignment } from '../sources/claimFiles.js';
import { watchFiles } from '../sources/watchFiles.js';
import { claimRows, pendingCount } from '../store/claimQueries.js';
import { openStore } from '../store/openStore.js';
import type { Store } from '../store/types.js';
import { latestRows, openBatches, pendingOfWatch, releaseWatchClaims, renewWatchClaims } from '../store/watchQueries.js';
import type { Tally, UploadResult } from '../types.js';
import { fencedStore } from '../work/fencedStore.js';
import { holdWatch } from './holdWatch.js';
import { planStable } from './planStable.js';
import { RollingBatches } from './rollingBatches.js';

export interface WatchConfig extends UploadConfig {
  /** batches are `<prefix>-<time>`: the watch's registry (default: watch-<hash of the dir>) */
  prefix: string;
  rescanMs: number;
  batchEveryMs: number;
  batchMaxFiles: number;
  /** plan only: `fanout work --follow` elsewhere uploads */
  planOnly: boolean;
  /** how long claims and the watch's heartbeat last unrenewed */
  leaseMs: number;
}

export interface WatchSummary extends Tally {
  prefix: string;
  status: 'interrupted' | 'failed';
  planned: number;
  durationMs: number;
  reason?: string;
}

export interface RunWatchDeps {
  logger?: Logger;
  stop?: AbortSignal;
  abort?: AbortSignal;
  onStart?: (run: { fleet: Fleet; store: Store; config: WatchConfig; pending: () => Promise<{ pending: number; oldestMtimeMs: number | null }> }) => void;
  onTally?: (tally: Tally) => void;
  onResult?: (result: UploadResult) => void;
  dispatcherFor?: UploaderOptions['dispatcherFor'];
}

/** The default prefix: one per watched directory, so two watches on one database keep apart. */
export function defaultPrefix(dir: string): string {
  return `watch-${createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 8)}`;
}

/**
 * `fanout watch`: a live directory into rolling batches, until stopped. Two halves on
 * one store: the planner (watchFiles -> planStable) turns stable, unrecorded files into
 * pending rows; the uploader claims pending rows, oldest batch first, and sends them
 * through the same upload and record stages as `work`. Files wait as rows, not in
 * memory, so slow or absent hosts hold nothing here, and a killed watch loses nothing.
 */
export async function runWatch(config: WatchConfig, deps: RunWatchDeps = {}): Promise<WatchSummary> {
  const logger = deps.logger ?? silentLogger();
  const t0 = Date.now();
  const { prefix } = config;
  const store = await openStore(config, logger, { poolMax: 6 });
  let hold: Awaited<ReturnType<typeof holdWatch>> | undefined;
  try {
    hold = await holdWatch(store.knex, prefix, config.leaseMs);
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  const workerId = hold.id;
  const batches = new RollingBatches(store, {
    prefix, dir: config.dir, targets: config.targets, assign: config.assign, everyMs: config.batchEveryMs, maxFiles: config.batchMaxFiles, logger,
  });
  const released = await releaseWatchClaims(store.knex, prefix, workerId);
  if (hold.takenOver) logger.warn('watch_taken_over', { event: 'watch_taken_over', prefix, from: hold.takenOver, claimsReleased: released });
  await batches.open();

  const fleet = new Fleet(config.targets, { ...fleetOptions(config, logger, prefix), onTargetState: (t, s, at) => batches.noteTarget(t, s, at) });
  const uploader = uploaderFor(config, prefix, deps.dispatcherFor);
  deps.onStart?.({ fleet, store, config, pending: () => pendingOfWatch(store.knex, prefix) });
  logger.info('watch_start', { event: 'watch_start', prefix, dir: config.dir, targets: config.targets, minAgeMs: config.minAgeMs, rescanMs: config.rescanMs, planOnly: config.planOnly });

  // another process took the watch over (hold.lost): stop, as on a signal
  const stopper = runStop({
    graceMs: config.graceMs, stop: deps.stop, abort: deps.abort, lost: hold.lost,
    onStop: () => {
      logger.warn('watch_stopping', { event: 'watch_stopping', prefix, graceMs: config.graceMs });
      fleet.stop();
    },
  });
  // replayed: a pass that starts after the stop ends at once too
  const stopped = whenAborted(stopper.stopped);

  // the planner: stable files -> pending rows (a database away: logged, the next rescan finds them again)
  let planned = 0;
  const plan = planStable({ store, batches, prefix, targets: config.targets, assign: config.assign, logger });
  const planner = watchFiles(config.dir, {
    include: config.include, exclude: config.exclude, ignoreCase: config.ignoreCase, followSymlinks: config.followSymlinks, minAgeMs: config.minAgeMs, rescanMs: config.rescanMs,
    unrecorded: async (files) => {
      const rows = await latestRows(store.knex, prefix, files.map((f) => f.path));
      return files.filter((f) => {
        const r = rows.get(f.path);
        return !r || r.sizeBytes !== f.size || r.mtimeMs !== f.mtimeMs;
      });
    },
    onError: (p, err) => logger.warn('walk_error', { event: 'walk_error', batchId: prefix, file: printablePath(p), error: String(err) }),
    onTrouble: (what, err) => logger.warn('watch_trouble', { event: 'watch_trouble', prefix, what, error: describeError(err) }),
  }).pipe(
    writeInBatches(async (files) => {
      try {
        const n = await plan(files);
        planned += n;
        if (n > 0) logger.debug('watch_planned', { event: 'watch_planned', prefix, batchId: batches.currentId, files: n });
      } catch (err) {
        logger.warn('watch_plan_failed', { event: 'watch_plan_failed', prefix, files: files.length, error: describeError(err) });
      }
      return [];
    }, 500, 100),
  );

  // the uploader: one pass per batch with pending rows, oldest first; between passes, old batches are settled
  const claims = new Map<string, ClaimedAssignment>();
  const lost = new Set<string>();
  const window = Math.max(8, 2 * config.concurrency);
  const pass = (batchId: string): Observable<UploadResult> => {
    const credits = new Subject<number>();
    return claimFiles({
      root: config.dir, window, chunk: Math.max(2, Math.min(window, 4 * config.targets.length)),
      claim: (limit) => claimRows(store.knex, { batchId, workerId, limit, leaseMs: config.leaseMs, targets: config.targets, allTargets: config.targets }),
      remaining: () => pendingCount(store.knex, batchId),
    }, credits).pipe(
      takeUntil(stopped),
      tap((a) => claims.set(a.file.path, a)),
      uploadFiles({ fleet, uploader, logger, batchId, retries: config.retries, signal: stopper.abort }),
      recordResults({
        store: fencedStore(store, { workerId, batchId, logger, tokenOf: (p) => claims.get(p)?.claim, onLost: (p) => lost.add(p) }),
        batchId, processId: config.processId ?? null, logger, dbRetryMs: config.dbRetryMs, signal: stopper.abort,
      }),
      tap((r) => {
        claims.delete(r.file.path);
        credits.next(1);
      }),
      filter((r) => !lost.delete(r.file.path)),
      finalize(() => credits.complete()),
    );
  };
  const nextBatch = async (): Promise<string | undefined> => {
    await batches.settle();
    for (const id of await openBatches(store.knex, prefix)) if ((await pendingCount(store.knex, id)) > 0) return id;
    return undefined;
  };
  const uploads: Observable<UploadResult> = config.planOnly
    ? EMPTY
    : defer(() => from(nextBatch().catch((err) => {
      logger.warn('watch_poll_failed', { event: 'watch_poll_failed', prefix, error: describeError(err) });
      return undefined;
    }))).pipe(
      concatMap((id) => (id === undefined ? timer(500).pipe(concatMap(() => EMPTY)) : pass(id))),
      // after a stop the pass under way lets its uploads finish (within the grace), and no other starts
      repeat({ delay: () => (stopper.interrupted ? EMPTY : timer(0)) }),
    );

  // a batch due to roll while nothing arrives still closes on time
  const roller = periodic(() => batches.rollIfDue(), Math.min(60_000, Math.max(100, Math.floor(config.batchEveryMs / 10))), (err) =>
    logger.warn('watch_roll_failed', { event: 'watch_roll_failed', prefix, error: describeError(err) }));

  // an upload longer than a lease keeps its claim: nobody (a worker, or this watch's next pass) takes it meanwhile
  const renewer = periodic(() => renewWatchClaims(store.knex, prefix, workerId, config.leaseMs), Math.max(50, Math.floor(config.leaseMs / 3)), (err) =>
    logger.warn('claims_renew_failed', { event: 'claims_renew_failed', prefix, error: describeError(err) }));

  let tally = emptyTally(config.targets);
  let failure: unknown;
  try {
    await lastValueFrom(
      merge(planner.pipe(takeUntil(stopped)) as Observable<never>, uploads).pipe(
        tap((r) => deps.onResult?.(r)),
        tallyResults(config.targets),
        tap((t) => {
          tally = t;
          deps.onTally?.(t);
        }),
      ),
      { defaultValue: tally },
    );
  } catch (err) {
    failure = stopper.storeGone(err);
    if (failure) {
      logger.error('watch_failed', { event: 'watch_failed', prefix, error: describeError(err) });
      stopper.cancel();
    }
  } finally {
    await roller.stop();
    await renewer.stop();
    stopper.dispose();
    fleet.stop();
    await (stopper.abort.aborted ? uploader.destroy() : uploader.close());
    await releaseWatchClaims(store.knex, prefix, workerId).catch(() => undefined);
    await batches.stop().catch((err) => logger.error('batch_status_unwritten', { event: 'batch_status_unwritten', prefix, error: describeError(err) }));
    await hold.release().catch(() => undefined);
    await store.close().catch(() => undefined);
  }
  const summary: WatchSummary = {
    prefix, status: failure ? 'failed' : 'interrupted', planned, ...tally, durationMs: Date.now() - t0,
    ...(failure !== undefined && { reason: describeError(failure) }),
  };
  logger.info('watch_complete', { event: 'watch_complete', ...summary });
  return summary;
}
