import type { Knex } from 'knex';
import { MAX_ROWS_PER_STATEMENT } from './knexStore.js';
import { pathKey, toFileRecord } from './rows.js';
import type { FileRow } from './types.js';

/**
 * `fanout plan`'s writes, so that planning again never disturbs the work under way: a
 * new file's row is inserted unless one exists (any status), and an existing row is
 * refreshed (size, mtime, target) only while it is pending and nobody holds a live
 * claim on it. Rows claimed, uploaded or failed are never touched.
 */
export async function insertNewPending(knex: Knex, rows: readonly FileRow[]): Promise<void> {
  await knex.transaction(async (trx) => {
    for (let i = 0; i < rows.length; i += MAX_ROWS_PER_STATEMENT) {
      const part = rows.slice(i, i + MAX_ROWS_PER_STATEMENT).map((r) => toFileRecord(r));
      await trx('file_distributions').insert(part).onConflict(['batch_id', 'path_key']).ignore();
    }
  });
}

/** Refresh changed pending rows nobody holds; resolves to how many were refreshed. */
export async function refreshUnclaimed(knex: Knex, rows: readonly FileRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const now = Date.now();
  let n = 0;
  await knex.transaction(async (trx) => {
    for (const r of rows) {
      n += await trx('file_distributions')
        .where({ batch_id: r.batchId, path_key: pathKey(r.filePath), status: 'pending' })
        .where((q) => q.whereNull('claimed_by').orWhereNull('claim_expires_at').orWhere('claim_expires_at', '<', now))
        .update({ size_bytes: r.sizeBytes, mtime_ms: r.mtimeMs, target: r.target });
    }
  });
  return n;
}

/**
 * A resume's plan: rows that ended (failed, or uploaded but the file changed since) go
 * back to the queue as `pending`, each only if it is still as it was read (same status
 * and end time), so a run planning beside another never re-queues a file the other has
 * just sent again. Resolves to how many went back.
 */
export async function requeueFinished(knex: Knex, rows: ReadonlyArray<{ was: FileRow; want: FileRow }>): Promise<number> {
  let n = 0;
  for (let i = 0; i < rows.length; i += MAX_ROWS_PER_STATEMENT) {
    await knex.transaction(async (trx) => {
      for (const { was, want } of rows.slice(i, i + MAX_ROWS_PER_STATEMENT)) {
        const q = trx('file_distributions').where({ batch_id: was.batchId, path_key: pathKey(was.filePath), status: was.status });
        if (was.finishedAt === null) q.whereNull('finished_at');
        else q.where({ finished_at: was.finishedAt });
        n += await q.update({
          status: 'pending', size_bytes: want.sizeBytes, mtime_ms: want.mtimeMs, target: want.target, sha256: null, verified: false,
          attempts: 0, error: null, started_at: null, finished_at: null, claimed_by: null, claim_expires_at: null,
        });
      }
    });
  }
  return n;
}

/** A re-plan may name other targets or another strategy: the batch row keeps the latest. */
export async function updateBatchPlan(knex: Knex, batchId: string, targets: readonly string[], assign: string): Promise<void> {
  await knex('batches').where({ id: batchId }).update({ targets: JSON.stringify(targets), assign });
}
