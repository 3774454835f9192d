import type { Knex } from 'knex';
import type { BatchStatus } from '../types.js';

export type FileStatus = 'pending' | 'uploaded' | 'failed';

/** One row of `file_distributions`. Times are integer epoch milliseconds. */
export interface FileRow {
  batchId: string;
  filePath: string;
  fileName: string;
  target: string | null;
  sizeBytes: number;
  mtimeMs: number;
  sha256: string | null;
  verified: boolean;
  status: FileStatus;
  attempts: number;
  error: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

/** One row of `calls`: the hand-off of an uploaded file to the GPU processing stage. */
export interface CallRow {
  batchId: string;
  filePath: string;
  fileName: string;
  /** the host that holds the bytes to process: the file's latest upload */
  target: string;
  /** which bytes: a call is queued again only when they change */
  sha256: string | null;
  processId: number | null;
  auditFormId: number | null;
  createdAt: number;
}

export interface BatchRow {
  id: string;
  sourceDir: string;
  /** target URLs, credentials removed */
  targets: string[];
  assign: string;
  status: BatchStatus;
  total: number;
  uploaded: number;
  failed: number;
  skipped: number;
  bytes: number;
  startedAt: number;
  finishedAt: number | null;
}

/** How a batch (or one run of it) ended, or stands: its status and counts. */
type Counts = Pick<BatchRow, 'status' | 'total' | 'uploaded' | 'failed' | 'skipped' | 'bytes'>;

export type BatchCounts = Counts & Pick<BatchRow, 'finishedAt'>;

/** One row of `batch_runs`: a run of a batch (the first, or a --resume), its host and process, and that run's counts. */
export interface RunRow extends Counts {
  id: number;
  batchId: string;
  startedAt: number;
  /** null while running, or when the process died before it could close the row */
  finishedAt: number | null;
  host: string;
  pid: number;
}

export type RunEnd = Counts & { finishedAt: number };

/** How one try of a file on one target ended: `retried` (tried again, here or on another target), `interrupted` (the run stopped it). */
export type AttemptOutcome = 'uploaded' | 'failed' | 'retried' | 'interrupted';

/** One row of `upload_attempts`: a try of a file on a target. */
export interface AttemptRow {
  batchId: string;
  filePath: string;
  target: string;
  /** 1, 2, ... across every target the file was tried on, within one run */
  attempt: number;
  startedAt: number;
  finishedAt: number;
  outcome: AttemptOutcome;
  error: string | null;
  /** the worker (`workers.id`) that made the try; null or absent for a plain `fanout upload` */
  workerId?: string | null;
  /** the target's limit on uploads in flight when the try got its slot; null in rows from before it was kept */
  targetLimit?: number | null;
}

/** One row of `target_events`: a target marked down, or back up, during a run of the batch. */
export interface TargetEventRow {
  batchId: string;
  target: string;
  state: 'down' | 'up';
  at: number;
}

/** A batch's counts from its file rows (every run together). Bytes count uploaded files only. */
export interface FileCounts {
  total: number;
  pending: number;
  uploaded: number;
  failed: number;
  bytes: number;
}

export interface ProcessRow {
  id: number;
  name: string;
  auditFormId: number | null;
}

/** Per-target counts of one batch, from file_distributions. */
export interface TargetCounts {
  target: string;
  uploaded: number;
  failed: number;
  pending: number;
  bytes: number;
}

export interface Store {
  readonly knex: Knex;
  /** 'sqlite' | 'mysql' */
  readonly dialect: 'sqlite' | 'mysql';
  /** run the migrations loaded from code (idempotent) */
  migrate(): Promise<void>;
  /** reads only: 'missing' (no fanout tables), 'older' (migrations pending), else 'current' (or newer) */
  schemaState(): Promise<'missing' | 'older' | 'current'>;
  /** throws if the database cannot be reached */
  ping(): Promise<void>;
  close(): Promise<void>;

  createBatch(batch: BatchRow): Promise<void>;
  getBatch(id: string): Promise<BatchRow | undefined>;
  /** set status and counts (counts of this run) */
  updateBatch(id: string, counts: BatchCounts): Promise<void>;
  listBatches(limit?: number): Promise<BatchRow[]>;

  /** rows already recorded for these paths in this batch (for --resume), keyed by the path as given */
  findFiles(batchId: string, paths: readonly string[]): Promise<Map<string, FileRow>>;
  /**
   * Write-ahead: write these rows (status pending) in multi-row statements inside one
   * transaction, at most 500 rows a statement; an existing row for the same
   * (batch_id, file_path) is overwritten with the given values.
   */
  planPending(rows: readonly FileRow[]): Promise<void>;
  /**
   * Outcomes, all in one transaction, multi-row statements: upsert these file rows; upsert
   * the calls rows, an existing call taking the new target, name, time and bytes and going
   * back to `queued` only if the bytes changed; delete the call of every row recorded
   * `failed` (no hand-off of bytes that were not delivered).
   * Given `trx`, the writes join that transaction (a worker's fenced write, work/fencedStore).
   */
  recordOutcomes(rows: readonly FileRow[], calls: readonly CallRow[], attempts?: readonly AttemptRow[], trx?: Knex.Transaction): Promise<void>;

  /** a run's row, written as it starts (finishedAt null, status running); resolves to its id */
  startRun(run: Omit<RunRow, 'id'>): Promise<number>;
  /** close a run's row: its end, status and counts */
  finishRun(id: number, end: RunEnd): Promise<void>;
  /** a batch's runs, oldest first */
  listRuns(batchId: string): Promise<RunRow[]>;
  /** targets going down and up, in multi-row inserts */
  recordTargetEvents(events: readonly TargetEventRow[]): Promise<void>;
  /** a batch's attempts, ordered by start (attempts of files whose row is gone are left out) */
  listAttempts(batchId: string): Promise<AttemptRow[]>;
  listTargetEvents(batchId: string): Promise<TargetEventRow[]>;

  lookupProcess(id: number): Promise<ProcessRow | undefined>;

  // read side, for status and report
  countFiles(batchId: string): Promise<FileCounts>;
  /** countFiles for several batches in one query (a batch without rows is absent) */
  countFilesOf(batchIds: readonly string[]): Promise<Map<string, FileCounts>>;
  targetCounts(batchId: string): Promise<TargetCounts[]>;
  /** rows of a batch ordered by started_at (for the timeline); filtered by status when given */
  listFiles(batchId: string, opts?: { status?: FileStatus; limit?: number }): Promise<FileRow[]>;
  countCalls(batchId: string): Promise<number>;

  /**
   * After a --resume whose walk ran to its end: every row of the batch still `pending` is
   * a file the walk no longer finds. Mark them all failed with `error`, in one statement;
   * resolves to how many there were.
   */
  settleMissing(batchId: string, error: string): Promise<number>;
}
