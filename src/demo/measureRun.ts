import { startDemoHosts } from './demoHosts.js';
import { sampleDescriptors } from './sampleDescriptors.js';

export interface HostSetup {
  dir: string;
  /** the source files' directory (a real path): its open files are counted */
  source?: string;
  hosts: number;
  delayMs: number;
  slots: number;
}

export interface Measured {
  delivered: number;
  timeMs: number;
  /** most client sockets open at once (null where /proc is missing) */
  peakSockets: number | null;
  /** most source files open at once (null where /proc is missing) */
  peakFiles: number | null;
  /** sum over hosts of each host's peak of open requests, queued included */
  peakOpenAtHosts: number;
  peakPerHost: number;
  /** files the hosts stored */
  stored: number;
  hosts: string[];
}

/**
 * One run against fresh hosts, timed, with the client's sockets sampled all along.
 * `run` gets the host URLs and returns the files it believes delivered. The hosts are
 * closed before this returns, whatever happens.
 */
export async function measureRun(setup: HostSetup, run: (urls: string[]) => Promise<number>): Promise<Measured> {
  const hosts = await startDemoHosts(setup.dir, setup.hosts, setup.delayMs, setup.slots);
  try {
    const sampler = await sampleDescriptors(hosts.ports, { filesUnder: setup.source });
    const t0 = performance.now();
    let delivered: number;
    try {
      delivered = await run(hosts.urls);
    } catch (err) {
      await sampler.stop();
      throw err;
    }
    const timeMs = performance.now() - t0;
    const peaks = await sampler.stop();
    const s = hosts.stats();
    return { delivered, timeMs, peakSockets: peaks?.sockets ?? null, peakFiles: peaks?.files ?? null, peakOpenAtHosts: s.peakOpen, peakPerHost: s.peakPerHost, stored: s.files, hosts: hosts.urls };
  } finally {
    await hosts.close();
  }
}
