/** bucket edges grow by 5%: a median within 2.5% whatever the range, in a few hundred counters */
const GROWTH = 1.05;
const LOG_GROWTH = Math.log(GROWTH);

/** Counts of latencies on a log scale: a run's median without keeping every sample. */
export class LatencyHistogram {
  private readonly counts = new Map<number, number>();
  private n = 0;

  add(ms: number): void {
    const k = ms < 1 ? 0 : 1 + Math.floor(Math.log(ms) / LOG_GROWTH);
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    this.n++;
  }

  get count(): number {
    return this.n;
  }

  /** the median (the middle of its bucket), or undefined before any sample */
  median(): number | undefined {
    if (this.n === 0) return undefined;
    let seen = 0;
    for (const k of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(k) ?? 0;
      if (seen * 2 >= this.n) return k === 0 ? 0.5 : Math.exp((k - 0.5) * LOG_GROWTH);
    }
    return undefined;
  }
}
