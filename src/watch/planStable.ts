import type { Logger } from '../logger.js';
import { planned } from '../runs/planBatch.js';
import { insertNewPending, refreshUnclaimed } from '../store/planQueries.js';
import type { FileRow, Store } from '../store/types.js';
import { latestRows, type LatestRow } from '../store/watchQueries.js';
import type { SourceFile } from '../types.js';
import type { RollingBatches } from './rollingBatches.js';

export interface PlanStableOptions {
  store: Store;
  batches: RollingBatches;
  prefix: string;
  targets: readonly string[];
  assign: string;
  logger: Logger;
}

/**
 * Stable files into the watch's queue, checked against the registry at the moment of
 * writing (a file seen twice before its row was durable is planned once): a file whose
 * latest row has its size and mtime is done (or waiting) already; a new one gets a
 * pending row in the current batch; a changed one is a new upload, recorded as such
 * (its waiting row refreshed where nobody holds it, else a new row). Resolves to the
 * rows written.
 */
export function planStable(opts: PlanStableOptions): (files: SourceFile[]) => Promise<number> {
  const { store, batches, prefix, targets, assign } = opts;
  let turn = 0;
  return async (files) => {
    if (files.length === 0) return 0;
    const latest = await latestRows(store.knex, prefix, files.map((f) => f.path));
    const todo = files.filter((f) => {
      const row = latest.get(f.path);
      return !row || row.sizeBytes !== f.size || row.mtimeMs !== f.mtimeMs;
    });
    if (todo.length === 0) return 0;
    let written = 0;
    for (let i = 0; i < todo.length; ) {
      written += await batches.withBatch(({ id, room }) => {
        const slice = todo.slice(i, i + room);
        i += slice.length;
        return write(id, slice, latest);
      });
    }
    return written;
  };

  async function write(batchId: string, todo: SourceFile[], latest: Map<string, LatestRow>): Promise<number> {
    const fresh: FileRow[] = [];
    const waiting: FileRow[] = [];
    const again: FileRow[] = [];
    for (const file of todo) {
      const row = latest.get(file.path);
      // a changed file goes where its last copy went: overwritten there, not a stale copy left behind
      const target = row?.target && targets.includes(row.target) ? row.target : assign === 'least-loaded' ? null : targets[turn++ % targets.length];
      const want = planned(batchId, { file, target });
      if (!row || (row.batchId !== batchId && row.status !== 'pending')) fresh.push(want);
      else if (row.status === 'pending') waiting.push({ ...want, batchId: row.batchId });
      else again.push(want); // uploaded or failed in this batch, and changed since
    }
    await insertNewPending(store.knex, fresh);
    const refreshed = await refreshUnclaimed(store.knex, waiting);
    if (again.length > 0) await store.planPending(again);
    batches.planned(fresh.length + again.length);
    if (refreshed < waiting.length) {
      // held by an upload under way: it sends what is there at its claim; a later look sees any difference
      opts.logger.debug('watch_changed_in_flight', { event: 'watch_changed_in_flight', count: waiting.length - refreshed });
    }
    return fresh.length + refreshed + again.length;
  }
}
