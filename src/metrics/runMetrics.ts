import { Counter, Gauge, Registry } from 'prom-client';
import type { Fleet } from '../http/fleet.js';
import type { Store } from '../store/types.js';
import type { Tally } from '../types.js';
import { counterFeeder } from './feedCounter.js';
import { startMetricsServer } from './metricsServer.js';

export interface RunMetrics {
  /** runBatch's onStart and onTally */
  onStart(run: { fleet: Pick<Fleet, 'snapshot'>; store: Pick<Store, 'ping'>; config: { perTarget: number } }): void;
  onTally(tally: Tally): void;
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
  return {
    onStart(run) {
      fleet = run.fleet;
      store = run.store;
      perTarget = run.config.perTarget;
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
