import { identity, takeUntil, type Observable } from 'rxjs';
import type { Fleet } from './http/fleet.js';
import type { Uploader } from './http/uploader.js';
import type { Logger } from './logger.js';
import { assignTargets, type AssignStrategy } from './operators/assignTargets.js';
import { planUploads } from './operators/planUploads.js';
import { recordResults } from './operators/recordResults.js';
import { tallyResults } from './operators/tallyResults.js';
import { uploadFiles } from './operators/uploadFiles.js';
import { printablePath } from './pathBytes.js';
import { listedFiles } from './sources/listedFiles.js';
import { walkFiles, type WalkOptions } from './sources/walkFiles.js';
import { windowed } from './sources/windowed.js';
import type { Store } from './store/types.js';
import type { SkipReason, Tally, UploadResult } from './types.js';

export interface DistributeOptions {
  dir: string;
  targets: readonly string[];
  batchId: string;
  include?: readonly string[];
  ignoreCase?: boolean;
  exclude?: readonly string[];
  minAgeMs?: number;
  followSymlinks?: boolean;
  assign?: AssignStrategy;
  retries?: number;
  resume?: boolean;
  processId?: number | null;
  auditFormId?: number | null;
  dbRetryMs?: number;
  /** relative paths under `dir`, one per value, taken in place of a walk (--files-from) */
  files?: AsyncIterable<string> | Iterable<string>;
  /** files the walker may run ahead of finished (recorded) uploads */
  window?: number;
}

export interface DistributeDeps {
  store: Store;
  fleet: Fleet;
  uploader: Pick<Uploader, 'upload'>;
  logger: Logger;
  /** when it emits, no new file is taken from the walker */
  stop$?: Observable<unknown>;
  /** aborts uploads in flight, and ends any wait for the database */
  signal?: AbortSignal;
  /** sees what the walker leaves out on purpose (to count it); a loop is also logged */
  onSkip?: (reason: SkipReason, relPath: string) => void;
}

/**
 * The whole flow as one observable of results, each emitted once durable:
 *
 *   walk -> assign -> plan -> upload -> record
 *
 * The walker pulls only against credits (windowed): at most `window` files are between
 * the walker and the database at any time.
 */
export function distributeResults(opts: DistributeOptions, deps: DistributeDeps): Observable<UploadResult> {
  const { dir, targets, batchId, assign = 'round-robin', retries = 3, dbRetryMs = 60_000, window = 1024 } = opts;
  const { store, fleet, uploader, logger, stop$, signal } = deps;
  const walkOptions: WalkOptions = {
    include: opts.include,
    exclude: opts.exclude,
    ignoreCase: opts.ignoreCase,
    minAgeMs: opts.minAgeMs,
    followSymlinks: opts.followSymlinks,
    onError: (path, err) => logger.warn('walk_error', { event: 'walk_error', batchId, file: printablePath(path), error: String(err) }),
    onSkip: (reason, path) => {
      if (reason === 'loop') logger.warn('walk_loop', { event: 'walk_loop', batchId, dir: printablePath(path) });
      deps.onSkip?.(reason, path);
    },
  };
  const files = opts.files ? listedFiles(dir, opts.files, walkOptions) : walkFiles(dir, walkOptions);
  return windowed(
    files, window,
    stop$ ? takeUntil(stop$) : identity,
    assignTargets(assign, targets),
    planUploads({ store, batchId, resume: opts.resume, logger, dbRetryMs, signal }),
    uploadFiles({ fleet, uploader, logger, batchId, retries, signal }),
    recordResults({ store, batchId, processId: opts.processId, auditFormId: opts.auditFormId, logger, dbRetryMs, signal }),
  );
}

/** distributeResults, tallied: the last value is the batch's summary counts. */
export function distribute(opts: DistributeOptions, deps: DistributeDeps): Observable<Tally> {
  return distributeResults(opts, deps).pipe(tallyResults(opts.targets));
}
