import type { OperatorFunction } from 'rxjs';
import { writeInBatches } from './writeInBatches.js';
import { writeRefusing } from './writeRefusing.js';
import { StoreUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import { describeDbError } from '../store/describeDbError.js';
import type { AttemptRow, CallRow, FileRow, Store } from '../store/types.js';
import { withDbRetry } from '../store/withDbRetry.js';
import type { UploadResult } from '../types.js';

export interface RecordDeps {
  store: Pick<Store, 'recordOutcomes'>;
  batchId: string;
  processId?: number | null;
  auditFormId?: number | null;
  logger?: Logger;
  dbRetryMs?: number;
  /** ends a wait for the database at once (the run is interrupted) */
  signal?: AbortSignal;
  batchSize?: number;
  batchMs?: number;
}

export function outcomeRow(batchId: string, r: UploadResult): FileRow {
  return {
    batchId, filePath: r.file.path, fileName: r.file.name, target: r.target, sizeBytes: r.file.size, mtimeMs: r.file.mtimeMs,
    sha256: r.sha256, verified: r.verified, status: r.status === 'uploaded' ? 'uploaded' : 'failed', attempts: r.attempts,
    error: r.error, startedAt: r.startedAt, finishedAt: r.finishedAt,
  };
}

/** The tries of a result as `upload_attempts` rows (numbered 1.. in the order made). */
export function attemptRows(batchId: string, r: UploadResult): AttemptRow[] {
  return (r.tries ?? []).map((t, i) => ({
    batchId, filePath: r.file.path, target: t.target, attempt: i + 1, startedAt: t.startedAt, finishedAt: t.finishedAt, outcome: t.outcome, error: t.error,
    targetLimit: t.limit ?? null,
  }));
}

/**
 * Outcomes: buffered multi-row upserts (file rows, and a calls row per uploaded file)
 * in one transaction per buffer. A result flows on only once it is durable; skipped
 * and pending (interrupted) results write nothing and pass straight on. A record the
 * database refuses fails its file alone: the file flows on `failed` with the database's
 * message, recorded as such when the database takes that.
 *
 *   results: -a-b-c----d-|
 *   written: ------[abc]---[d]|
 *   result:  ------abc-----d|
 */
export function recordResults(deps: RecordDeps): OperatorFunction<UploadResult, UploadResult> {
  const { store, batchId, processId = null, auditFormId = null, logger, dbRetryMs = 60_000, signal, batchSize = 500, batchMs = 100 } = deps;
  const retry = { retryMs: dbRetryMs, logger, what: 'record', signal };
  const callOf = (r: UploadResult): CallRow => ({
    batchId, filePath: r.file.path, fileName: r.file.name, target: r.target as string, sha256: r.sha256, processId, auditFormId, createdAt: r.finishedAt ?? Date.now(),
  });
  const refusedResult = async (r: UploadResult, err: unknown): Promise<UploadResult> => {
    const refusal = `database refused the record: ${describeDbError(err)}`;
    const failed: UploadResult = { ...r, status: 'failed', error: r.status === 'failed' && r.error ? `${r.error}; ${refusal}` : refusal };
    logger?.warn('file_error', { event: 'file_error', batchId, file: r.file.path, target: r.target, attempts: r.attempts, error: failed.error });
    try {
      // a failed row (and no call) rather than a row left pending or uploaded from an earlier run
      await withDbRetry(() => store.recordOutcomes([outcomeRow(batchId, failed)], []), retry);
    } catch (again) {
      if (again instanceof StoreUnavailableError || signal?.aborted) throw again;
      logger?.error('record_refused', { event: 'record_refused', batchId, file: r.file.path, error: describeDbError(again) });
    }
    return failed;
  };
  const write = async (batch: UploadResult[]): Promise<UploadResult[]> => {
    const done = batch.filter((r) => r.status === 'uploaded' || r.status === 'failed');
    if (done.length === 0) return batch;
    const refused = await writeRefusing(done, (part) =>
      withDbRetry(() => store.recordOutcomes(
        part.map((r) => outcomeRow(batchId, r)), part.filter((r) => r.status === 'uploaded').map(callOf), part.flatMap((r) => attemptRows(batchId, r)),
      ), retry),
      signal,
    );
    if (refused.size === 0) return batch;
    const instead = new Map<UploadResult, UploadResult>();
    for (const [r, err] of refused) instead.set(r, await refusedResult(r, err));
    return batch.map((r) => instead.get(r) ?? r);
  };
  return writeInBatches(write, batchSize, batchMs);
}
