import type { BatchRow, FileRow } from '../../../src/store/types.js';
import type { ReportData } from '../../../src/report/types.js';

export const T0 = 1764384000123;

export function batch(over: Partial<BatchRow> = {}): BatchRow {
  return {
    id: 'b-report', sourceDir: '/data/calls', targets: ['http://a:1', 'http://b:1'], assign: 'round-robin', status: 'completed',
    total: 0, uploaded: 0, failed: 0, skipped: 0, bytes: 0, startedAt: T0, finishedAt: T0 + 10_000, ...over,
  };
}

/** An uploaded row on `target` from T0+start to T0+end (ms). */
export function row(filePath: string, target: string | null, start: number | null, end: number | null, over: Partial<FileRow> = {}): FileRow {
  return {
    batchId: 'b-report', filePath, fileName: filePath.split('/').pop() ?? filePath, target, sizeBytes: 1000, mtimeMs: T0,
    sha256: null, verified: true, status: 'uploaded', attempts: 1, error: null,
    startedAt: start === null ? null : T0 + start, finishedAt: end === null ? null : T0 + end, ...over,
  };
}

export function data(files: FileRow[], over: Partial<BatchRow> = {}): ReportData {
  return { batch: batch(over), files, generatedAt: T0 + 60_000 };
}

/** n uploads spread over `targets`, `perTarget` in flight at once on each, every `failEvery`th failed. */
export function manyRows(n: number, targets: readonly string[], perTarget = 4, failEvery = 37): FileRow[] {
  return Array.from({ length: n }, (_, i) => {
    const slot = Math.floor(i / targets.length);
    const start = Math.floor(slot / perTarget) * 100 + (slot % perTarget) * 7;
    const failed = i % failEvery === 0;
    return row(`d/f${i}.wav`, targets[i % targets.length], start, start + 90, failed ? { status: 'failed', attempts: 4, error: 'HTTP 503' } : {});
  });
}
