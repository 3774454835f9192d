import { Counter, Gauge, type Registry } from 'prom-client';
import type { ReceiverStats } from '../http/receiverStats.js';
import { counterFeeder } from './feedCounter.js';

/** Why a receiver turned an upload away, as a bounded label. */
const REJECTED: Record<string, (s: ReceiverStats) => number> = {
  refused: (s) => s.rejected, // 4xx: path, token, size, method, route
  checksum: (s) => s.checksumMismatches,
  aborted: (s) => s.aborted,
  timeout: (s) => s.timedOut,
  connection_limit: (s) => s.connectionsRefused,
};

/**
 * `fanout serve`'s series, read from its running counters at scrape time (nothing is
 * counted twice, and the receiver's hot path is not touched). Counters only go up; each
 * scrape adds what the stats gained since the last one.
 */
export function registerReceiverMetrics(registry: Registry, stats: () => ReceiverStats): void {
  let last = stats();
  const advance = counterFeeder();
  const refresh = () => {
    last = stats();
  };
  new Counter({
    name: 'fanout_receiver_files_total', help: 'uploads stored (an overwrite counts again)', registers: [registry],
    collect() {
      refresh();
      advance(this, 'files', last.files);
    },
  });
  new Counter({
    name: 'fanout_receiver_bytes_total', help: 'bytes stored', registers: [registry],
    collect() {
      refresh();
      advance(this, 'bytes', last.bytes);
    },
  });
  const rejected = new Counter({
    name: 'fanout_receiver_rejected_total', help: 'uploads turned away, by reason', labelNames: ['reason'], registers: [registry],
    collect() {
      refresh();
      for (const [reason, f] of Object.entries(REJECTED)) advance(this, reason, f(last), { reason });
    },
  });
  for (const reason of Object.keys(REJECTED)) advance(rejected, reason, 0, { reason }); // every reason shows, at 0 until it happens
  new Gauge({
    name: 'fanout_receiver_in_flight', help: 'uploads accepted and not yet answered', registers: [registry],
    collect() {
      this.set(stats().inFlight);
    },
  });
}
