import { scan, startWith, type OperatorFunction } from 'rxjs';
import type { LoadView } from '../http/limits/targetLoad.js';
import type { SkipReason, Tally, TargetTally, UploadResult, WalkSkips } from '../types.js';

export function emptyTally(targets: readonly string[]): Tally {
  return {
    total: 0,
    uploaded: 0,
    failed: 0,
    skipped: 0,
    bytes: 0,
    targets: Object.fromEntries(targets.map((t) => [t, { uploaded: 0, failed: 0, bytes: 0 }])),
  };
}

export function emptyWalkSkips(): WalkSkips {
  return { loops: 0, excluded: 0, tooYoung: 0, notRegular: 0 };
}

const SKIP_FIELD: Record<SkipReason, keyof WalkSkips> = { loop: 'loops', excluded: 'excluded', tooYoung: 'tooYoung', notRegular: 'notRegular' };

/** Count one thing the walker left out (in place: the walker reports them one by one). */
export function addWalkSkip(skips: WalkSkips, reason: SkipReason): void {
  skips[SKIP_FIELD[reason]]++;
}

/** Add one result to a tally (pure; a new object each time). */
export function addResult(t: Tally, r: UploadResult): Tally {
  const next: Tally = { ...t, total: t.total + 1, targets: { ...t.targets } };
  if (r.status === 'skipped') next.skipped++;
  if (r.status === 'uploaded' || r.status === 'failed') {
    if (r.status === 'uploaded') {
      next.uploaded++;
      next.bytes += r.file.size;
    } else {
      next.failed++;
    }
    // a file that failed before any target was tried (none up, a refused row) is no target's:
    // the per-target counts are keyed by target URLs only
    if (r.target !== null) {
      const tt = { ...(next.targets[r.target] ?? { uploaded: 0, failed: 0, bytes: 0 }) };
      if (r.status === 'uploaded') {
        tt.uploaded++;
        tt.bytes += r.file.size;
      } else {
        tt.failed++;
      }
      next.targets[r.target] = tt;
    }
  }
  return next;
}

/**
 * Running counts of the results; the last value is the summary. Starts with the empty
 * tally (or `from`, counts carried on) so a batch of no files still has one.
 *
 *   results: -u--f--s-|
 *   tally:   0-1--2--3-|   (total after each result)
 */
export function tallyResults(targets: readonly string[], from: Tally = emptyTally(targets)): OperatorFunction<UploadResult, Tally> {
  return (source) => source.pipe(scan(addResult, from), startWith(from));
}

/**
 * The summary's per-target counts with what the fleet measured of each target at the end:
 * its final limit, bytes/s over its run (first start to last end, so idle time at the end
 * does not dilute it) and median latency. Added fields only; a target with nothing measured
 * gets its limit alone. Pure: new objects.
 */
export function withTargetLoads(
  targets: Record<string, TargetTally>,
  loads: ReadonlyArray<{ target: string } & Partial<LoadView>>,
): Record<string, TargetTally> {
  const out: Record<string, TargetTally> = {};
  for (const [target, t] of Object.entries(targets)) {
    const l = loads.find((x) => x.target === target);
    out[target] = {
      ...t,
      ...(l?.limit !== undefined && { limit: l.limit }),
      ...(l?.runBytesPerSec !== undefined && { bytesPerSec: Math.round(l.runBytesPerSec) }),
      ...(l?.medianLatencyMs !== undefined && { medianLatencyMs: Math.round(l.medianLatencyMs * 10) / 10 }),
    };
  }
  return out;
}
