import type { Knex } from 'knex';

/** Who runs a batch: a process on a host. */
export interface LeaseHolder {
  id: string;
  host: string;
  pid: number;
}

export interface BatchLease {
  holder: string | null;
  host: string | null;
  pid: number | null;
  expiresAt: number | null;
}

const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export async function readBatchLease(knex: Knex, batchId: string): Promise<BatchLease | undefined> {
  const r = await knex('batches').where({ id: batchId }).first('lease_holder', 'lease_host', 'lease_pid', 'lease_expires_at');
  if (!r) return undefined;
  return { holder: r.lease_holder ?? null, host: r.lease_host ?? null, pid: numOrNull(r.lease_pid), expiresAt: numOrNull(r.lease_expires_at) };
}

/**
 * Take the batch's lease in one conditional UPDATE: free, expired, already ours, or held by
 * `takeOverFrom` (a holder found dead). The database decides between two runs starting
 * together: only one UPDATE matches. True when it is ours now.
 */
export async function takeBatchLease(knex: Knex, batchId: string, me: LeaseHolder, leaseMs: number, takeOverFrom?: string): Promise<boolean> {
  const now = Date.now();
  const n = await knex('batches')
    .where({ id: batchId })
    .where((q) => {
      q.whereNull('lease_holder').orWhere('lease_expires_at', '<', now).orWhere('lease_holder', me.id);
      if (takeOverFrom !== undefined) q.orWhere('lease_holder', takeOverFrom);
    })
    .update({ lease_holder: me.id, lease_host: me.host, lease_pid: me.pid, lease_expires_at: now + leaseMs });
  return n === 1;
}

/** Push the expiry on while we still hold it; false when the lease is no longer ours. */
export async function renewBatchLease(knex: Knex, batchId: string, holderId: string, leaseMs: number): Promise<boolean> {
  const n = await knex('batches').where({ id: batchId, lease_holder: holderId }).update({ lease_expires_at: Date.now() + leaseMs });
  return n === 1;
}

export async function releaseBatchLease(knex: Knex, batchId: string, holderId: string): Promise<void> {
  await knex('batches')
    .where({ id: batchId, lease_holder: holderId })
    .update({ lease_holder: null, lease_host: null, lease_pid: null, lease_expires_at: null });
}
