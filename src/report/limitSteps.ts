/** A stretch of time over which a target's limit on uploads in flight held one value. */
export interface LimitStep {
  start: number;
  end: number;
  limit: number;
}

/**
 * A target's limit over time, from its tries: each try records the limit when it got its
 * slot, which holds until the next try's start (a step, as the limiter changes it only at
 * samples); the last holds to the end of the last try. Equal neighbours merge, so a fixed
 * `--per-target N` is one step at N. Tries without a recorded limit are skipped.
 *
 *   tries (start, limit):  0:1  10:2  20:2  30:1   (last ends at 45)
 *   steps:                 [0,10)=1  [10,30)=2  [30,45]=1
 */
export function limitSteps(tries: readonly { start: number; end: number; limit: number | null | undefined }[]): LimitStep[] {
  const known = tries.filter((t): t is { start: number; end: number; limit: number } => typeof t.limit === 'number');
  known.sort((a, b) => a.start - b.start);
  const steps: LimitStep[] = [];
  let end = Number.NEGATIVE_INFINITY;
  for (const t of known) {
    end = Math.max(end, t.end, t.start);
    const last = steps[steps.length - 1];
    if (last && last.limit === t.limit) continue;
    if (last) last.end = t.start;
    steps.push({ start: t.start, end: t.start, limit: t.limit });
  }
  if (steps.length > 0) steps[steps.length - 1].end = end;
  return steps;
}
