import type { Knex } from 'knex';

/** A pending row claimed by a worker, with the fencing token of this claim. */
export interface ClaimedRow {
  id: number;
  filePath: string;
  fileName: string;
  target: string | null;
  sizeBytes: number;
  mtimeMs: number;
  token: number;
}

export interface ClaimOptions {
  batchId: string;
  workerId: string;
  limit: number;
  leaseMs: number;
  /** targets this worker drives now: it claims their rows, and rows no held target names */
  targets: readonly string[];
  /** every target with a lease row: a row naming one of these but not ours is another worker's */
  allTargets: readonly string[];
  /**
   * Measurement only (the workers benchmark, FANOUT_CLAIM_LOCKS=1): called with the InnoDB
   * row locks this claim's transaction holds, read with two more queries before it commits.
   */
  onRowsLocked?: (rows: number) => void;
}

/**
 * One short claim transaction (Solid Queue's ReadyExecution.claim): pick pending rows
 * nobody holds, or whose claim expired, `FOR UPDATE SKIP LOCKED` with a limit; record
 * them as ours with a new lease and a fencing token one higher than the row's last.
 * Nothing slow happens inside it.
 */
export async function claimRows(knex: Knex, o: ClaimOptions): Promise<ClaimedRow[]> {
  if (o.limit <= 0 || o.targets.length === 0) return [];
  const others = o.allTargets.filter((t) => !o.targets.includes(t));
  return knex.transaction(async (trx) => {
    const now = Date.now();
    const mysql = (trx.client as Knex.Client).dialect === 'mysql';
    // the (batch_id, status) index, named: with statistics fresh from a plan MySQL/MariaDB may
    // walk the primary key for `ORDER BY id LIMIT n`, reading (and, FOR UPDATE, locking) every
    // row of the batch from its first, finished ones included (measured: ~300 row locks a
    // claim at 1,800 files; 8 with the index)
    const q: Knex.QueryBuilder = (mysql ? trx.from(trx.raw('?? FORCE INDEX (??)', ['file_distributions', 'file_distributions_batch_status'])) : trx('file_distributions'))
      .where({ batch_id: o.batchId, status: 'pending' })
      .where((w) => w.whereNull('claimed_by').orWhereNull('claim_expires_at').orWhere('claim_expires_at', '<', now));
    if (others.length > 0) q.where((w) => w.whereNull('target').orWhereNotIn('target', others));
    q.orderBy('id').limit(o.limit);
    // SQLite has one writer at a time (the transaction is the lock) and no SKIP LOCKED: only
    // `fanout watch` claims there, alone
    if (mysql) q.forUpdate().skipLocked();
    const ids = (await q.pluck('id')) as unknown as number[];
    if (ids.length === 0) return [];
    await trx('file_distributions')
      .whereIn('id', ids)
      .update({ claimed_by: o.workerId, claim_token: trx.raw('claim_token + 1'), claim_expires_at: now + o.leaseMs });
    if (o.onRowsLocked && (trx.client as Knex.Client).dialect === 'mysql') o.onRowsLocked(await rowsLockedHere(trx));
    const rows = await trx('file_distributions').whereIn('id', ids).orderBy('id').select('id', 'file_path', 'file_name', 'target', 'size_bytes', 'mtime_ms', 'claim_token');
    return rows.map((r: Record<string, unknown>) => ({
      id: Number(r.id), filePath: String(r.file_path), fileName: String(r.file_name), target: r.target === null ? null : String(r.target),
      sizeBytes: Number(r.size_bytes), mtimeMs: Number(r.mtime_ms), token: Number(r.claim_token),
    }));
  });
}

/**
 * The row locks this MySQL/MariaDB transaction holds, from SHOW ENGINE INNODB STATUS (live;
 * information_schema.INNODB_TRX is a copy refreshed at most every 100 ms, mostly without a
 * transaction this short). Needs the PROCESS privilege; heavy: measurement only.
 */
async function rowsLockedHere(trx: Knex.Transaction): Promise<number> {
  const [[{ id }]] = (await trx.raw('SELECT CONNECTION_ID() AS id')) as [[{ id: unknown }]];
  const [[status]] = (await trx.raw('SHOW ENGINE INNODB STATUS')) as [[{ Status: string }]];
  const mine = status.Status.split('---TRANSACTION').find((t) => new RegExp(`thread id ${Number(id)},`).test(t));
  return Number(/(\d+) row lock\(s\)/.exec(mine ?? '')?.[1] ?? Number.NaN);
}

/** Push on the expiry of every claim this worker holds. */
export async function renewClaims(knex: Knex, batchId: string, workerId: string, leaseMs: number): Promise<void> {
  await knex('file_distributions').where({ batch_id: batchId, claimed_by: workerId, status: 'pending' }).update({ claim_expires_at: Date.now() + leaseMs });
}

/**
 * A clean stop: give back the pending rows this worker holds, so others take them at once,
 * and end its claims on finished rows (they keep its name, for status), so a row put back
 * to pending later is free at once too.
 */
export async function releaseClaims(knex: Knex, batchId: string, workerId: string): Promise<void> {
  await knex('file_distributions').where({ batch_id: batchId, claimed_by: workerId, status: 'pending' }).update({ claimed_by: null, claim_expires_at: null });
  await knex('file_distributions').where({ batch_id: batchId, claimed_by: workerId }).whereNotNull('claim_expires_at').update({ claim_expires_at: null });
}

/**
 * Inside the outcome's transaction: which of these rows (id -> token) this worker still
 * holds with the same token, locked until the outcome is written.
 */
export async function stillHeld(trx: Knex.Transaction, workerId: string, tokens: ReadonlyMap<number, number>): Promise<Set<number>> {
  if (tokens.size === 0) return new Set();
  const rows = (await trx('file_distributions').whereIn('id', [...tokens.keys()]).where({ claimed_by: workerId }).forUpdate().select('id', 'claim_token')) as { id: unknown; claim_token: unknown }[];
  return new Set(rows.filter((r) => tokens.get(Number(r.id)) === Number(r.claim_token)).map((r) => Number(r.id)));
}

/** Rows of the batch not finished yet, claimed or not. */
export async function pendingCount(knex: Knex, batchId: string): Promise<number> {
  const r = await knex('file_distributions').where({ batch_id: batchId, status: 'pending' }).first<{ n: unknown } | undefined>(knex.raw('count(*) as n'));
  return Number(r?.n ?? 0);
}

/** Files each worker finished (uploaded or failed), for status. */
export async function doneByWorker(knex: Knex, batchId: string): Promise<Map<string, number>> {
  const rows = (await knex('file_distributions').where({ batch_id: batchId }).whereIn('status', ['uploaded', 'failed']).whereNotNull('claimed_by').groupBy('claimed_by').select('claimed_by', knex.raw('count(*) as n'))) as { claimed_by: string; n: unknown }[];
  return new Map(rows.map((r) => [r.claimed_by, Number(r.n)]));
}
