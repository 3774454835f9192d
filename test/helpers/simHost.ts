import type { Limit, Sample } from '../../src/http/limits/limit.js';

/**
 * A simulated host, stepped 1 ms at a time, for deterministic limiter tests. An upload
 * first crosses the link (bytes shared equally by the uploads crossing it, each capped at
 * `perConnBytesPerMs`, as a TCP window caps one connection), then waits for one of `slots`
 * (FIFO) and holds it `serviceMs`, then its answer takes `latencyMs` to come back.
 */
export interface HostModel {
  /** link capacity; Infinity: no link limit */
  linkBytesPerMs: number;
  perConnBytesPerMs: number;
  slots: number;
  serviceMs: number;
  latencyMs: number;
}

interface Upload {
  id: number;
  bytes: number;
  left: number;
  startMs: number;
  /** the host's in-flight count summed over each ms since this upload started */
  areaAtStart: number;
  phase: 'link' | 'queue' | 'service' | 'answer';
  until: number;
}

export interface SimRecord {
  sample: Sample;
  /** the limit after this sample */
  limit: number;
}

export interface SimResult {
  records: SimRecord[];
  /** bytes done in each 100 ms */
  bytesPer100Ms: number[];
  endMs: number;
}

/**
 * Run `sizes.length` uploads through `limit` against a host whose model may change over
 * time (`modelAt(ms)`), keeping as many in flight as the limit allows; `selfBound(ms)`: the
 * client was saturated when an upload ended (the sample says so).
 */
export function simulate(
  limit: Limit, sizes: readonly number[], modelAt: (ms: number) => HostModel, maxMs = 600_000, selfBound: (ms: number) => boolean = () => false,
): SimResult {
  const active: Upload[] = [];
  const records: SimRecord[] = [];
  const bytesPer100Ms: number[] = [];
  let next = 0;
  let id = 0;
  let now = 0;
  let area = 0;
  for (; now < maxMs && (next < sizes.length || active.length > 0); now++) {
    while (next < sizes.length && active.length < limit.limit) {
      const bytes = sizes[next++];
      active.push({ id: id++, bytes, left: bytes, startMs: now, areaAtStart: area, phase: 'link', until: 0 });
    }
    area += active.length;
    const m = modelAt(now);
    const onLink = active.filter((u) => u.phase === 'link');
    const share = Math.min(m.perConnBytesPerMs, m.linkBytesPerMs / Math.max(1, onLink.length));
    let moved = 0;
    for (const u of onLink) {
      const d = Math.min(u.left, share);
      u.left -= d;
      moved += d;
      if (u.left <= 0) u.phase = 'queue';
    }
    const slot = Math.floor(now / 100);
    bytesPer100Ms[slot] = (bytesPer100Ms[slot] ?? 0) + moved;
    let serving = active.filter((u) => u.phase === 'service').length;
    for (const u of active) {
      if (u.phase === 'queue' && serving < m.slots) {
        u.phase = 'service';
        u.until = now + m.serviceMs;
        serving++;
      }
      if (u.phase === 'service' && now >= u.until) {
        u.phase = 'answer';
        u.until = now + m.latencyMs;
        serving--;
      }
    }
    for (let i = 0; i < active.length; ) {
      const u = active[i];
      if (u.phase === 'answer' && now >= u.until) {
        active.splice(i, 1);
        const rttMs = now + 1 - u.startMs;
        const sample: Sample = { startMs: u.startMs, rttMs, inflight: (area - u.areaAtStart) / rttMs, bytes: u.bytes, didDrop: false, selfBound: selfBound(now) };
        records.push({ sample, limit: limit.onSample(sample) });
      } else i++;
    }
  }
  return { records, bytesPer100Ms, endMs: now };
}

/** 1-slot GPU host: the link is no limit, `serviceMs` per upload, one at a time. */
export const oneSlot = (serviceMs: number): HostModel => ({ linkBytesPerMs: Infinity, perConnBytesPerMs: Infinity, slots: 1, serviceMs, latencyMs: 1 });

/** A host behind a link: `mbit` shared, one connection carries at most `connMbit`, `rttMs` per request. */
export const linkBound = (mbit: number, connMbit: number, rttMs: number): HostModel => ({
  linkBytesPerMs: (mbit * 1e6) / 8 / 1000, perConnBytesPerMs: (connMbit * 1e6) / 8 / 1000, slots: Infinity, serviceMs: 0, latencyMs: rttMs,
});

/**
 * The client's own CPU as the bottleneck (loopback, 0 ms hosts): every upload needs `cpuMs`
 * of one shared processor (the bytes of the model's "link", shared equally, no per-upload
 * cap) plus `latencyMs` that overlaps; more in flight stretches each upload yet raises the
 * completion rate, up to 1 / cpuMs.
 */
export const cpuBound = (bytes: number, cpuMs: number, latencyMs: number): HostModel => ({
  linkBytesPerMs: bytes / cpuMs, perConnBytesPerMs: bytes / cpuMs, slots: Infinity, serviceMs: 0, latencyMs,
});
