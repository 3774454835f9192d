import path from 'node:path';
import { startReceiver, type Receiver } from '../http/server.js';

export interface DemoHosts {
  urls: string[];
  ports: number[];
  /** files stored, the sum over hosts of each one's peak of requests open (queued included), and the largest */
  stats(): { files: number; peakOpen: number; peakPerHost: number };
  close(): Promise<void>;
}

/**
 * `n` simulated GPU hosts in this process: each takes `delayMs` per upload, `slots` at
 * a time, and stores under dir/host_K. Fresh per run, so each run's peaks are its own.
 */
export async function startDemoHosts(dir: string, n: number, delayMs: number, slots: number): Promise<DemoHosts> {
  const started = await Promise.allSettled(Array.from({ length: n }, (_, k) => startReceiver({ dir: path.join(dir, `host_${k + 1}`), delayMs, slots })));
  const hosts = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const close = async () => {
    await Promise.all(hosts.map((h) => h.close()));
  };
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await close();
    throw failed.reason;
  }
  const all = (f: (r: Receiver) => number) => hosts.map(f);
  return {
    urls: hosts.map((h) => h.url),
    ports: hosts.map((h) => h.port),
    stats: () => {
      const peaks = all((h) => h.stats().inFlightMax);
      return { files: all((h) => h.stats().files).reduce((a, b) => a + b, 0), peakOpen: peaks.reduce((a, b) => a + b, 0), peakPerHost: Math.max(0, ...peaks) };
    },
    close,
  };
}
