/**
 * Where a file that may go anywhere (least-loaded) should go: the target that would have
 * it done soonest (earliest finish time, as list schedulers such as HEFT place tasks on
 * machines of different speeds), waiting for a busy target only when that is clearly sooner.
 *
 * Least-loaded alone sends a file to whichever target has a slot first. Near the end of a
 * batch that hands the last big files to the slowest host while a fast one is about to be
 * idle, and the batch waits for it. Here a free slow host loses to a busy fast one when
 * the fast one would finish its running uploads, the files already waiting for it, and
 * then this one, sooner. Mid-batch the fast host's queue is long, so the slow host still
 * gets files and every host stays busy.
 *
 * Pure: the caller gives each target's slots and estimates (it alone knows the clock), and
 * leaves out targets that are down or excluded, so no file ever waits on a down target.
 */

/** One candidate target, as seen at one instant. */
export interface TargetPlan {
  target: string;
  /** in how many ms each of its slots is next free (0: free now); one per slot of its limit */
  slotsFreeInMs: readonly number[];
  /** the estimated ms of the files already waiting for it, ahead of this one */
  queuedMs: number;
  /** the estimated ms of this file on it; undefined until the target is measured */
  fileMs: number | undefined;
}

export interface Choice {
  target: string;
  /** true: no slot is free there now; the file waits for one (and counts in its queue) */
  wait: boolean;
  /** ms from now until the file would be done there */
  finishMs: number;
}

/** a busy target must finish the file this much sooner than the best free one to be waited for */
export const WAIT_MARGIN = 1.25;

/**
 * When each of a target's `limit` slots is next free, in ms from `now`, soonest first. A
 * running upload frees its slot at the end of its estimate; one already past its estimate
 * is expected to run as long again as it has (the longer it ran, the less its estimate
 * says), so a stalled upload does not look about to finish for ever.
 */
export function slotsFreeIn(limit: number, running: ReadonlyArray<{ startMs: number; estimateMs: number }>, now: number): number[] {
  const left = running
    .map(({ startMs, estimateMs }) => {
      const ran = Math.max(0, now - startMs);
      return estimateMs > ran ? estimateMs - ran : ran;
    })
    .sort((a, b) => a - b);
  // a limit that shrank below the uploads running frees a slot only once enough of them end
  if (left.length >= limit) return left.slice(left.length - limit);
  return [...new Array<number>(limit - left.length).fill(0), ...left];
}

/**
 * When this file could start on a target: its queue poured into its slots soonest-free
 * first (water filling), so the queue spreads over all its slots.
 */
function startInMs(slots: readonly number[], queuedMs: number): number {
  if (slots.length === 0) return Infinity;
  let level = slots[0];
  let rest = queuedMs;
  for (let i = 1; i < slots.length; i++) {
    const cost = (slots[i] - level) * i;
    if (rest < cost) break;
    rest -= cost;
    level = slots[i];
  }
  const width = slots.filter((s) => s <= level).length;
  return level + rest / width;
}

/** The target to take now or to wait for; undefined when a target has no estimate yet (fall back to least-loaded). */
export function chooseByFinish(plans: readonly TargetPlan[]): Choice | undefined {
  if (plans.length === 0 || plans.some((p) => p.fileMs === undefined)) return undefined;
  const scored = plans.map((p) => ({
    target: p.target,
    wait: !(p.slotsFreeInMs.length > 0 && p.slotsFreeInMs[0] === 0),
    finishMs: startInMs(p.slotsFreeInMs, p.queuedMs) + (p.fileMs as number),
  }));
  const better = (a: Choice, b: Choice) => a.finishMs < b.finishMs || (a.finishMs === b.finishMs && !a.wait && b.wait);
  const best = scored.reduce((a, b) => (better(b, a) ? b : a));
  if (!best.wait) return best;
  const free = scored.filter((c) => !c.wait);
  if (free.length === 0) return best;
  const bestFree = free.reduce((a, b) => (better(b, a) ? b : a));
  return best.finishMs * WAIT_MARGIN < bestFree.finishMs ? best : bestFree;
}
