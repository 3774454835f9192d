/** One finished attempt on a target, as the fleet saw it. */
export interface Sample {
  /** when the attempt got its slot (ms, the fleet's clock) */
  startMs: number;
  /** how long it held the slot */
  rttMs: number;
  /**
   * attempts in flight on the target while it ran, itself included: the time average over
   * its life (Netflix passes the count at its start; uploads started together would then
   * count 1, 2, 3... though all of them shared the same load)
   */
  inflight: number;
  /** the upload's size: a latency means something only next to the bytes it moved */
  bytes: number;
  /** the target failed it (5xx, reset, timeout): a sign of overload, whatever its latency */
  didDrop: boolean;
  /**
   * this process was saturated when it ended (see ownLoad.ts): its latency holds our own
   * wait for the CPU, and says nothing of a queue at the target
   */
  selfBound?: boolean;
}

/**
 * How many uploads a target may have in flight: a pure algorithm fed the outcome of each
 * attempt (Netflix concurrency-limits' `Limit`); the fleet enforces it, as their limiter does.
 */
export interface Limit {
  /** the current limit, an integer >= 1 */
  readonly limit: number;
  onSample(s: Sample): number;
  /** forget what was learnt (a target that comes back after being down starts small again) */
  reset(): void;
}

/** `--per-target N`: the same N whatever happens. */
export function fixedLimit(n: number): Limit {
  return { limit: n, onSample: () => n, reset: () => undefined };
}
