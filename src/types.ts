/** A file found by the walker. `path` is relative to the source dir, `/`-separated. */
export interface SourceFile {
  path: string;
  /** a Buffer when the path is not valid UTF-8 (fs takes either) */
  absPath: string | Buffer;
  name: string;
  size: number;
  mtimeMs: number;
  /**
   * Some name on the path is not valid UTF-8: its bytes are escaped in `path` and `name`
   * (see pathBytes.ts). Such a file is recorded as failed, never uploaded.
   */
  invalidName?: true;
  /** named by a file list but not usable (missing, or outside the dir): recorded failed with this, never uploaded */
  error?: string;
}

/** Why the walker left something out on purpose. */
export type SkipReason = 'loop' | 'excluded' | 'tooYoung' | 'notRegular';

/**
 * What the walker left out, by reason. Never part of `total`: these have no rows.
 * loops: directories not entered again; excluded: files the globs leave out; tooYoung:
 * files newer than --min-age; notRegular: anything neither a file nor a directory.
 */
export interface WalkSkips {
  loops: number;
  excluded: number;
  tooYoung: number;
  notRegular: number;
}

/** A file tagged with its target; `target` is null when the target is chosen at upload time (least-loaded). */
export interface Assignment {
  file: SourceFile;
  target: string | null;
  /** set by plan() on --resume: the file is already on a target, nothing to upload */
  skip?: boolean;
  /** sha256 recorded for the file, when plan() already knows it */
  sha256?: string | null;
  /** set by plan() when the database refused the file's row: not uploaded, a failed result (uploadFiles' unsent) */
  planError?: string;
}

/** pending: not finished (the run was interrupted); its row stays pending */
export type UploadStatus = 'uploaded' | 'failed' | 'skipped' | 'pending';

/** One try of a file on one target: `retried` (tried again, here or elsewhere), `interrupted` (the run stopped it). */
export interface UploadTry {
  target: string;
  startedAt: number;
  finishedAt: number;
  outcome: 'uploaded' | 'failed' | 'retried' | 'interrupted';
  error: string | null;
  /** the target's limit on uploads in flight when this try got its slot */
  limit?: number;
}

export interface UploadResult {
  file: SourceFile;
  /** the target that holds the file (uploaded) or was last tried (failed); null if none was */
  target: string | null;
  status: UploadStatus;
  sha256: string | null;
  /** the receiver returned a digest and it matched ours */
  verified: boolean;
  attempts: number;
  error: string | null;
  startedAt: number | null;
  finishedAt: number | null;
  /** every try, in order, on whichever target it was (absent when none was made) */
  tries?: UploadTry[];
}

export interface TargetTally {
  uploaded: number;
  failed: number;
  bytes: number;
  /** in the summary only, from the fleet at the end: the target's final limit */
  limit?: number;
  /** in the summary only: bytes/s over the target's run */
  bytesPerSec?: number;
  /** in the summary only: median latency of its uploads, ms */
  medianLatencyMs?: number;
}

export interface Tally {
  total: number;
  uploaded: number;
  failed: number;
  skipped: number;
  bytes: number;
  targets: Record<string, TargetTally>;
}

export type BatchStatus = 'planned' | 'running' | 'completed' | 'completed_with_failures' | 'interrupted' | 'failed';

export interface Summary extends Tally, WalkSkips {
  batchId: string;
  status: BatchStatus;
  pending: number;
  durationMs: number;
  /** why the run stopped early (status failed): no target answered, credentials refused, --max-errors, the database */
  reason?: string;
}
