import type { OperatorFunction } from 'rxjs';
import { writeInBatches } from './writeInBatches.js';
import type { Logger } from '../logger.js';
import type { CallRow, FileRow, Store } from '../store/types.js';
import { withDbRetry } from '../store/withDbRetry.js';
import type { UploadResult } from '../types.js';

export interface RecordDeps {
  store: Pick<Store, 'recordOutcomes'>;
  batchId: string;
  processId?: number | null;
  auditFormId?: number | null;
  logger?: Logger;
  dbRetryMs?: number;
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

/**
 * Outcomes: buffered multi-row upserts (file rows, and a calls row per uploaded file)
 * in one transaction per buffer. A result flows on only once it is durable; skipped
 * and pending (interrupted) results write nothing and pass straight on.
 *
 *   results: -a-b-c----d-|
 *   written: ------[abc]---[d]|
 *   result:  ------abc-----d|
 */
export function recordResults(deps: RecordDeps): OperatorFunction<UploadResult, UploadResult> {
  const { store, batchId, processId = null, auditFormId = null, logger, dbRetryMs = 60_000, batchSize = 500, batchMs = 100 } = deps;
  const write = async (batch: UploadResult[]): Promise<UploadResult[]> => {
    const done = batch.filter((r) => r.status === 'uploaded' || r.status === 'failed');
    if (done.length === 0) return batch;
    const rows = done.map((r) => outcomeRow(batchId, r));
    const calls: CallRow[] = done
      .filter((r) => r.status === 'uploaded')
      .map((r) => ({ batchId, filePath: r.file.path, fileName: r.file.name, target: r.target as string, sha256: r.sha256, processId, auditFormId, createdAt: r.finishedAt ?? Date.now() }));
    await withDbRetry(() => store.recordOutcomes(rows, calls), { retryMs: dbRetryMs, logger, what: 'record' });
    return batch;
  };
  return writeInBatches(write, batchSize, batchMs);
}
