/** What a worker's claims cost, for its `worker_complete` log line (and the workers benchmark). */
export interface ClaimTimesSummary {
  /** claim transactions run, whether or not they found rows */
  claims: number;
  /** rows they took */
  rows: number;
  /** wall time inside claim transactions, summed */
  totalMs: number;
  /** over the last SAMPLES claims */
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** InnoDB row locks the claim transactions held, summed: only with FANOUT_CLAIM_LOCKS=1 */
  rowsLocked?: number;
}

const SAMPLES = 4096;

/**
 * Claim latencies in bounded memory: counts and sums over every claim, percentiles over
 * the most recent SAMPLES (a ring).
 */
export class ClaimTimes {
  private readonly ring = new Float64Array(SAMPLES);
  private n = 0;
  private rows = 0;
  private totalMs = 0;
  private maxMs = 0;
  private locked: number | undefined;

  add(ms: number, rows: number): void {
    this.ring[this.n % SAMPLES] = ms;
    this.n += 1;
    this.rows += rows;
    this.totalMs += ms;
    this.maxMs = Math.max(this.maxMs, ms);
  }

  addLocked(rows: number): void {
    this.locked = (this.locked ?? 0) + rows;
  }

  summary(): ClaimTimesSummary {
    const sorted = this.ring.slice(0, Math.min(this.n, SAMPLES)).sort();
    const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
    const r = (ms: number) => Math.round(ms * 100) / 100;
    return {
      claims: this.n, rows: this.rows, totalMs: r(this.totalMs), p50Ms: r(at(0.5)), p95Ms: r(at(0.95)), maxMs: r(this.maxMs),
      ...(this.locked === undefined ? {} : { rowsLocked: this.locked }),
    };
  }
}
