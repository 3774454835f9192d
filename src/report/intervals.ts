export interface Interval {
  start: number;
  end: number;
}

/** Total length covered by the intervals, overlaps counted once (the busy time of a target). */
export function unionLength(intervals: readonly Interval[]): number {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  let total = 0;
  let from = Number.NEGATIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const { start, end } of sorted) {
    if (start > to) {
      if (to > from) total += to - from;
      from = start;
      to = end;
    } else if (end > to) {
      to = end;
    }
  }
  if (to > from) total += to - from;
  return total;
}

/**
 * A sub-lane for each interval (given sorted by start) so that intervals on one
 * sub-lane never overlap. First fit in start order uses exactly as many sub-lanes as
 * the most intervals in flight at once; past `maxLanes`, the sub-lane that frees first
 * takes the interval and bars overlap there (`peakOverlap` still gives the true peak).
 *
 *   [--a--]  [--c--]        lane 0: a c
 *      [----b----]          lane 1: b
 */
export function packLanes(sorted: readonly Interval[], maxLanes = 32): { lanes: number[]; count: number } {
  const laneEnd: number[] = [];
  const lanes: number[] = [];
  for (const { start, end } of sorted) {
    let lane = laneEnd.findIndex((e) => e <= start);
    if (lane < 0) lane = laneEnd.length < maxLanes ? laneEnd.length : earliest(laneEnd);
    laneEnd[lane] = Math.max(end, laneEnd[lane] ?? end);
    lanes.push(lane);
  }
  return { lanes, count: laneEnd.length };
}

function earliest(ends: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < ends.length; i++) if (ends[i] < ends[best]) best = i;
  return best;
}

/**
 * The most intervals in flight at one instant: for each start, the starts so far minus
 * the ends at or before it (one that ends as another starts does not overlap it).
 * Sorted typed arrays keep this fast for 100,000 uploads.
 */
export function peakOverlap(intervals: readonly Interval[]): number {
  const starts = Float64Array.from(intervals, (i) => i.start).sort();
  const ends = Float64Array.from(intervals, (i) => Math.max(i.start, i.end)).sort();
  let peak = intervals.length > 0 ? 1 : 0;
  let ended = 0;
  for (let i = 0; i < starts.length; i++) {
    while (ended < ends.length && ends[ended] <= starts[i]) ended++;
    peak = Math.max(peak, i + 1 - ended);
  }
  return peak;
}
