import type { Counter } from 'prom-client';

/**
 * Counters fed from running totals read at scrape time (a receiver's stats, a run's tally):
 * each scrape adds what a total gained since the last one, so nothing on the upload path
 * counts twice. A total seen for the first time creates its series at 0.
 */
export function counterFeeder(): (counter: Counter<string>, key: string, total: number, labels?: Record<string, string>) => void {
  const seen = new Map<string, number>();
  return (counter, key, total, labels) => {
    const delta = total - (seen.get(key) ?? 0);
    if (delta > 0 || !seen.has(key)) {
      if (labels) counter.inc(labels, Math.max(0, delta));
      else counter.inc(Math.max(0, delta));
    }
    seen.set(key, total);
  };
}
