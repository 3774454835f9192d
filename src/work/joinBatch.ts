import { ConfigError, describeError } from '../errors.js';
import type { Fleet } from '../http/fleet.js';
import { silentLogger, type Logger } from '../logger.js';
import { addWalkSkip, emptyTally, emptyWalkSkips, withTargetLoads } from '../operators/tallyResults.js';
import { BATCH_LEASE_MS, joinableBatch } from '../runs/batchLease.js';
import { endRun, notStarted, startBatchRun, type BatchRun, type RunBatchDeps } from '../runs/batchRun.js';
import { planBatch } from '../runs/planBatch.js';
import { deadOnThisHost } from '../runs/processAlive.js';
import { checkResumeDir } from '../runs/resumeFromBatch.js';
import { preflight } from '../runs/preflight.js';
import { fileListLines } from '../sources/listedFiles.js';
import type { Store } from '../store/types.js';
import { listWorkers, liveWorkers, pruneWorkers } from '../store/workerQueries.js';
import type { UploadConfig } from '../config.js';
import type { BatchStatus, Summary } from '../types.js';
import { runWorker, type WorkSummary } from './runWorker.js';

/**
 * `upload --resume` on a store several processes share (MySQL/MariaDB): the run joins the
 * batch as one more worker instead of holding it alone. It plans (the walk adds files new
 * to the batch, and queues again failed ones and uploaded ones whose file changed), then
 * claims and uploads pending rows like `fanout work` until none is left. A second resume
 * started beside it finds the plan made and claims what is left: no file is sent twice.
 * A fresh `upload` (which holds the batch's lease and claims nothing) is not joined: the
 * resume refuses, naming it.
 *
 * The summary speaks for the batch as this run leaves it: `uploaded` (and `bytes`,
 * `targets`) are what this run sent, `skipped` what was uploaded by others (before it or
 * beside it), `failed` and `pending` the batch's rows in those states.
 */
export async function joinBatch(config: UploadConfig, deps: RunBatchDeps = {}): Promise<Summary> {
  const logger = deps.logger ?? silentLogger();
  const t0 = Date.now();
  const { batchId } = config;
  const { store, checked } = await preflight(config, deps.store, logger, async (store) => {
    if (config.processId !== undefined && !(await store.lookupProcess(config.processId))) throw new ConfigError(`unknown --process-id ${config.processId}`);
    const existing = await store.getBatch(batchId);
    if (!existing) throw new ConfigError(`no batch "${batchId}" to resume`);
    checkResumeDir(existing, config.dir);
    const takenOver = await joinableBatch(store, batchId);
    // a run killed on this host gives its claims back now, not once its lease runs out
    const gone = (await listWorkers(store.knex, batchId)).filter((w) => w.stoppedAt === null && deadOnThisHost(w.host, w.pid));
    return { takenOver, pruned: await pruneWorkers(store.knex, batchId, gone.map((w) => w.id)) };
  });
  const { takenOver, pruned } = checked;
  const close = async () => {
    if (!deps.store) await store.close().catch(() => undefined);
  };
  if (deps.stop?.aborted || deps.abort?.aborted) {
    await close();
    return notStarted(config, t0, logger);
  }
  let run: BatchRun | undefined;
  try {
    await store.knex('batches').where({ id: batchId }).update({ status: 'running', finished_at: null });
    run = await startBatchRun(store, batchId, logger);
    logger.info('batch_start', { event: 'batch_start', batchId, dir: config.dir, targets: config.targets, assign: config.assign, resume: true, joined: true, concurrency: config.concurrency, perTarget: config.perTarget });
    if (takenOver) logger.warn('batch_lease_taken_over', { event: 'batch_lease_taken_over', batchId, from: takenOver, why: 'its process is gone' });
    for (const id of pruned) logger.warn('worker_pruned', { event: 'worker_pruned', batchId, worker: id, why: 'its process is gone' });

    const walkSkips = emptyWalkSkips();
    const plan = await planBatch(config, logger, {
      store, requeue: true, signal: deps.stop, onSkip: (reason) => addWalkSkip(walkSkips, reason),
      files: config.filesFrom === undefined ? undefined : fileListLines(config.filesFrom, deps.stdin),
    });
    logger.info('batch_planned', { event: 'batch_planned', ...plan });

    let fleet: Fleet | undefined;
    const r = run;
    const missingError = `missing at resume: not found under ${config.dir}`;
    const w = await runWorker({ ...config, leaseMs: BATCH_LEASE_MS, follow: false, missingError }, {
      logger, stop: deps.stop, abort: deps.abort, dispatcherFor: deps.dispatcherFor, onTally: deps.onTally, onResult: deps.onResult, onTargetState: r.noteTarget,
      onStart: (started) => {
        fleet = started.fleet;
        deps.onStart?.({ fleet: started.fleet, batchId, config, store: started.store });
      },
    });
    const summary = await summarise(store, config, w, fleet, t0, walkSkips, logger);
    const missing = await store.knex('file_distributions').where({ batch_id: batchId, status: 'failed', error: missingError }).first(store.knex.raw('count(*) as n')).then((r: { n?: unknown } | undefined) => Number(r?.n ?? 0), () => 0);
    if (missing > 0) logger.warn('files_missing', { event: 'files_missing', batchId, dir: config.dir, count: missing });
    await endRun(run, store, summary, config.report, logger);
    return summary;
  } catch (err) {
    await run?.finish('failed', emptyTally(config.targets));
    throw err;
  } finally {
    await close();
  }
}

/** This run's outcomes against the batch's rows; the last run out of a stopped batch writes its end. */
async function summarise(store: Store, config: UploadConfig, w: WorkSummary, fleet: Fleet | undefined, t0: number, walkSkips: ReturnType<typeof emptyWalkSkips>, logger: Logger): Promise<Summary> {
  const { batchId } = config;
  // the database away: what this run recorded is all it can say
  const rows = await store.countFiles(batchId).catch(() => ({ total: w.total, uploaded: w.uploaded, failed: w.failed, pending: 0, bytes: w.bytes }));
  const status: BatchStatus = w.status === 'completed' || w.status === 'completed_with_failures' ? (rows.failed > 0 ? 'completed_with_failures' : 'completed') : w.status;
  const summary: Summary = {
    batchId, status, total: rows.total, uploaded: w.uploaded, failed: rows.failed, skipped: Math.max(0, rows.uploaded - w.uploaded), pending: rows.pending,
    bytes: w.bytes, durationMs: Date.now() - t0, targets: withTargetLoads(w.targets, fleet?.snapshot() ?? []), ...walkSkips,
    ...(w.reason !== undefined && { reason: w.reason }),
  };
  // the batch row keeps the last run's counts, as after a resume that ran alone; a run that
  // stopped early leaves it to the others still at the batch
  const writeEnd = status === 'completed' || status === 'completed_with_failures' || (await liveWorkers(store.knex, batchId, BATCH_LEASE_MS).catch(() => undefined))?.length === 0;
  if (writeEnd) {
    await store.updateBatch(batchId, { status, total: summary.total, uploaded: summary.uploaded, failed: summary.failed, skipped: summary.skipped, bytes: summary.bytes, finishedAt: Date.now() })
      .catch((err) => logger.error('batch_status_unwritten', { event: 'batch_status_unwritten', batchId, error: describeError(err) }));
  }
  return summary;
}
