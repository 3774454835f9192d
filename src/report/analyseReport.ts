import type { AttemptRow, FileRow, TargetEventRow } from '../store/types.js';
import { packLanes, peakOverlap, unionLength } from './intervals.js';
import { limitSteps, type LimitStep } from './limitSteps.js';
import { sendersOf, type Sender } from './senders.js';
import { niceStep } from './timeScale.js';
import type { ReportData } from './types.js';

/** Most sub-lanes drawn for one target; more uploads in flight than this overlap on screen. */
export const MAX_SUBLANES = 32;
/** Most bars of the throughput chart. */
export const MAX_BUCKETS = 240;

/**
 * A try of a file on a target, placed on a sub-lane of that target's lane: one per
 * attempt when the batch recorded its attempts (a file that failed over is drawn on each
 * host it was tried on, when it was tried there), else one per row (its last target).
 */
export interface TimedUpload {
  row: FileRow;
  start: number;
  end: number;
  sublane: number;
  /** this try did not store the file */
  failed: boolean;
  /** the try that settled the file (its last): the one the throughput chart counts */
  final: boolean;
  /** the attempt this bar is, when attempts were recorded */
  attempt?: AttemptRow;
  /** index into ReportModel.senders: who sent it, when the batch had more than one sender */
  sender?: number;
}

/** A time a target was down (from `target_down` to `target_up`, or to the end of the timeline). */
export interface DownPeriod {
  start: number;
  end: number;
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
  down: DownPeriod[];
  /** the target's limit on uploads in flight over time, from its tries; empty when none was recorded */
  limits: LimitStep[];
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
  /** the processes that sent the uploads, when more than one did (bars are coloured by sender); else empty */
  senders: Sender[];
}

const hasTimes = (r: FileRow): r is FileRow & { target: string; startedAt: number; finishedAt: number } =>
  r.target !== null && r.startedAt !== null && r.finishedAt !== null;

/** Everything the page shows, computed from the rows in one pass per target. */
export function analyseReport({ batch, files, attempts = [], targetEvents = [], workers = [] }: ReportData): ReportModel {
  const counts = { total: files.length, uploaded: 0, failed: 0, pending: 0, bytes: 0 };
  const byTarget = new Map<string, FileRow[]>(batch.targets.map((t) => [t, []]));
  const triesOf = new Map<string, AttemptRow[]>();
  for (const a of attempts) {
    const list = triesOf.get(a.filePath);
    if (list) list.push(a);
    else triesOf.set(a.filePath, [a]);
  }
  const bars = new Map<string, Omit<TimedUpload, 'sublane'>[]>();
  const addBar = (target: string, bar: Omit<TimedUpload, 'sublane'>) => {
    if (!byTarget.has(target)) byTarget.set(target, []);
    const list = bars.get(target);
    if (list) list.push(bar);
    else bars.set(target, [bar]);
  };
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
    const tries = triesOf.get(r.filePath);
    if (tries) {
      tries.forEach((a, i) => {
        addBar(a.target, { row: r, start: a.startedAt, end: Math.max(a.startedAt, a.finishedAt), failed: a.outcome !== 'uploaded', final: i === tries.length - 1, attempt: a });
        t0 = Math.min(t0, a.startedAt);
        t1 = Math.max(t1, a.finishedAt, a.startedAt);
      });
    } else if (hasTimes(r)) {
      addBar(r.target, { row: r, start: r.startedAt, end: Math.max(r.startedAt, r.finishedAt), failed: r.status === 'failed', final: true });
      t0 = Math.min(t0, r.startedAt);
      t1 = Math.max(t1, r.finishedAt, r.startedAt);
    }
  }
  for (const e of targetEvents) {
    if (!byTarget.has(e.target)) byTarget.set(e.target, []);
    t0 = Math.min(t0, e.at);
    t1 = Math.max(t1, e.at);
  }
  const spanMs = t1 - t0;
  const { senders, of } = sendersOf([...bars.values()].flatMap((list) => list.map((b) => b.attempt)), workers);
  if (senders.length > 0) for (const list of bars.values()) for (const b of list) b.sender = of(b.attempt);
  const extra = [...byTarget.keys()].filter((t) => !batch.targets.includes(t)).sort();
  const targets = [...batch.targets.filter((t, i, all) => all.indexOf(t) === i), ...extra].map((t) =>
    targetStats(t, byTarget.get(t) ?? [], bars.get(t) ?? [], spanMs, downPeriods(targetEvents.filter((e) => e.target === t), t1)),
  );
  return {
    t0, t1, spanMs, counts, targets,
    timed: targets.reduce((n, t) => n + t.uploads.length, 0),
    throughput: throughput(targets, t0, spanMs),
    failures: files.filter((r) => r.status === 'failed').sort((a, b) => (a.filePath < b.filePath ? -1 : a.filePath > b.filePath ? 1 : 0)),
    senders,
  };
}

/** Down from each `down` to the next `up`; still down at the end: to `end`. */
export function downPeriods(events: readonly TargetEventRow[], end: number): DownPeriod[] {
  const out: DownPeriod[] = [];
  let since: number | null = null;
  for (const e of [...events].sort((a, b) => a.at - b.at)) {
    if (e.state === 'down' && since === null) since = e.at;
    else if (e.state === 'up' && since !== null) {
      out.push({ start: since, end: e.at });
      since = null;
    }
  }
  if (since !== null) out.push({ start: since, end: Math.max(since, end) });
  return out;
}

/** Counts from the rows that ended on the target; bars (and so peak and busy time) from the tries made there. */
function targetStats(target: string, rows: readonly FileRow[], bars: readonly Omit<TimedUpload, 'sublane'>[], spanMs: number, down: DownPeriod[]): TargetStats {
  const s = { target, files: rows.length, uploaded: 0, failed: 0, pending: 0, bytes: 0 };
  for (const r of rows) {
    s[r.status]++;
    if (r.status === 'uploaded') s.bytes += r.sizeBytes;
  }
  const stored = bars.filter((b) => !b.failed);
  const uploadedMs = stored.reduce((n, b) => n + b.end - b.start, 0);
  const uploadedTimed = stored.length;
  const timed = [...bars];
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
    down,
    limits: limitSteps(timed.map((b) => ({ start: b.start, end: b.end, limit: b.attempt?.targetLimit }))),
  };
}

/** Finished uploads per time bucket: files/s over the batch. */
function throughput(targets: readonly TargetStats[], t0: number, spanMs: number): ReportModel['throughput'] {
  const stepMs = niceStep(Math.max(1, spanMs), MAX_BUCKETS, 100);
  const n = Math.max(1, Math.ceil(spanMs / stepMs));
  const buckets: ThroughputBucket[] = Array.from({ length: n }, (_, i) => ({ offsetMs: i * stepMs, uploaded: 0, failed: 0, bytes: 0 }));
  for (const t of targets) {
    for (const u of t.uploads) {
      if (!u.final) continue; // a try that was retried or failed over: the file is counted where it ended
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
