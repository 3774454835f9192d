import { ConfigError, describeError } from '../errors.js';
import { periodic } from '../periodic.js';
import type { Logger } from '../logger.js';
import { readBatchLease, releaseBatchLease, renewBatchLease, takeBatchLease, type BatchLease, type LeaseHolder } from '../store/batchLeaseQueries.js';
import type { Store } from '../store/types.js';
import { liveWorkers } from '../store/workerQueries.js';
import { deadOnThisHost, thisProcess } from './processAlive.js';

/** How long a run's hold on its batch lasts without renewal (renewed every third of it). */
export const BATCH_LEASE_MS = 30_000;

export interface BatchHold {
  holder: LeaseHolder;
  /** the dead holder whose lease this run took over (its caller logs it: preflight is quiet) */
  takenOver?: { host: string | null; pid: number | null };
  /** aborted when a renewal finds the lease taken by someone else */
  lost: AbortSignal;
  release(): Promise<void>;
}

const iso = (ms: number | null) => (ms === null ? 'unknown' : new Date(ms).toISOString());

/** The refusal naming the run that holds the batch, and when its lease ends. */
function beingRun(batchId: string, lease: BatchLease | undefined): ConfigError {
  return new ConfigError(
    `batch "${batchId}" is being run by ${lease?.host ?? '?'} pid ${lease?.pid ?? '?'} (its lease ends ${iso(lease?.expiresAt ?? null)} unless renewed): not starting a second run`,
  );
}

/**
 * For a run that joins the batch as a worker (claims) instead of holding it: a live run
 * holding the lease (a fresh `upload`, which claims nothing) is refused like in
 * holdBatch; a holder dead on this host has its lease cleared. Resolves to that holder.
 */
export async function joinableBatch(store: Store, batchId: string): Promise<BatchHold['takenOver']> {
  const held = await readBatchLease(store.knex, batchId);
  if (!held?.holder || (held.expiresAt ?? 0) < Date.now()) return undefined;
  if (!deadOnThisHost(held.host, held.pid)) throw beingRun(batchId, held);
  await releaseBatchLease(store.knex, batchId, held.holder);
  return { host: held.host, pid: held.pid };
}

/**
 * Hold the batch for this run: take its lease (free, expired, or its holder's pid gone on
 * this host), renew it every leaseMs/3 while the run lives, release it at the end. A
 * lease held by a live run is a ConfigError naming that run and when its lease ends.
 */
export async function holdBatch(store: Store, batchId: string, opts: { logger: Logger; leaseMs?: number; holder?: LeaseHolder }): Promise<BatchHold> {
  const { logger, leaseMs = BATCH_LEASE_MS, holder = thisProcess() } = opts;
  let takenOver: BatchHold['takenOver'];
  if (!(await takeBatchLease(store.knex, batchId, holder, leaseMs))) {
    const held = await readBatchLease(store.knex, batchId);
    const dead = held !== undefined && held.holder !== null && deadOnThisHost(held.host, held.pid);
    if (!dead || !(await takeBatchLease(store.knex, batchId, holder, leaseMs, held.holder as string))) {
      throw beingRun(batchId, await readBatchLease(store.knex, batchId));
    }
    takenOver = { host: held.host, pid: held.pid };
  }
  // workers (`fanout work`, or a resume joined as one) claim the batch's pending rows: a run beside them would send them again
  const workers = await liveWorkers(store.knex, batchId, leaseMs).catch(async (err: unknown) => {
    await releaseBatchLease(store.knex, batchId, holder.id).catch(() => undefined);
    throw err;
  });
  if (workers.length > 0) {
    await releaseBatchLease(store.knex, batchId, holder.id).catch(() => undefined);
    const who = workers.slice(0, 3).map((w) => `${w.host} pid ${w.pid}`).join(', ');
    throw new ConfigError(
      `batch "${batchId}" is being worked by ${workers.length} \`fanout work\` process${workers.length === 1 ? '' : 'es'} (${who}${workers.length > 3 ? ', …' : ''}): join them with \`fanout work --batch-id ${batchId} --root DIR\`, or wait`,
    );
  }
  const lost = new AbortController();
  const renew = periodic(
    async () => {
      if ((await renewBatchLease(store.knex, batchId, holder.id, leaseMs)) || lost.signal.aborted) return;
      logger.error('batch_lease_lost', { event: 'batch_lease_lost', batchId });
      lost.abort();
    },
    Math.max(50, Math.floor(leaseMs / 3)),
    // a database away for a moment: the next renewal tries again; the records' own retries decide the run
    (err) => logger.warn('batch_lease_renew_failed', { event: 'batch_lease_renew_failed', batchId, error: describeError(err) }),
    { unref: true },
  );
  return {
    holder,
    takenOver,
    lost: lost.signal,
    release: async () => {
      await renew.stop();
      await releaseBatchLease(store.knex, batchId, holder.id).catch((err) =>
        logger.warn('batch_lease_unreleased', { event: 'batch_lease_unreleased', batchId, error: describeError(err) }),
      );
    },
  };
}
