import type { Knex } from 'knex';
import type { Logger } from '../logger.js';
import { renewClaims } from '../store/claimQueries.js';
import { releaseTargets, renewTargets, takeTargets } from '../store/targetLeaseQueries.js';
import { heartbeat, liveWorkers, pruneDeadWorkers } from '../store/workerQueries.js';

/**
 * A worker's side of the cluster, run every lease/3: heartbeat, prune the dead (their
 * claims and targets go back), renew this worker's leases, and move towards a fair share
 * of the targets, ceil(targets / live workers). A target above the share is closed first
 * (no new claims for it) and released once none of its files is in flight here, so two
 * workers never drive one target at the same time.
 */
export class TargetShare {
  readonly held = new Set<string>();
  readonly closing = new Set<string>();

  constructor(
    private readonly knex: Knex,
    private readonly o: { batchId: string; workerId: string; targets: readonly string[]; leaseMs: number; logger: Logger; inFlight: (target: string) => number },
  ) {}

  /** Held targets open for new claims. */
  open(): string[] {
    return [...this.held].filter((t) => !this.closing.has(t));
  }

  async tick(): Promise<void> {
    const { knex, o } = this;
    await heartbeat(knex, o.workerId);
    const pruned = await pruneDeadWorkers(knex, o.batchId, o.leaseMs);
    for (const id of pruned) o.logger.warn('worker_pruned', { event: 'worker_pruned', batchId: o.batchId, worker: id, why: `no heartbeat for ${o.leaseMs} ms: its claims and targets are free again` });
    const still = new Set(await renewTargets(knex, o.batchId, o.workerId, o.leaseMs));
    for (const t of this.held) {
      if (still.has(t)) continue;
      o.logger.warn('target_lease_lost', { event: 'target_lease_lost', batchId: o.batchId, target: t });
      this.held.delete(t);
      this.closing.delete(t);
    }
    const live = Math.max(1, (await liveWorkers(knex, o.batchId, o.leaseMs)).length);
    const fair = Math.ceil(o.targets.length / live);
    const open = this.open();
    if (open.length < fair) {
      for (const t of this.closing) {
        if (open.length >= fair) break;
        this.closing.delete(t); // wanted again before it was handed over
        open.push(t);
      }
      for (const t of await takeTargets(knex, o.batchId, o.workerId, fair - open.length, o.leaseMs, o.targets)) {
        this.held.add(t);
        o.logger.info('target_taken', { event: 'target_taken', batchId: o.batchId, target: t });
      }
    } else if (open.length > fair) {
      for (const t of open.sort().slice(fair)) this.closing.add(t);
    }
    const free = [...this.closing].filter((t) => o.inFlight(t) === 0);
    if (free.length > 0) {
      await releaseTargets(knex, o.batchId, o.workerId, free);
      for (const t of free) {
        this.held.delete(t);
        this.closing.delete(t);
        o.logger.info('target_released', { event: 'target_released', batchId: o.batchId, target: t, why: `fair share is ${fair} of ${o.targets.length} with ${live} workers` });
      }
    }
    await renewClaims(knex, o.batchId, o.workerId, o.leaseMs);
  }

  async releaseAll(): Promise<void> {
    await releaseTargets(this.knex, this.o.batchId, this.o.workerId);
    this.held.clear();
    this.closing.clear();
  }
}
