import type { Limit, Sample } from './limit.js';
import { SizeBaseline } from './sizeBaseline.js';

export interface VegasOptions {
  /** first limit, and the limit after reset() */
  initial?: number;
  min?: number;
  max?: number;
  /** on a failed attempt the limit is multiplied by this */
  dropFactor?: number;
  /** re-measure the no-load time every this many round trips (at least PROBE_MIN_MS apart) */
  probeRounds?: number;
}

export const VEGAS_DEFAULTS = { initial: 1, min: 1, max: 32, dropFactor: 0.75, probeRounds: 25 } as const;
const PROBE_MIN_MS = 500;

/**
 * A per-target limit after TCP Vegas, as Netflix's `VegasLimit` applies it to requests:
 * estimate how many of the uploads in flight were queueing rather than moving,
 * `queue = inflight x (1 - base / rtt)`, grow while that is small, shrink when it is
 * large, and shrink on every failure. Where we differ, and why:
 *
 * - `base` is size-aware (see SizeBaseline): uploads are not RPCs of one size.
 * - The queue is estimated from the load the sample saw (its average in-flight count),
 *   not the limit: a sample taken while the limit was lower tells about that lower load.
 * - alpha and beta start at 0.75 and 1.5 (Netflix: 3 and 6, log10 growth): a GPU host with
 *   one slot must settle at 1-2 in flight; at 2 its queue is just under 1, at 3 just under
 *   2. They grow with the limit (10% and 20%) so noise at 30 in flight does not make it hunt.
 * - Decisions are per round, as in TCP Vegas (Netflix decides on every sample): the
 *   samples that started after the last change are summed (`base` and `rtt` each), and
 *   the limit grows only once a whole round showed no queue. A GPU host serves uploads in
 *   order, so the first of a burst finish at the no-load time and the queue shows only
 *   in the last; a per-sample rule grows on the first and overshoots. A queue, though,
 *   is acted on as soon as the round so far shows it. Growth is TCP Vegas': doubling
 *   every other round until the first queue or failure, then one every other round (the
 *   round after an increase only watches: the uploads the increase started together
 *   queue behind each other at a FIFO host, and would make the next step look wrong).
 * - A large queue shrinks the limit at once to what was moving (`inflight - queue`)
 *   plus alpha, never by more than half at a time (Gradient2's clamp, against outliers):
 *   a host that degrades mid-run is backed off within a few completions.
 *
 * - The minimum is re-measured as Envoy's gradient controller does: every `probeRounds`
 *   round trips the limit is pinned to `min` until one upload ran alone, and that sample
 *   replaces its size's baseline. Without it a host that never serves an upload alone
 *   after its cold first one (a 1-slot host at 2 in flight) keeps a baseline too high,
 *   and its queue goes unseen. It costs about one round trip in `probeRounds`.
 *
 * - Our own saturation is not the host's queue: a sample that ended while this process's
 *   event loop was saturated (`Sample.selfBound`, see ownLoad.ts) counts as moving, not
 *   queueing, so the limit grows (while the target uses it) instead of reading our wait
 *   for the CPU as a queue at every host. Failures still shrink it. Envoy's filter and
 *   Netflix's limiters assume the client is never the bottleneck; on loopback, or an
 *   orchestrator hashing at full CPU, it is (measured: every target held at 1-3).
 *
 * Not taken: Gradient2 compares against a long average rather than the minimum, which
 * lets a steady queue look normal (a 1-slot host would climb to the max). Like Netflix's,
 * no growth while the target is not using half its limit.
 */
export function vegasLimit(opts: VegasOptions = {}): Limit {
  const { initial, min, max, dropFactor, probeRounds } = { ...VEGAS_DEFAULTS, ...opts };
  for (const [name, v] of Object.entries({ initial, min, max })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  if (min > max || initial < min || initial > max) throw new RangeError(`need min <= initial <= max, got ${min}, ${initial}, ${max}`);
  if (!(dropFactor > 0 && dropFactor < 1)) throw new RangeError(`dropFactor must be between 0 and 1, got ${dropFactor}`);
  const base = new SizeBaseline();
  let estimate: number = initial;
  // doubling until the first sign of a queue, then one more a round (TCP's slow start, then Vegas)
  let slowStart = true;
  // after an increase, one round only watches (TCP Vegas grows every other round): the uploads
  // started at once by the increase queue behind each other, unlike those that follow
  let settling = false;
  // the round: samples that started after the last change, so they saw the current limit
  let round = { startMs: -Infinity, n: 0, inflight: 0, baseMs: 0, rttMs: 0 };
  // the probe (Envoy's minRTT window): in flight pinned to `min` until one upload ran alone
  let probe: { fromMs: number; saved: number } | undefined;
  let nextProbeMs: number | undefined;
  let meanRttMs = 0;
  const clamp = (x: number) => Math.max(min, Math.min(max, x));
  const change = (s: Sample, to: number): number => {
    round = { startMs: s.startMs + s.rttMs, n: 0, inflight: 0, baseMs: 0, rttMs: 0 };
    return clamp(to);
  };

  const update = (s: Sample): number => {
    if (s.didDrop) {
      slowStart = false;
      return change(s, Math.min(estimate - 1, estimate * dropFactor));
    }
    if (!(s.rttMs > 0)) return estimate;
    const endMs = s.startMs + s.rttMs;
    meanRttMs = meanRttMs === 0 ? s.rttMs : meanRttMs + 0.1 * (s.rttMs - meanRttMs);
    if (probe && s.startMs >= probe.fromMs && s.inflight < 1.1) {
      // alone: the no-load time now, higher or lower (unless our own wait for the CPU is in it)
      if (!s.selfBound) base.replace(s.bytes, s.rttMs);
      const saved = probe.saved;
      probe = undefined;
      nextProbeMs = endMs + Math.max(PROBE_MIN_MS, probeRounds * meanRttMs);
      settling = true; // back to the limit at once: a burst, as after an increase
      return change(s, saved);
    }
    base.add(s.bytes, s.rttMs);
    if (probe) return estimate;
    nextProbeMs ??= endMs + Math.max(PROBE_MIN_MS, probeRounds * meanRttMs);
    if (endMs >= nextProbeMs && estimate > min) {
      probe = { fromMs: endMs, saved: estimate };
      return change(s, min);
    }
    if (s.startMs < round.startMs) return estimate;
    round.n++;
    round.inflight += s.inflight;
    const baseMs = base.baseMs(s.bytes) ?? s.rttMs;
    round.baseMs += baseMs;
    // a sample taken while we were saturated tells of our queue for the CPU, not the host's
    round.rttMs += s.selfBound ? Math.min(s.rttMs, baseMs) : s.rttMs;
    const inflight = round.inflight / round.n;
    const moving = (inflight * round.baseMs) / round.rttMs;
    const queue = Math.max(0, inflight - moving);
    const alpha = Math.max(0.75, 0.1 * estimate);
    const beta = Math.max(1.5, 0.2 * estimate);
    // a queue shows at once; its absence only once the whole round is in (the first
    // uploads of a burst to a FIFO host finish before the queue behind them shows)
    if (queue >= beta) {
      slowStart = false;
      // down to what was moving plus alpha, at most a halving at a time
      return change(s, Math.max(estimate / 2, Math.min(estimate, moving + alpha)));
    }
    if (round.n < Math.floor(estimate)) return estimate;
    if (settling) {
      settling = false;
      return change(s, estimate);
    }
    if (queue < alpha && 2 * inflight >= estimate) {
      settling = true;
      return change(s, slowStart ? 2 * estimate : estimate + 1);
    }
    if (queue >= alpha) slowStart = false;
    return change(s, estimate);
  };

  return {
    get limit() {
      return probe ? min : Math.floor(estimate);
    },
    onSample(s) {
      const next = update(s);
      if (!probe) estimate = next;
      return probe ? min : Math.floor(estimate);
    },
    reset() {
      base.reset();
      estimate = initial;
      round = { startMs: -Infinity, n: 0, inflight: 0, baseMs: 0, rttMs: 0 };
      slowStart = true;
      settling = false;
      probe = undefined;
      nextProbeMs = undefined;
      meanRttMs = 0;
    },
  };
}
