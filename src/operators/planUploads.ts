import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { OperatorFunction } from 'rxjs';
import { writeInBatches } from './writeInBatches.js';
import { writeRefusing } from './writeRefusing.js';
import { describeDbError } from '../store/describeDbError.js';
import type { FileRow, Store } from '../store/types.js';
import { withDbRetry } from '../store/withDbRetry.js';
import type { Logger } from '../logger.js';
import type { Assignment } from '../types.js';

export interface PlanDeps {
  store: Pick<Store, 'planPending' | 'findFiles'>;
  batchId: string;
  /** skip files recorded as uploaded in this batch (unless changed since) */
  resume?: boolean;
  logger?: Logger;
  dbRetryMs?: number;
  /** ends a wait for the database at once (the run is interrupted) */
  signal?: AbortSignal;
  /** rows per transaction and the longest a row waits for its batch */
  batchSize?: number;
  batchMs?: number;
}

export async function sha256File(absPath: string | Buffer): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(absPath, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function pendingRow(batchId: string, a: Assignment): FileRow {
  const f = a.file;
  return {
    batchId, filePath: f.path, fileName: f.name, target: a.target, sizeBytes: f.size, mtimeMs: f.mtimeMs,
    sha256: null, verified: false, status: 'pending', attempts: 0, error: null, startedAt: null, finishedAt: null,
  };
}


/** On --resume: what to do with a file that already has a row (also what `--dry-run --resume` shows). */
export async function resumeDecision(a: Assignment, row: FileRow | undefined): Promise<Assignment> {
  if (!row) return a;
  if (row.status === 'uploaded') {
    // same size and mtime: as recorded. Same size, mtime moved: only the content can tell.
    const unchanged =
      row.sizeBytes === a.file.size &&
      (row.mtimeMs === a.file.mtimeMs || (row.sha256 !== null && (await sha256File(a.file.absPath).catch(() => null)) === row.sha256));
    if (unchanged) {
      return { ...a, target: row.target, skip: true, sha256: row.sha256 };
    }
    return { ...a, target: row.target ?? a.target }; // changed: overwrite it where it is
  }
  if (row.status === 'pending' && row.target) return { ...a, target: row.target };
  return a;
}

/**
 * Write-ahead: every file's row is written `pending` (with its target when already
 * chosen) before its upload starts, in multi-row transactions of up to `batchSize`
 * rows, at most `batchMs` after the first row of a batch arrived. Files pass on only
 * once their rows are durable. A row the database refuses fails its file alone: the
 * file passes on marked `planError` (the database's message) and is not uploaded.
 *
 *   assignments: -a-b-c----d-|
 *   written:     ------[abc]---[d]|
 *   result:      ------abc-----d|
 */
export function planUploads(deps: PlanDeps): OperatorFunction<Assignment, Assignment> {
  const { store, batchId, resume = false, logger, dbRetryMs = 60_000, signal, batchSize = 500, batchMs = 25 } = deps;
  const planBatch = async (batch: Assignment[]): Promise<Assignment[]> => {
    let planned = batch;
    if (resume) {
      const rows = await withDbRetry(() => store.findFiles(batchId, batch.map((a) => a.file.path)), { retryMs: dbRetryMs, logger, what: 'read', signal });
      planned = await Promise.all(batch.map((a) => resumeDecision(a, rows.get(a.file.path))));
    }
    const toWrite = planned.filter((a) => !a.skip);
    if (toWrite.length === 0) return planned;
    const refused = await writeRefusing(toWrite, (part) =>
      withDbRetry(() => store.planPending(part.map((a) => pendingRow(batchId, a))), { retryMs: dbRetryMs, logger, what: 'plan', signal }),
      signal,
    );
    if (refused.size === 0) return planned;
    return planned.map((a) => {
      if (!refused.has(a)) return a;
      const planError = `database refused the row: ${describeDbError(refused.get(a))}`;
      logger?.warn('file_error', { event: 'file_error', batchId, file: a.file.path, target: a.target, attempts: 0, error: planError });
      return { ...a, planError };
    });
  };
  return writeInBatches(planBatch, batchSize, batchMs);
}

