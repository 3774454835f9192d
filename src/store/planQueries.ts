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
        .where((q) => q.whereNull('claimed_by').orWhere('claim_expires_at', '<', now))
        .update({ size_bytes: r.sizeBytes, mtime_ms: r.mtimeMs, target: r.target });
    }
  });
  return n;
}

/** A re-plan may name other targets or another strategy: the batch row keeps the latest. */
export async function updateBatchPlan(knex: Knex, batchId: string, targets: readonly string[], assign: string): Promise<void> {
  await knex('batches').where({ id: batchId }).update({ targets: JSON.stringify(targets), assign });
}
