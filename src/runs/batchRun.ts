import os from 'node:os';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { writeReport } from '../report/writeReport.js';
import type { UploadConfig } from '../config.js';
import { emptyTally, emptyWalkSkips } from '../operators/tallyResults.js';
import type { Readable } from 'node:stream';
import type { Fleet } from '../http/fleet.js';
import type { UploaderOptions } from '../http/uploader.js';
import type { Store, TargetEventRow } from '../store/types.js';
import type { BatchStatus, Summary, Tally, UploadResult } from '../types.js';

/** What a caller of runBatch (or a joining resume) may hand it besides the config. */
export interface RunBatchDeps {
  logger?: Logger;
  /** an open store; created from config.db (and closed after) when absent */
  store?: Store;
  /** first signal: stop taking files, let in-flight uploads finish within graceMs */
  stop?: AbortSignal;
  /** second signal: abort in-flight uploads now */
  abort?: AbortSignal;
  /** sees the fleet once it exists (progress displays) and every running tally */
  onStart?: (run: { fleet: Fleet; batchId: string; config: UploadConfig; store: Store }) => void;
  onTally?: (tally: Tally) => void;
  /** every result once recorded (metrics: its tries give the retries and the upload's duration) */
  onResult?: (result: UploadResult) => void;
  /** where `--files-from -` reads its list (default process.stdin) */
  stdin?: Readable;
  /** the HTTP dispatcher per target origin (tests inject undici's MockAgent); default: a Pool each */
  dispatcherFor?: UploaderOptions['dispatcherFor'];
}


export interface BatchRun {
  /** a target went down or came back up (Fleet's onTargetState): kept, and written in batches */
  noteTarget(target: string, state: 'down' | 'up', at: number): void;
  /** close the run's row with how it ended; a database that cannot take it is logged, not thrown */
  finish(status: BatchStatus, counts: Pick<Tally, 'total' | 'uploaded' | 'failed' | 'skipped' | 'bytes'>): Promise<void>;
}

const EVENTS_PER_WRITE = 50;

/**
 * One run of a batch in `batch_runs`: written as the run starts (this host and process,
 * status running), closed at its end. A batch resumed three times has four rows, so its
 * history adds up; a row left `running` with no end is a run whose process died.
 */
export async function startBatchRun(store: Store, batchId: string, logger: Logger): Promise<BatchRun> {
  const id = await store.startRun({
    batchId, startedAt: Date.now(), finishedAt: null, host: os.hostname(), pid: process.pid, status: 'running',
    total: 0, uploaded: 0, failed: 0, skipped: 0, bytes: 0,
  });
  let finished = false;
  let events: TargetEventRow[] = [];
  // a few rows a run (a target flapping every probe is still a handful a minute): written
  // every EVENTS_PER_WRITE and at the end, off the upload path, a failure only logged
  const flush = async () => {
    const part = events;
    events = [];
    if (part.length > 0) {
      await store.recordTargetEvents(part)
        .catch((err) => logger.error('target_events_unrecorded', { event: 'target_events_unrecorded', batchId, count: part.length, error: describeError(err) }));
    }
  };
  let writing = Promise.resolve();
  return {
    noteTarget(target, state, at) {
      events.push({ batchId, target, state, at });
      if (events.length >= EVENTS_PER_WRITE) writing = writing.then(flush);
    },
    async finish(status, { total, uploaded, failed, skipped, bytes }) {
      if (finished) return;
      finished = true;
      await (writing = writing.then(flush));
      await store.finishRun(id, { status, total, uploaded, failed, skipped, bytes, finishedAt: Date.now() })
        .catch((err) => logger.error('run_unrecorded', { event: 'run_unrecorded', batchId, run: id, error: describeError(err) }));
    },
  };
}

/**
 * Stopped during preflight: the batch is not started, so nothing is walked or written
 * (not even the batch row; an existing one, on --resume, is left as it was).
 */
export function notStarted(config: Pick<UploadConfig, 'batchId' | 'targets'>, t0: number, logger: Logger): Summary {
  logger.warn('batch_not_started', { event: 'batch_not_started', batchId: config.batchId, reason: 'stopped during preflight' });
  return { batchId: config.batchId, status: 'interrupted', ...emptyTally(config.targets), pending: 0, durationMs: Date.now() - t0, ...emptyWalkSkips() };
}

/**
 * A run's end, once its batch row is written: the run's own row, `batch_complete`, and the
 * report when asked (the batch is done and recorded: a report that cannot be written is
 * logged, not fatal).
 */
export async function endRun(run: BatchRun, store: Store, summary: Summary, report: string | undefined, logger: Logger): Promise<void> {
  const { batchId } = summary;
  await run.finish(summary.status, summary);
  logger.info('batch_complete', { event: 'batch_complete', ...summary });
  if (report === undefined) return;
  await writeReport(store, batchId, report).then(
    () => logger.info('report_written', { event: 'report_written', batchId, file: report }),
    (err) => logger.error('report_failed', { event: 'report_failed', batchId, file: report, error: describeError(err) }),
  );
}
