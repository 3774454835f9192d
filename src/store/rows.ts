import { createHash } from 'node:crypto';
import { pathBytes, printablePath } from '../pathBytes.js';
import type { BatchStatus } from '../types.js';
import type { BatchRow, CallRow, FileRow, FileStatus, ProcessRow } from './types.js';

/** UTF-8 bytes of a path that lead its key, in hex (migration 20261129120000 computes the same in SQL). */
export const PATH_KEY_PREFIX_BYTES = 32;

/**
 * The byte-exact key of a path: the hex of its first 32 UTF-8 bytes, '.', and the hex
 * sha256 of all of them. The hash makes it unique: paths that differ only in case,
 * normalisation form or trailing spaces get different keys on every dialect. The prefix
 * puts keys in the walk's (byte) order, so a batch of rows lands together in the indexes.
 */
export function pathKey(filePath: string): string {
  const bytes = pathBytes(filePath); // a name that is not UTF-8 by its real bytes, not its escapes
  return `${bytes.subarray(0, PATH_KEY_PREFIX_BYTES).toString('hex')}.${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Columns as the drivers return them: SQLite gives booleans as 0/1, MySQL may give numbers as strings. */
type Raw<T> = { [K in keyof T]: unknown };

export interface FileRecord {
  batch_id: string;
  file_path: string;
  path_key: string;
  file_name: string;
  target: string | null;
  size_bytes: number;
  mtime_ms: number;
  sha256: string | null;
  verified: boolean;
  status: FileStatus;
  attempts: number;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
}

/** Everything an upsert of a file row overwrites (all but the key). */
export const FILE_MERGE_COLUMNS = [
  'file_path', 'file_name', 'target', 'size_bytes', 'mtime_ms', 'sha256', 'verified',
  'status', 'attempts', 'error', 'started_at', 'finished_at',
] as const satisfies readonly (keyof FileRecord)[];

export interface CallRecord {
  batch_id: string;
  file_path: string;
  path_key: string;
  file_name: string;
  target: string;
  sha256: string | null;
  process_id: number | null;
  audit_form_id: number | null;
  created_at: number;
}

/** What a call takes from a later upload of its file; its status is merged apart (knexStore). */
export const CALL_MERGE_COLUMNS = ['file_path', 'file_name', 'target', 'sha256', 'created_at'] as const satisfies readonly (keyof CallRecord)[];

export interface BatchRecord {
  id: string;
  source_dir: string;
  targets: string;
  assign: string;
  status: BatchStatus;
  total: number;
  uploaded: number;
  failed: number;
  skipped: number;
  bytes: number;
  started_at: number;
  finished_at: number | null;
}

const num = (v: unknown): number => Number(v ?? 0);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/**
 * `key` is the row's pathKey when the caller already has it (a file's row and its call share it).
 * No database stores a lone surrogate, so a name that is not UTF-8 goes in as its printable
 * form (`caf\xE9.wav`): read back, such a row is found by its key, never by file_path.
 */
export function toFileRecord(row: FileRow, key = pathKey(row.filePath)): FileRecord {
  return {
    batch_id: row.batchId,
    file_path: printablePath(row.filePath),
    path_key: key,
    file_name: printablePath(row.fileName),
    target: row.target,
    size_bytes: row.sizeBytes,
    mtime_ms: row.mtimeMs,
    sha256: row.sha256,
    verified: row.verified,
    status: row.status,
    attempts: row.attempts,
    error: row.error,
    started_at: row.startedAt,
    finished_at: row.finishedAt,
  };
}

export function fromFileRecord(r: Raw<FileRecord>): FileRow {
  return {
    batchId: String(r.batch_id),
    filePath: String(r.file_path),
    fileName: String(r.file_name),
    target: strOrNull(r.target),
    sizeBytes: num(r.size_bytes),
    mtimeMs: num(r.mtime_ms),
    sha256: strOrNull(r.sha256),
    verified: Boolean(Number(r.verified)),
    status: String(r.status) as FileStatus,
    attempts: num(r.attempts),
    error: strOrNull(r.error),
    startedAt: numOrNull(r.started_at),
    finishedAt: numOrNull(r.finished_at),
  };
}

export function toCallRecord(call: CallRow, key = pathKey(call.filePath)): CallRecord {
  return {
    batch_id: call.batchId,
    file_path: printablePath(call.filePath),
    path_key: key,
    file_name: printablePath(call.fileName),
    target: call.target,
    sha256: call.sha256,
    process_id: call.processId,
    audit_form_id: call.auditFormId,
    created_at: call.createdAt,
  };
}

export function toBatchRecord(b: BatchRow): BatchRecord {
  return {
    id: b.id,
    source_dir: b.sourceDir,
    targets: JSON.stringify(b.targets),
    assign: b.assign,
    status: b.status,
    total: b.total,
    uploaded: b.uploaded,
    failed: b.failed,
    skipped: b.skipped,
    bytes: b.bytes,
    started_at: b.startedAt,
    finished_at: b.finishedAt,
  };
}

export function fromBatchRecord(r: Raw<BatchRecord>): BatchRow {
  return {
    id: String(r.id),
    sourceDir: String(r.source_dir),
    targets: parseTargets(r.targets),
    assign: String(r.assign),
    status: String(r.status) as BatchStatus,
    total: num(r.total),
    uploaded: num(r.uploaded),
    failed: num(r.failed),
    skipped: num(r.skipped),
    bytes: num(r.bytes),
    startedAt: num(r.started_at),
    finishedAt: numOrNull(r.finished_at),
  };
}

function parseTargets(v: unknown): string[] {
  const parsed: unknown = JSON.parse(String(v));
  if (!Array.isArray(parsed)) throw new TypeError(`batches.targets is not a JSON array: ${String(v).slice(0, 80)}`);
  return parsed.map(String);
}

export interface ProcessRecord {
  id: number;
  name: string;
  audit_form_id: number | null;
}

export function fromProcessRecord(r: Raw<ProcessRecord>): ProcessRow {
  return { id: num(r.id), name: String(r.name), auditFormId: numOrNull(r.audit_form_id) };
}
