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

export interface BatchCounts {
  status: BatchStatus;
  total: number;
  uploaded: number;
  failed: number;
  skipped: number;
  bytes: number;
  finishedAt: number | null;
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
  recordOutcomes(rows: readonly FileRow[], calls: readonly CallRow[], trx?: Knex.Transaction): Promise<void>;

  lookupProcess(id: number): Promise<ProcessRow | undefined>;

  // read side, for status and report
  countFiles(batchId: string): Promise<{ total: number; pending: number; uploaded: number; failed: number; bytes: number }>;
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
