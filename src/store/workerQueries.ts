import type { Knex } from 'knex';
import type { LeaseHolder } from './batchLeaseQueries.js';

export interface WorkerRow {
  id: string;
  host: string;
  pid: number;
  startedAt: number;
  heartbeatAt: number;
  stoppedAt: number | null;
}

export async function registerWorker(knex: Knex, batchId: string, me: LeaseHolder): Promise<void> {
  const now = Date.now();
  await knex('workers').insert({ id: me.id, batch_id: batchId, host: me.host, pid: me.pid, started_at: now, heartbeat_at: now, stopped_at: null });
}

export async function heartbeat(knex: Knex, workerId: string): Promise<void> {
  await knex('workers').where({ id: workerId }).update({ heartbeat_at: Date.now() });
}

export async function stopWorker(knex: Knex, workerId: string): Promise<void> {
  await knex('workers').where({ id: workerId }).update({ stopped_at: Date.now() });
}

/** Workers of the batch that neither stopped nor missed their heartbeat for `aliveMs`. */
export async function liveWorkers(knex: Knex, batchId: string, aliveMs: number): Promise<WorkerRow[]> {
  const rows = await knex('workers').where({ batch_id: batchId }).whereNull('stopped_at').where('heartbeat_at', '>', Date.now() - aliveMs).select();
  return rows.map(fromRecord);
}

export async function listWorkers(knex: Knex, batchId: string): Promise<WorkerRow[]> {
  return (await knex('workers').where({ batch_id: batchId }).orderBy('started_at').select()).map(fromRecord);
}

/** The workers with these ids, whatever their batch (a watch registers under its prefix). */
export async function findWorkers(knex: Knex, ids: readonly string[]): Promise<WorkerRow[]> {
  const out: WorkerRow[] = [];
  for (let i = 0; i < ids.length; i += 500) out.push(...(await knex('workers').whereIn('id', ids.slice(i, i + 500)).select()).map(fromRecord));
  return out;
}

/**
 * Prune (Solid Queue's word): a worker whose heartbeat is older than `aliveMs` is gone.
 * Its pending claims go back to the queue and its targets are freed, in one transaction
 * per worker; SKIP LOCKED so two pruners never wait on each other. Resolves to the ids.
 */
export async function pruneDeadWorkers(knex: Knex, batchId: string, aliveMs: number): Promise<string[]> {
  return prune(knex, batchId, (q) => q.where('heartbeat_at', '<=', Date.now() - aliveMs));
}

/** Prune workers known gone another way (their pid is gone on this host), whatever their heartbeat says. */
export async function pruneWorkers(knex: Knex, batchId: string, ids: readonly string[]): Promise<string[]> {
  return ids.length === 0 ? [] : prune(knex, batchId, (q) => q.whereIn('id', ids));
}

async function prune(knex: Knex, batchId: string, gone: (q: Knex.QueryBuilder) => Knex.QueryBuilder): Promise<string[]> {
  const dead = (await gone(knex('workers').where({ batch_id: batchId }).whereNull('stopped_at')).pluck('id')) as string[];
  const pruned: string[] = [];
  for (const id of dead) {
    await knex.transaction(async (trx) => {
      const still = await gone(trx('workers').where({ id }).whereNull('stopped_at')).forUpdate().skipLocked().first('id');
      if (!still) return;
      await trx('file_distributions').where({ batch_id: batchId, claimed_by: id, status: 'pending' }).update({ claimed_by: null, claim_expires_at: null });
      await trx('target_leases').where({ batch_id: batchId, holder: id }).update({ holder: null, expires_at: null });
      // a gone worker's stop time is its last sign of life
      await trx('workers').where({ id }).update({ stopped_at: trx.ref('heartbeat_at') });
      pruned.push(id);
    });
  }
  return pruned;
}

const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function fromRecord(r: Record<string, unknown>): WorkerRow {
  return { id: String(r.id), host: String(r.host), pid: Number(r.pid), startedAt: Number(r.started_at), heartbeatAt: Number(r.heartbeat_at), stoppedAt: numOrNull(r.stopped_at) };
}
