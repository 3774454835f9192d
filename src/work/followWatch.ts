import type { Knex } from 'knex';
import { processName } from '../runs/processAlive.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreUnavailableError, describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { emptyTally } from '../operators/tallyResults.js';
import { pendingCount } from '../store/claimQueries.js';
import { newestBatch, openBatches } from '../store/watchQueries.js';
import { withDbRetry, type DbRetryOptions } from '../store/withDbRetry.js';
import type { Tally } from '../types.js';

/** What one worker's pass over one batch did (counts carried on from `from`). */
export interface WorkPass extends Tally {
  worker: string;
  status: 'completed' | 'completed_with_failures' | 'interrupted' | 'failed';
  /** results discarded because another worker held the row by then */
  lost: number;
  /** why the pass stopped early (status failed): the database stayed away, no target answered, --max-errors */
  reason?: string;
}

export interface WorkPassOptions {
  /** keep polling once the batch has nothing pending; a function: while it says more may come */
  follow: boolean | (() => Promise<boolean>);
  /** the counts so far: the pass adds to them */
  from: Tally;
  /** write the batch's end (counts, status) when the pass leaves it with nothing pending */
  settle: boolean | (() => Promise<boolean>);
}

export interface FollowWatchOptions {
  prefix: string;
  targets: readonly string[];
  /** keep following (until `stop`) instead of ending once no batch has anything pending */
  follow: boolean;
  stop?: AbortSignal;
  logger: Logger;
  retry: Omit<DbRetryOptions, 'what'>;
  /** one worker's pass over a batch (runWorker's) */
  pass: (batchId: string, opts: WorkPassOptions) => Promise<WorkPass>;
  /** close a drained batch with its counts */
  settle: (batchId: string) => Promise<void>;
  /** between looks while the watch has no open batch */
  pollMs?: number;
}


/**
 * `fanout work --batch-prefix P`: a worker of a watch's rolling batches. The oldest open
 * batch with pending rows first; with none, the newest (the one the watch plans into),
 * waiting there for files. A pass over a batch is a worker of that batch as `--batch-id`
 * makes one (its own registration, target leases, claims and fencing), and it ends once
 * the batch has nothing pending and a newer batch exists: the watch plans into its newest
 * batch only (RollingBatches.withBatch), so an older one with nothing pending is done, and
 * the pass closes it with its counts. Without `follow`, the worker ends once no batch of
 * the watch has anything pending.
 *
 *   watch:   [b1 ......][b2 .........][b3 ...
 *   worker:  [b1 ........][b2 ..........][b3 ...     (a pass ends when its batch rolled and drained)
 */
export async function followWatch(knex: Knex, o: FollowWatchOptions): Promise<{ batches: string[]; pass: WorkPass }> {
  const { prefix, logger } = o;
  let last: WorkPass = { worker: processName(), status: 'completed', ...emptyTally(o.targets), lost: 0 };
  let lost = 0;
  const batches: string[] = [];
  const isNewest = async (id: string) => (await newestBatch(knex, prefix))?.id === id;
  logger.info('worker_follow', { event: 'worker_follow', prefix, worker: processName(), follow: o.follow });
  let status: WorkPass['status'] | undefined;
  while (status === undefined && !o.stop?.aborted) {
    let id: string | undefined;
    try {
      id = await withDbRetry(() => nextBatch(knex, prefix, o.follow, o.settle), { ...o.retry, what: 'read' });
    } catch (err) {
      if (!(err instanceof StoreUnavailableError) && err !== o.retry.signal?.reason) throw err;
      logger.error('worker_failed', { event: 'worker_failed', prefix, error: describeError(err) });
      status = err instanceof StoreUnavailableError ? 'failed' : 'interrupted';
      break;
    }
    if (id === undefined) {
      if (!o.follow) break;
      await sleep(o.pollMs ?? 1000, undefined, { signal: o.stop }).catch(() => undefined);
      continue;
    }
    const batchId = id;
    if (batches.at(-1) !== batchId) batches.push(batchId);
    const pass = await o.pass(batchId, { follow: o.follow && (() => isNewest(batchId)), from: last, settle: async () => !(await isNewest(batchId)) });
    lost += pass.lost;
    last = { ...pass, lost };
    if (pass.status === 'failed' || pass.status === 'interrupted') status = pass.status;
  }
  status ??= o.stop?.aborted ? 'interrupted' : last.failed > 0 ? 'completed_with_failures' : 'completed';
  return { batches, pass: { ...last, worker: processName(), status } };
}

/**
 * The batch to work next: the oldest open one with pending rows; else, when following, the
 * newest if it is open (new files land there). An open batch that is not the newest and
 * has nothing pending rolled and was drained (by workers since gone): it is closed here.
 */
async function nextBatch(knex: Knex, prefix: string, idle: boolean, settle: (batchId: string) => Promise<void>): Promise<string | undefined> {
  const open = await openBatches(knex, prefix);
  const newest = (await newestBatch(knex, prefix))?.id;
  for (const id of open) {
    if ((await pendingCount(knex, id)) > 0) return id;
    if (id !== newest) await settle(id);
  }
  return idle && newest !== undefined && open.includes(newest) ? newest : undefined;
}
