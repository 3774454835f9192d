import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import { pendingRow, resumeDecision } from '../operators/planUploads.js';
import { printablePath } from '../pathBytes.js';
import { listedFiles } from '../sources/listedFiles.js';
import { walkFiles, type WalkOptions } from '../sources/walkFiles.js';
import { openStore } from '../store/openStore.js';
import { insertNewPending, refreshUnclaimed, requeueFinished, updateBatchPlan } from '../store/planQueries.js';
import { ensureTargetLeases } from '../store/targetLeaseQueries.js';
import type { FileRow, Store } from '../store/types.js';
import type { UploadConfig } from '../config.js';
import type { Assignment, SkipReason } from '../types.js';
import { checkResumeDir } from './resumeFromBatch.js';

export interface PlanSummary {
  batchId: string;
  /** files the walk found */
  total: number;
  /** rows written for files new to the batch */
  added: number;
  /** pending rows nobody held, refreshed because the file's size or mtime changed (and, with
   * `requeue`, failed rows and changed uploaded files put back to pending) */
  changed: number;
  /** files whose row stays as it is: unchanged, claimed by a worker, or done */
  kept: number;
}

type PlanConfig = Pick<UploadConfig, 'dir' | 'targets' | 'include' | 'exclude' | 'ignoreCase' | 'minAgeMs' | 'followSymlinks' | 'assign' | 'batchId' | 'db'>;

export interface PlanOptions {
  /** an open store (left open); default: one opened from config.db and closed after */
  store?: Store;
  /** a resume's plan: failed files, and uploaded ones whose file changed, are queued again */
  requeue?: boolean;
  /** relative paths taken in place of a walk (--files-from) */
  files?: AsyncIterable<string> | Iterable<string>;
  /** stops the walk (what was found so far is planned) */
  signal?: AbortSignal;
  onSkip?: (reason: SkipReason, relPath: string) => void;
  onBatch?: (s: PlanSummary) => void;
}

/**
 * Walk the tree once and make the batch's work queue: one `pending` row per file, written
 * 500 at a time as the walk goes (memory does not grow with the tree). Planning again
 * adds new files and refreshes changed ones that no worker holds; it leaves claimed and
 * finished rows alone. The batch row keeps the directory, targets and strategy.
 */
export async function planBatch(config: PlanConfig, logger: Logger, opts: PlanOptions = {}): Promise<PlanSummary> {
  const store = opts.store ?? (await openStore(config, logger));
  try {
    const { batchId } = config;
    const existing = await store.getBatch(batchId);
    if (existing) {
      checkResumeDir(existing, config.dir);
      if (existing.status === 'running' && (await liveUpload(store, batchId))) {
        throw new ConfigError(`batch "${batchId}" is being uploaded by \`fanout upload\` right now: plan it once that run ends`);
      }
      await updateBatchPlan(store.knex, batchId, config.targets, config.assign);
    } else {
      const zero = { total: 0, uploaded: 0, failed: 0, skipped: 0, bytes: 0, finishedAt: null };
      await store.createBatch({ id: batchId, sourceDir: config.dir, targets: config.targets, assign: config.assign, status: 'planned', ...zero, startedAt: Date.now() });
    }
    await ensureTargetLeases(store.knex, batchId, config.targets);
    const summary: PlanSummary = { batchId, total: 0, added: 0, changed: 0, kept: 0 };
    let buffer: Assignment[] = [];
    let i = 0;
    const flush = async () => {
      const found = await store.findFiles(batchId, buffer.map((a) => a.file.path));
      const fresh: FileRow[] = [];
      const changed: FileRow[] = [];
      const again: { was: FileRow; want: FileRow }[] = [];
      for (const a of buffer) {
        const row = found.get(a.file.path);
        const want = planned(batchId, a);
        if (!row) fresh.push(want);
        else if (row.status === 'pending' && (row.sizeBytes !== want.sizeBytes || row.mtimeMs !== want.mtimeMs)) changed.push(want);
        else if (opts.requeue && row.status !== 'pending' && !a.file.invalidName) {
          const d = await resumeDecision(a, row);
          if (!d.skip) again.push({ was: row, want: { ...want, target: d.target } });
        }
      }
      await insertNewPending(store.knex, fresh);
      const refreshed = (await refreshUnclaimed(store.knex, changed)) + (await requeueFinished(store.knex, again));
      summary.total += buffer.length;
      summary.added += fresh.length;
      summary.changed += refreshed;
      summary.kept += buffer.length - fresh.length - refreshed;
      buffer = [];
      opts.onBatch?.({ ...summary });
    };
    const walkOptions: WalkOptions = {
      include: config.include, exclude: config.exclude, ignoreCase: config.ignoreCase, minAgeMs: config.minAgeMs, followSymlinks: config.followSymlinks,
      onError: (path, err) => logger.warn('walk_error', { event: 'walk_error', batchId, file: printablePath(path), error: String(err) }),
      onSkip: opts.onSkip,
    };
    const walk = opts.files ? listedFiles(config.dir, opts.files, walkOptions) : walkFiles(config.dir, walkOptions);
    for await (const file of walk) {
      if (opts.signal?.aborted) break;
      buffer.push({ file, target: config.assign === 'least-loaded' ? null : config.targets[i++ % config.targets.length] });
      if (buffer.length >= 500) await flush();
    }
    await flush();
    const counts = await store.countFiles(batchId);
    await store.knex('batches').where({ id: batchId }).update({ total: counts.total });
    return summary;
  } finally {
    if (!opts.store) await store.close().catch(() => undefined);
  }
}

/** A name that is not UTF-8 has no URL a receiver would store it under: its row says so at once. */
export function planned(batchId: string, a: Assignment): FileRow {
  const row = pendingRow(batchId, a);
  if (!a.file.invalidName) return row;
  return { ...row, target: null, status: 'failed', error: `file name is not valid UTF-8: ${printablePath(a.file.path)} (rename it)`, finishedAt: Date.now() };
}

async function liveUpload(store: Store, batchId: string): Promise<boolean> {
  const r = await store.knex('batches').where({ id: batchId }).where('lease_expires_at', '>', Date.now()).first('id');
  return r !== undefined;
}
