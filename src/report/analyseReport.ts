import type { FileRow } from '../store/types.js';
import { packLanes, peakOverlap, unionLength } from './intervals.js';
import { niceStep } from './timeScale.js';
import type { ReportData } from './types.js';

/** Most sub-lanes drawn for one target; more uploads in flight than this overlap on screen. */
export const MAX_SUBLANES = 32;
/** Most bars of the throughput chart. */
export const MAX_BUCKETS = 240;

/** An upload with both times, placed on a sub-lane of its target's lane. */
export interface TimedUpload {
  row: FileRow;
  start: number;
  end: number;
  sublane: number;
  failed: boolean;
}

export interface TargetStats {
  target: string;
  files: number;
  uploaded: number;
  failed: number;
  pending: number;
  /** bytes of uploaded files */
  bytes: number;
  /** union of the target's upload intervals */
  busyMs: number;
  /** busyMs / the batch span, 0..1 */
  utilisation: number;
  /** mean duration of its uploaded files; null when none has times */
  meanUploadMs: number | null;
  /** most uploads in flight at once */
  peak: number;
  sublanes: number;
  /** sorted by start */
  uploads: TimedUpload[];
}

export interface ThroughputBucket {
  /** ms from the batch start */
  offsetMs: number;
  uploaded: number;
  failed: number;
  bytes: number;
}

export interface ReportModel {
  /** epoch ms of the timeline's left and right edges */
  t0: number;
  t1: number;
  spanMs: number;
  counts: { total: number; uploaded: number; failed: number; pending: number; bytes: number };
  targets: TargetStats[];
  /** uploads with both times and a target: the bars of the timeline */
  timed: number;
  throughput: { stepMs: number; buckets: ThroughputBucket[] };
  /** every failed row, by path */
  failures: FileRow[];
}

const hasTimes = (r: FileRow): r is FileRow & { target: string; startedAt: number; finishedAt: number } =>
  r.target !== null && r.startedAt !== null && r.finishedAt !== null;

/** Everything the page shows, computed from the rows in one pass per target. */
export function analyseReport({ batch, files }: ReportData): ReportModel {
  const counts = { total: files.length, uploaded: 0, failed: 0, pending: 0, bytes: 0 };
  const byTarget = new Map<string, FileRow[]>(batch.targets.map((t) => [t, []]));
  let t0 = batch.startedAt;
  let t1 = batch.finishedAt ?? batch.startedAt;
  for (const r of files) {
    counts[r.status]++;
    if (r.status === 'uploaded') counts.bytes += r.sizeBytes;
    if (r.target !== null) {
      const list = byTarget.get(r.target) ?? [];
      if (list.length === 0) byTarget.set(r.target, list);
      list.push(r);
    }
    if (hasTimes(r)) {
      t0 = Math.min(t0, r.startedAt);
      t1 = Math.max(t1, r.finishedAt, r.startedAt);
    }
  }
  const spanMs = t1 - t0;
  const extra = [...byTarget.keys()].filter((t) => !batch.targets.includes(t)).sort();
  const targets = [...batch.targets.filter((t, i, all) => all.indexOf(t) === i), ...extra].map((t) =>
    targetStats(t, byTarget.get(t) ?? [], spanMs),
  );
  return {
    t0, t1, spanMs, counts, targets,
    timed: targets.reduce((n, t) => n + t.uploads.length, 0),
    throughput: throughput(targets, t0, spanMs),
    failures: files.filter((r) => r.status === 'failed').sort((a, b) => (a.filePath < b.filePath ? -1 : a.filePath > b.filePath ? 1 : 0)),
  };
}

function targetStats(target: string, rows: readonly FileRow[], spanMs: number): TargetStats {
  const s = { target, files: rows.length, uploaded: 0, failed: 0, pending: 0, bytes: 0 };
  let uploadedMs = 0;
  let uploadedTimed = 0;
  const timed: Omit<TimedUpload, 'sublane'>[] = [];
  for (const r of rows) {
    s[r.status]++;
    if (r.status === 'uploaded') s.bytes += r.sizeBytes;
    if (!hasTimes(r)) continue;
    const item = { row: r, start: r.startedAt, end: Math.max(r.startedAt, r.finishedAt), failed: r.status === 'failed' };
    timed.push(item);
    if (r.status === 'uploaded') {
      uploadedMs += item.end - item.start;
      uploadedTimed++;
    }
  }
  timed.sort((a, b) => a.start - b.start || a.end - b.end);
  const { lanes, count } = packLanes(timed, MAX_SUBLANES);
  const busyMs = unionLength(timed);
  return {
    ...s,
    busyMs,
    utilisation: spanMs > 0 ? Math.min(1, busyMs / spanMs) : 0,
    meanUploadMs: uploadedTimed > 0 ? uploadedMs / uploadedTimed : null,
    peak: peakOverlap(timed),
    sublanes: count,
    uploads: timed.map((u, i) => ({ ...u, sublane: lanes[i] })),
  };
}

/** Finished uploads per time bucket: files/s over the batch. */
function throughput(targets: readonly TargetStats[], t0: number, spanMs: number): ReportModel['throughput'] {
  const stepMs = niceStep(Math.max(1, spanMs), MAX_BUCKETS, 100);
  const n = Math.max(1, Math.ceil(spanMs / stepMs));
  const buckets: ThroughputBucket[] = Array.from({ length: n }, (_, i) => ({ offsetMs: i * stepMs, uploaded: 0, failed: 0, bytes: 0 }));
  for (const t of targets) {
    for (const u of t.uploads) {
      const b = buckets[Math.min(n - 1, Math.floor((u.end - t0) / stepMs))];
      if (u.failed) b.failed++;
      else {
        b.uploaded++;
        b.bytes += u.row.sizeBytes;
      }
    }
  }
  return { stepMs, buckets };
}
