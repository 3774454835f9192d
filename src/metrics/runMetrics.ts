import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Fleet } from '../http/fleet.js';
import type { Store } from '../store/types.js';
import type { Tally, UploadResult } from '../types.js';
import { counterFeeder } from './feedCounter.js';
import { startMetricsServer } from './metricsServer.js';

/** The queue as the database has it (watch, work): rows waiting, and the oldest waiting file's mtime. */
export interface PendingNow {
  pending: number;
  oldestMtimeMs: number | null;
}

/** Upload durations from a 20 ms small file to a many-minute large one. */
const DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

export interface RunMetrics {
  /** runBatch's onStart and onTally */
  onStart(run: { fleet: Pick<Fleet, 'snapshot'>; store: Pick<Store, 'ping'>; config: { perTarget: number }; pending?: () => Promise<PendingNow> }): void;
  onTally(tally: Tally): void;
  /** every result as it is recorded: its tries feed the retries and the duration histogram */
  onResult(result: UploadResult): void;
  /** `/readyz`: the database answers and at least one target is up */
  ready(): Promise<{ ok: boolean; reason?: string }>;
}

/**
 * The series of a run (`upload`), read at scrape time from what runBatch already hands out
 * (the fleet's per-target state, the running tally): the upload path itself is untouched.
 * Labels are bounded: a target URL, never a file.
 */
export function registerRunMetrics(registry: Registry, now: () => number = Date.now): RunMetrics {
  let fleet: Pick<Fleet, 'snapshot'> | undefined;
  let store: Pick<Store, 'ping'> | undefined;
  let perTarget = 0;
  let tally: Tally | undefined;
  let pendingNow: (() => Promise<PendingNow>) | undefined;
  let lastUploaded = 0;
  let lastSuccessAt = 0;
  const advance = counterFeeder();
  const perTargetCounter = (name: string, help: string, field: 'uploaded' | 'failed' | 'bytes') =>
    new Counter({
      name, help, labelNames: ['target'], registers: [registry],
      collect() {
        for (const [target, t] of Object.entries(tally?.targets ?? {})) advance(this, `${name}\0${target}`, t[field], { target });
      },
    });
  perTargetCounter('fanout_uploaded_files_total', 'files uploaded, by target', 'uploaded');
  perTargetCounter('fanout_failed_files_total', 'files that ended failed, by target', 'failed');
  perTargetCounter('fanout_uploaded_bytes_total', 'bytes uploaded, by target', 'bytes');
  const perTargetGauge = (name: string, help: string, value: (s: ReturnType<Fleet['snapshot']>[number]) => number) =>
    new Gauge({
      name, help, labelNames: ['target'], registers: [registry],
      collect() {
        for (const s of fleet?.snapshot() ?? []) this.set({ target: s.target }, value(s));
      },
    });
  perTargetGauge('fanout_in_flight', 'uploads in flight, by target', (s) => s.inFlight);
  perTargetGauge('fanout_target_up', '1 while the target is up, 0 while it is down', (s) => (s.up ? 1 : 0));
  perTargetGauge('fanout_target_limit', 'uploads the target may have in flight now (adaptive: its current limit)', (s) => s.limit ?? perTarget);
  new Gauge({
    name: 'fanout_last_success_timestamp_seconds', help: 'when a file was last uploaded (0: none yet)', registers: [registry],
    collect() {
      this.set(lastSuccessAt / 1000);
    },
  });
  const retries = new Counter({ name: 'fanout_retries_total', help: 'tries that failed and were tried again (here or on another target), by target', labelNames: ['target'], registers: [registry] });
  const duration = new Histogram({
    name: 'fanout_upload_duration_seconds', help: 'how long a file took to upload, its last try, by target', labelNames: ['target'], buckets: DURATION_BUCKETS, registers: [registry],
  });
  // the queue is read from the database at scrape time (only watch and work have one)
  new Gauge({
    name: 'fanout_pending_files', help: 'files waiting as pending rows', registers: [registry],
    async collect() {
      if (pendingNow) this.set((await pendingNow().catch(() => ({ pending: NaN }))).pending);
    },
  });
  new Gauge({
    name: 'fanout_oldest_pending_age_seconds', help: 'age (from its mtime) of the oldest file waiting; 0 when none waits', registers: [registry],
    async collect() {
      if (!pendingNow) return;
      const p = await pendingNow().catch(() => ({ oldestMtimeMs: NaN }));
      this.set(p.oldestMtimeMs === null ? 0 : Math.max(0, (now() - p.oldestMtimeMs) / 1000));
    },
  });
  return {
    onStart(run) {
      fleet = run.fleet;
      store = run.store;
      perTarget = run.config.perTarget;
      pendingNow = run.pending;
    },
    onResult(r) {
      for (const t of r.tries ?? []) if (t.outcome === 'retried') retries.inc({ target: t.target });
      const last = r.tries?.[r.tries.length - 1];
      if (r.status === 'uploaded' && last) duration.observe({ target: last.target }, (last.finishedAt - last.startedAt) / 1000);
    },
    onTally(t) {
      tally = t;
      if (t.uploaded > lastUploaded) lastSuccessAt = now();
      lastUploaded = t.uploaded;
    },
    async ready() {
      if (!fleet || !store) return { ok: false, reason: 'starting' };
      try {
        await store.ping();
      } catch (err) {
        return { ok: false, reason: `database: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
      }
      return fleet.snapshot().some((s) => s.up) ? { ok: true } : { ok: false, reason: 'no target is up' };
    },
  };
}

/** A run's metrics and probes served on `port` until closed. */
export async function serveRunMetrics(port: number, host?: string): Promise<RunMetrics & { url: string; close(): Promise<void> }> {
  const registry = new Registry();
  const metrics = registerRunMetrics(registry);
  const server = await startMetricsServer({ registry, port, host, ready: () => metrics.ready() });
  return { ...metrics, url: server.url, close: () => server.close() };
}
