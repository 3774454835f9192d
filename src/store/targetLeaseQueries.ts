import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

const keyOf = (target: string) => createHash('sha256').update(target).digest('hex');

/** One lease row per (batch, target), free until a worker takes it. */
export async function ensureTargetLeases(knex: Knex, batchId: string, targets: readonly string[]): Promise<void> {
  if (targets.length === 0) return;
  await knex('target_leases')
    .insert(targets.map((target) => ({ batch_id: batchId, target_key: keyOf(target), target, holder: null, expires_at: null })))
    .onConflict(['batch_id', 'target_key'])
    .ignore();
}

/** Renew every target this worker holds; resolves to the ones it still holds. */
export async function renewTargets(knex: Knex, batchId: string, workerId: string, leaseMs: number): Promise<string[]> {
  const now = Date.now();
  await knex('target_leases').where({ batch_id: batchId, holder: workerId }).where('expires_at', '>=', now).update({ expires_at: now + leaseMs });
  return knex('target_leases').where({ batch_id: batchId, holder: workerId }).where('expires_at', '>', now).pluck('target');
}

/**
 * Take up to `n` free or expired targets among this worker's own (a batch planned again
 * with other targets keeps the old ones' rows): one short transaction, candidates locked
 * with SKIP LOCKED so workers taking targets at the same moment never wait on each other.
 */
export async function takeTargets(knex: Knex, batchId: string, workerId: string, n: number, leaseMs: number, among: readonly string[]): Promise<string[]> {
  if (n <= 0 || among.length === 0) return [];
  return knex.transaction(async (trx) => {
    const now = Date.now();
    const free = (await trx('target_leases')
      .where({ batch_id: batchId })
      .whereIn('target_key', among.map(keyOf))
      .where((q) => q.whereNull('holder').orWhere('expires_at', '<', now))
      .orderBy('target_key')
      .limit(n)
      .forUpdate()
      .skipLocked()
      .select('target_key', 'target')) as { target_key: string; target: string }[];
    if (free.length === 0) return [];
    await trx('target_leases').where({ batch_id: batchId }).whereIn('target_key', free.map((f) => f.target_key)).update({ holder: workerId, expires_at: now + leaseMs });
    return free.map((f) => f.target);
  });
}

export async function releaseTargets(knex: Knex, batchId: string, workerId: string, targets?: readonly string[]): Promise<void> {
  const q = knex('target_leases').where({ batch_id: batchId, holder: workerId });
  if (targets) q.whereIn('target_key', targets.map(keyOf));
  await q.update({ holder: null, expires_at: null });
}

/** Every target of the batch with its live holder (null when free or expired). */
export async function targetHolders(knex: Knex, batchId: string): Promise<{ target: string; holder: string | null }[]> {
  const now = Date.now();
  const rows = (await knex('target_leases').where({ batch_id: batchId }).select('target', 'holder', 'expires_at')) as { target: string; holder: string | null; expires_at: unknown }[];
  return rows.map((r) => ({ target: r.target, holder: r.holder !== null && Number(r.expires_at) > now ? r.holder : null }));
}
