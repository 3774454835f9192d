import { startBatchRun, type BatchRun } from '../runs/batchRun.js';
import type { Logger } from '../logger.js';
import { pendingCount } from '../store/claimQueries.js';
import { ensureTargetLeases } from '../store/targetLeaseQueries.js';
import type { Store } from '../store/types.js';
import { newestBatch, openBatches } from '../store/watchQueries.js';
import type { BatchStatus } from '../types.js';

export interface RollingOptions {
  prefix: string;
  dir: string;
  targets: readonly string[];
  assign: string;
  /** a batch takes files for this long, then the next one starts */
  everyMs: number;
  /** ... or until it holds this many files */
  maxFiles: number;
  logger: Logger;
  now?: () => number;
}

/** `<prefix>-20261202T100000123Z`: ids sort by start, so a watch's batches sort by id. */
export function rollingBatchId(prefix: string, at: number): string {
  return `${prefix}-${new Date(at).toISOString().replace(/[-:.]/g, '')}`;
}

/**
 * A watch's records keep the batch shape of `upload`: one batch per `everyMs` or
 * `maxFiles`, each with its row, its runs (one per watch process that planned into it)
 * and its counts. A batch that rolls takes no more files; it is closed (status, counts,
 * end) once it has nothing pending, by whoever sees that first (settle), so `status` and
 * `report` read a watch's history as any batch's.
 */
export class RollingBatches {
  private current: { id: string; startedAt: number; planned: number; run: BatchRun } | undefined;
  private readonly now: () => number;
  /** planning into a batch and rolling it take turns: no row lands in a batch after it rolled */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly opts: RollingOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  get currentId(): string | undefined {
    return this.current?.id;
  }

  /** the batch run's target events go to the current batch */
  noteTarget(target: string, state: 'down' | 'up', at: number): void {
    this.current?.run.noteTarget(target, state, at);
  }

  /** At start: carry on the newest batch if it is still open and not due to roll, else leave it to roll. */
  async open(): Promise<void> {
    const newest = await newestBatch(this.store.knex, this.opts.prefix);
    if (!newest || newest.finishedAt !== null || this.now() - newest.startedAt >= this.opts.everyMs) return;
    const counts = await this.store.countFiles(newest.id);
    if (counts.total >= this.opts.maxFiles) return;
    await this.store.knex('batches').where({ id: newest.id }).update({ status: 'running' });
    await ensureTargetLeases(this.store.knex, newest.id, this.opts.targets);
    this.current = { id: newest.id, startedAt: newest.startedAt, planned: counts.total, run: await startBatchRun(this.store, newest.id, this.opts.logger) };
    this.opts.logger.info('batch_continued', { event: 'batch_continued', batchId: newest.id, files: counts.total });
  }

  /**
   * Write into the batch new files go into (`room`: how many more it takes), the batch
   * held until `write` is done: a batch that rolls meanwhile waits for it, so once a newer
   * batch exists an older one takes no more rows (`fanout work --batch-prefix` relies on it).
   */
  withBatch<T>(write: (batch: { id: string; room: number }) => Promise<T>): Promise<T> {
    return this.inTurn(async () => write(await this.batchFor()));
  }

  private inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.turn.then(fn);
    this.turn = run.catch(() => undefined);
    return run;
  }

  /** The batch new files go into, and how many more it takes: the current one, or a new one when it is due to roll. */
  private async batchFor(): Promise<{ id: string; room: number }> {
    const c = this.current;
    if (c && this.now() - c.startedAt < this.opts.everyMs && c.planned < this.opts.maxFiles) return { id: c.id, room: this.opts.maxFiles - c.planned };
    await this.roll();
    let at = this.now();
    while (this.current === undefined && (await this.store.getBatch(rollingBatchId(this.opts.prefix, at)))) at++;
    const id = rollingBatchId(this.opts.prefix, at);
    const zero = { total: 0, uploaded: 0, failed: 0, skipped: 0, bytes: 0, finishedAt: null };
    await this.store.createBatch({ id, sourceDir: this.opts.dir, targets: [...this.opts.targets], assign: this.opts.assign, status: 'running', ...zero, startedAt: at });
    await ensureTargetLeases(this.store.knex, id, this.opts.targets);
    this.current = { id, startedAt: at, planned: 0, run: await startBatchRun(this.store, id, this.opts.logger) };
    this.opts.logger.info('batch_start', { event: 'batch_start', batchId: id, dir: this.opts.dir, targets: this.opts.targets, watch: this.opts.prefix });
    return { id, room: this.opts.maxFiles };
  }

  /** a batch due to roll with nothing arriving still rolls on time */
  rollIfDue(): Promise<void> {
    return this.inTurn(async () => {
      const c = this.current;
      if (c && (this.now() - c.startedAt >= this.opts.everyMs || c.planned >= this.opts.maxFiles)) await this.roll();
    });
  }

  planned(n: number): void {
    if (this.current) this.current.planned += n;
  }

  /** Close the current batch to new files: its counts now, its end once nothing is pending. */
  private async roll(interrupted = false): Promise<void> {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    const status = await this.writeCounts(c.id, interrupted);
    const counts = await this.store.countFiles(c.id);
    await c.run.finish(status, { ...counts, skipped: 0 });
    this.opts.logger.info('batch_rolled', { event: 'batch_rolled', batchId: c.id, status, ...counts });
  }

  /** Close every open batch but the current one that has nothing pending left. */
  async settle(): Promise<void> {
    for (const id of await openBatches(this.store.knex, this.opts.prefix)) {
      if (id !== this.current?.id) await this.writeCounts(id, false);
    }
  }

  /** The process stops: the current batch rolls, interrupted if files still wait (a restart carries them on). */
  stop(): Promise<void> {
    return this.inTurn(() => this.roll(true));
  }

  /** Counts from the file rows; with nothing pending, the batch's end. */
  private async writeCounts(id: string, interrupted: boolean): Promise<BatchStatus> {
    const c = await this.store.countFiles(id);
    const done = (await pendingCount(this.store.knex, id)) === 0;
    const status: BatchStatus = done ? (c.failed > 0 ? 'completed_with_failures' : 'completed') : interrupted ? 'interrupted' : 'running';
    await this.store.updateBatch(id, { status, total: c.total, uploaded: c.uploaded, failed: c.failed, skipped: 0, bytes: c.bytes, finishedAt: done ? this.now() : null });
    return status;
  }
}
