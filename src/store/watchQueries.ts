import type { Knex } from 'knex';
import { pathKey } from './rows.js';
import { MAX_ROWS_PER_STATEMENT } from './knexStore.js';
import type { FileStatus } from './types.js';

/**
 * A watch's registry is its rolling batches' rows: batches named `<prefix>-<time>`, so
 * every batch of one watch sits in one range of ids ('-' is 0x2d, '.' the next byte), an
 * index range on both databases, exact under binary comparison.
 */
export function watchRange(prefix: string): [string, string] {
  return [`${prefix}-`, `${prefix}.`];
}

/** The latest row a watch holds for a path (any of its batches). */
export interface LatestRow {
  id: number;
  batchId: string;
  status: FileStatus;
  sizeBytes: number;
  mtimeMs: number;
  target: string | null;
}

/** For each path, the watch's latest row for it (the highest id), if any. */
export async function latestRows(knex: Knex, prefix: string, paths: readonly string[]): Promise<Map<string, LatestRow>> {
  const [lo, hi] = watchRange(prefix);
  const out = new Map<string, LatestRow>();
  const byKey = new Map(paths.map((p) => [pathKey(p), p]));
  const keys = [...byKey.keys()];
  for (let i = 0; i < keys.length; i += MAX_ROWS_PER_STATEMENT) {
    const rows = (await knex('file_distributions')
      .whereIn('path_key', keys.slice(i, i + MAX_ROWS_PER_STATEMENT))
      .where('batch_id', '>=', lo).where('batch_id', '<', hi)
      .orderBy('id')
      .select('id', 'batch_id', 'path_key', 'status', 'size_bytes', 'mtime_ms', 'target')) as Record<string, unknown>[];
    for (const r of rows) {
      const p = byKey.get(String(r.path_key)) as string;
      out.set(p, { id: Number(r.id), batchId: String(r.batch_id), status: String(r.status) as FileStatus, sizeBytes: Number(r.size_bytes), mtimeMs: Number(r.mtime_ms), target: r.target === null ? null : String(r.target) });
    }
  }
  return out;
}

/** The watch's batches not closed yet (finished_at null), oldest first. */
export async function openBatches(knex: Knex, prefix: string): Promise<string[]> {
  const [lo, hi] = watchRange(prefix);
  return (await knex('batches').where('id', '>=', lo).where('id', '<', hi).whereNull('finished_at').orderBy('id').pluck('id')) as string[];
}

/** The newest batch of the watch, closed or not. */
export async function newestBatch(knex: Knex, prefix: string): Promise<{ id: string; startedAt: number; finishedAt: number | null } | undefined> {
  const [lo, hi] = watchRange(prefix);
  const r = (await knex('batches').where('id', '>=', lo).where('id', '<', hi).orderBy('id', 'desc').first('id', 'started_at', 'finished_at')) as Record<string, unknown> | undefined;
  return r && { id: String(r.id), startedAt: Number(r.started_at), finishedAt: r.finished_at === null ? null : Number(r.finished_at) };
}

/** Rows waiting across the watch's batches, and the oldest waiting file's mtime (null: none). */
export async function pendingOfWatch(knex: Knex, prefix: string): Promise<{ pending: number; oldestMtimeMs: number | null }> {
  const [lo, hi] = watchRange(prefix);
  const r = (await knex('file_distributions').where('batch_id', '>=', lo).where('batch_id', '<', hi).where('status', 'pending')
    .first(knex.raw('count(*) as n'), knex.raw('min(mtime_ms) as oldest'))) as { n: unknown; oldest: unknown } | undefined;
  return { pending: Number(r?.n ?? 0), oldestMtimeMs: r?.oldest === null || r?.oldest === undefined ? null : Number(r.oldest) };
}

/** A restarted watch takes back at once what its previous process held (same worker id, that process gone). */
export async function releaseWatchClaims(knex: Knex, prefix: string, workerId: string): Promise<number> {
  const [lo, hi] = watchRange(prefix);
  return knex('file_distributions').where('batch_id', '>=', lo).where('batch_id', '<', hi)
    .where({ claimed_by: workerId, status: 'pending' }).update({ claimed_by: null, claim_expires_at: null });
}

/** Push on the expiry of every claim the watch holds. */
export async function renewWatchClaims(knex: Knex, prefix: string, workerId: string, leaseMs: number): Promise<void> {
  const [lo, hi] = watchRange(prefix);
  await knex('file_distributions').where('batch_id', '>=', lo).where('batch_id', '<', hi)
    .where({ claimed_by: workerId, status: 'pending' }).update({ claim_expires_at: Date.now() + leaseMs });
}
