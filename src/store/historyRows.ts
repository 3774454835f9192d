import type { BatchStatus } from '../types.js';
import type { AttemptRow, RunRow } from './types.js';

/** `batch_runs` and `upload_attempts` records, as rows.ts does for the older tables. */
export function toRunRecord(r: Omit<RunRow, 'id'>): Record<string, unknown> {
  return {
    batch_id: r.batchId, started_at: r.startedAt, finished_at: r.finishedAt, host: r.host, pid: r.pid, status: r.status,
    total: r.total, uploaded: r.uploaded, failed: r.failed, skipped: r.skipped, bytes: r.bytes,
  };
}

export function fromRunRecord(r: Record<string, unknown>): RunRow {
  return {
    id: Number(r.id), batchId: String(r.batch_id), startedAt: Number(r.started_at), finishedAt: r.finished_at === null ? null : Number(r.finished_at),
    host: String(r.host), pid: Number(r.pid), status: String(r.status) as BatchStatus,
    total: Number(r.total), uploaded: Number(r.uploaded), failed: Number(r.failed), skipped: Number(r.skipped), bytes: Number(r.bytes),
  };
}

export function toAttemptRecord(a: AttemptRow, key: string): Record<string, unknown> {
  return {
    batch_id: a.batchId, path_key: key, target: a.target, attempt: a.attempt, started_at: a.startedAt, finished_at: a.finishedAt,
    outcome: a.outcome, error: a.error, worker_id: a.workerId ?? null, target_limit: a.targetLimit ?? null,
  };
}
