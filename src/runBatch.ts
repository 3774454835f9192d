import { lastValueFrom, tap } from 'rxjs';
import { endRun, notStarted, startBatchRun, type BatchRun, type RunBatchDeps } from './runs/batchRun.js';
import type { UploadConfig } from './config.js';
import { ConfigError, describeError } from './errors.js';
import { Fleet } from './http/fleet.js';
import { probeTarget } from './http/probeTarget.js';
import { fleetOptions, uploaderFor } from './runs/sendParts.js';
import { silentLogger, type Logger } from './logger.js';
import { addWalkSkip, emptyTally, emptyWalkSkips, tallyResults, withTargetLoads } from './operators/tallyResults.js';
import { distributeResults } from './pipeline.js';
import { fileListLines } from './sources/listedFiles.js';
import { openStore } from './store/openStore.js';
import { sharesClaims } from './store/parseDbUrl.js';
import { holdBatch, type BatchHold } from './runs/batchLease.js';
import { runStop, whenAborted } from './runs/runStop.js';
import { checkResumeDir } from './runs/resumeFromBatch.js';
import { preflight } from './runs/preflight.js';
import type { Store } from './store/types.js';
import { withDbRetry } from './store/withDbRetry.js';
import { joinBatch } from './work/joinBatch.js';
import type { BatchStatus, Summary } from './types.js';

export { openStore, probeTarget };
export type { RunBatchDeps };


/**
 * The whole job with its bookkeeping: checks the batch and process id, writes the batch
 * row, runs the pipeline, handles stop/abort, and writes the batch's final status.
 * Configuration problems throw ConfigError before anything is written.
 */
export async function runBatch(config: UploadConfig, deps: RunBatchDeps = {}): Promise<Summary> {
  // a shared store: a resume is one more worker of the batch, so runs started together share it
  if (config.resume && sharesClaims(config.db)) return joinBatch(config, deps);
  const logger = deps.logger ?? silentLogger();
  const t0 = Date.now();
  const { batchId } = config;
  const { store, checked } = await preflight(config, deps.store, logger, async (store) => {
    let auditFormId: number | null = null;
    if (config.processId !== undefined) {
      const proc = await store.lookupProcess(config.processId);
      if (!proc) throw new ConfigError(`unknown --process-id ${config.processId}`);
      auditFormId = proc.auditFormId;
    }
    const existing = await store.getBatch(batchId);
    if (config.resume && !existing) throw new ConfigError(`no batch "${batchId}" to resume`);
    if (!config.resume && existing) throw new ConfigError(`batch "${batchId}" already exists: add --resume to continue it`);
    if (!existing) return { existing, auditFormId, hold: undefined };
    // one run of a batch at a time: a second one refuses, naming the first
    checkResumeDir(existing, config.dir);
    return { existing, auditFormId, hold: await holdBatch(store, batchId, { logger }) };
  });
  const { existing, auditFormId } = checked;
  let hold: BatchHold | undefined = checked.hold;
  if (deps.stop?.aborted || deps.abort?.aborted) {
    await hold?.release();
    if (!deps.store) await store.close().catch(() => undefined);
    return notStarted(config, t0, logger);
  }
  let run: BatchRun | undefined;
  try {
    const zero = { total: 0, uploaded: 0, failed: 0, skipped: 0, bytes: 0, finishedAt: null };
    if (existing) await store.updateBatch(batchId, { status: 'running', ...zero });
    else await store.createBatch({ id: batchId, sourceDir: config.dir, targets: config.targets, assign: config.assign, status: 'running', ...zero, startedAt: t0 });
    hold ??= await holdBatch(store, batchId, { logger });
    run = await startBatchRun(store, batchId, logger);
    logger.info('batch_start', { event: 'batch_start', batchId, dir: config.dir, targets: config.targets, assign: config.assign, resume: config.resume, concurrency: config.concurrency, perTarget: config.perTarget });
    if (hold.takenOver) logger.warn('batch_lease_taken_over', { event: 'batch_lease_taken_over', batchId, from: hold.takenOver, why: 'its process is gone' });

    const fleet = new Fleet(config.targets, {
      ...fleetOptions(config, logger, batchId), maxWaitMs: config.maxWaitMs, onGiveUp: (reason) => stopEarly(reason), onTargetState: run.noteTarget,
    });
    const uploader = uploaderFor(config, batchId, deps.dispatcherFor);
    deps.onStart?.({ fleet, batchId, config, store });

    // another run took the batch over (this one stalled past its lease): stop taking files, as on a signal
    const stopper = runStop({
      graceMs: config.graceMs, stop: deps.stop, abort: deps.abort, lost: hold.lost,
      onStop: () => {
        logger.warn('batch_stopping', { event: 'batch_stopping', batchId, graceMs: config.graceMs });
        fleet.stop();
      },
    });
    // the run cannot usefully go on (no target, no credentials, --max-errors): like a first
    // signal, in-flight uploads finish and the rest stay pending, but the batch ends failed
    function stopEarly(reason: string) {
      if (!stopper.stopEarly(reason)) return;
      logger.error('batch_stopped', { event: 'batch_stopped', batchId, reason });
      fleet.stop();
    }

    // every tally counts recorded results only: when the stream fails, the last one seen
    // is what the database holds
    let tally = emptyTally(config.targets);
    const walkSkips = emptyWalkSkips();
    let missing = 0;
    let storeError: unknown;
    try {
      await lastValueFrom(
        distributeResults(
          {
            ...config, auditFormId, processId: config.processId ?? null, window: Math.max(1024, 4 * config.concurrency),
            files: config.filesFrom === undefined ? undefined : fileListLines(config.filesFrom, deps.stdin),
          },
          { store, fleet, uploader, logger, stop$: whenAborted(stopper.stopped), signal: stopper.abort, onSkip: (reason) => addWalkSkip(walkSkips, reason) },
        ).pipe(tap((r) => deps.onResult?.(r)), tallyResults(config.targets), tap((t) => {
          tally = t;
          deps.onTally?.(t);
          if (config.maxErrors !== undefined && t.failed >= config.maxErrors) stopEarly(`stopped after ${config.maxErrors} failed files (--max-errors)`);
        })),
        { defaultValue: tally },
      );
      // the walk ran to its end and every file it found has its outcome: a row still pending is a file gone
      // (a file list names only some files: a row it leaves out is not gone)
      if (config.resume && !stopper.interrupted && stopper.reason === undefined && config.filesFrom === undefined) missing = await settleMissing(store, config, logger, stopper.abort);
    } catch (err) {
      // a wait for the database cut short by the second signal (or the end of the grace period)
      storeError = stopper.storeGone(err);
      if (storeError) {
        logger.error('batch_failed', { event: 'batch_failed', batchId, error: describeError(err) });
        // nothing more can be recorded: uploads in flight are abandoned (resumed later)
        stopper.cancel();
      }
    } finally {
      stopper.dispose();
      // files still waiting for a slot end pending, quietly (not "every target is down")
      fleet.stop();
      await (stopper.abort.aborted ? uploader.destroy() : uploader.close());
    }

    const { uploaded, skipped, bytes, targets } = tally;
    const total = tally.total + missing;
    const failed = tally.failed + missing;
    const reason = storeError ? describeError(storeError) : stopper.reason;
    const status: BatchStatus = reason !== undefined ? 'failed' : stopper.interrupted ? 'interrupted' : failed > 0 ? 'completed_with_failures' : 'completed';
    const summary: Summary = {
      batchId, status, total, uploaded, failed, skipped, pending: total - uploaded - failed - skipped, bytes, durationMs: Date.now() - t0,
      targets: withTargetLoads(targets, fleet.snapshot()),
      ...walkSkips, // left out by the walker: not in total
      ...(reason !== undefined && { reason }),
    };
    await store
      .updateBatch(batchId, { status, total: summary.total, uploaded: summary.uploaded, failed: summary.failed, skipped: summary.skipped, bytes: summary.bytes, finishedAt: Date.now() })
      .catch((err) => logger.error('batch_status_unwritten', { event: 'batch_status_unwritten', batchId, error: describeError(err) }));
    await endRun(run, store, summary, config.report, logger);
    return summary;
  } catch (err) {
    await run?.finish('failed', emptyTally(config.targets)); // what was recorded is in the file rows
    throw err;
  } finally {
    await hold?.release();
    if (!deps.store) await store.close().catch(() => undefined);
  }
}

/** On --resume after a whole walk: settle the rows of files that are gone, and say how many. */
async function settleMissing(store: Store, config: UploadConfig, logger: Logger, signal: AbortSignal): Promise<number> {
  const error = `missing at resume: not found under ${config.dir}`;
  const n = await withDbRetry(() => store.settleMissing(config.batchId, error), { retryMs: config.dbRetryMs, logger, what: 'settle', signal });
  if (n > 0) logger.warn('files_missing', { event: 'files_missing', batchId: config.batchId, dir: config.dir, count: n });
  return n;
}
