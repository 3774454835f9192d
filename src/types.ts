/** A file found by the walker. `path` is relative to the source dir, `/`-separated. */
export interface SourceFile {
  path: string;
  absPath: string;
  name: string;
  size: number;
  mtimeMs: number;
}

/** A file tagged with its target; `target` is null when the target is chosen at upload time (least-loaded). */
export interface Assignment {
  file: SourceFile;
  target: string | null;
  /** set by plan() on --resume: the file is already on a target, nothing to upload */
  skip?: boolean;
  /** sha256 recorded for the file, when plan() already knows it */
  sha256?: string | null;
  /** set by plan() when the database refused the file's row: not uploaded, a failed result (planFailed) */
  planError?: string;
}

/** pending: not finished (the run was interrupted); its row stays pending */
export type UploadStatus = 'uploaded' | 'failed' | 'skipped' | 'pending';

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
}

export interface TargetTally {
  uploaded: number;
  failed: number;
  bytes: number;
}

export interface Tally {
  total: number;
  uploaded: number;
  failed: number;
  skipped: number;
  bytes: number;
  targets: Record<string, TargetTally>;
}

export type BatchStatus = 'running' | 'completed' | 'completed_with_failures' | 'interrupted' | 'failed';

export interface Summary extends Tally {
  batchId: string;
  status: BatchStatus;
  pending: number;
  durationMs: number;
}
