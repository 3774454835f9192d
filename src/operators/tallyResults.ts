import { scan, startWith, type OperatorFunction } from 'rxjs';
import type { SkipReason, Tally, UploadResult, WalkSkips } from '../types.js';

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
 * tally so a batch of no files still has one.
 *
 *   results: -u--f--s-|
 *   tally:   0-1--2--3-|   (total after each result)
 */
export function tallyResults(targets: readonly string[]): OperatorFunction<UploadResult, Tally> {
  return (source) => source.pipe(scan(addResult, emptyTally(targets)), startWith(emptyTally(targets)));
}
