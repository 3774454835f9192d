/**
 * The no-load time of an upload as a function of its size, learnt from samples.
 *
 * Uploads differ in size by orders of magnitude, so the lowest latency seen (TCP Vegas'
 * baseRTT, Netflix's rtt_noload) cannot be one number: a 4 MiB file after a 16 KiB one
 * would look like a queue. We model an upload's no-load time as a fixed per-request part
 * (request and answer round trip, the host's service time) plus a per-byte part (the link):
 * `base(b) = L + b / R`. Both are unknown and change per host, so instead of fitting them we
 * keep the fastest sample of each size class (log2 of the bytes) and take the lower convex
 * hull of those points: on the hull, between two sizes seen, is exactly that line; with one
 * size only it is Vegas' minimum. Outside the sizes seen we extrapolate upwards only (flat to
 * the left, the last slope or proportionally to the right): an estimate too high makes the
 * limit grow, one too low would invent a queue and starve the host.
 */
export class SizeBaseline {
  private readonly fastest = new Map<number, { bytes: number; ms: number }>();
  private hull: Array<{ bytes: number; ms: number }> | undefined;

  /** Offer a sample; returns true if it lowered the baseline for its size class. */
  add(size: number, ms: number): boolean {
    const bytes = Math.max(size, SMALL_BYTES);
    const key = sizeClass(bytes);
    const old = this.fastest.get(key);
    if (old && old.ms <= ms) return false;
    this.fastest.set(key, { bytes, ms });
    this.hull = undefined;
    return true;
  }

  /** A sample known to be at no load: it is the baseline of its size class, higher or lower. */
  replace(size: number, ms: number): void {
    const bytes = Math.max(size, SMALL_BYTES);
    this.fastest.set(sizeClass(bytes), { bytes, ms });
    this.hull = undefined;
  }

  get empty(): boolean {
    return this.fastest.size === 0;
  }

  reset(): void {
    this.fastest.clear();
    this.hull = undefined;
  }

  /** Estimated no-load ms for an upload of `bytes`; undefined before any sample. */
  baseMs(size: number): number | undefined {
    const bytes = Math.max(size, SMALL_BYTES);
    const h = (this.hull ??= lowerHull([...this.fastest.values()]));
    if (h.length === 0) return undefined;
    const first = h[0];
    if (bytes <= first.bytes) return first.ms;
    for (let i = 1; i < h.length; i++) {
      const [a, b] = [h[i - 1], h[i]];
      if (bytes <= b.bytes) return a.ms + ((b.ms - a.ms) * (bytes - a.bytes)) / (b.bytes - a.bytes);
    }
    const last = h[h.length - 1];
    if (h.length === 1) return (last.ms * bytes) / Math.max(1, last.bytes);
    const prev = h[h.length - 2];
    const slope = Math.max(0, (last.ms - prev.ms) / (last.bytes - prev.bytes));
    return last.ms + slope * (bytes - last.bytes);
  }
}

/**
 * Uploads up to 64 KiB count as 64 KiB: their bytes cost well under a millisecond on any
 * link worth measuring, so their differences are noise, and a size first seen while the host
 * queues (a 1-slot host never again serves one alone) would keep a baseline that hides it.
 */
const SMALL_BYTES = 64 * 1024;

function sizeClass(bytes: number): number {
  return Math.floor(Math.log2(bytes));
}

/** Andrew's monotone chain, lower half: the points no line through two others passes under. */
function lowerHull(points: Array<{ bytes: number; ms: number }>): Array<{ bytes: number; ms: number }> {
  const sorted = points.sort((a, b) => a.bytes - b.bytes);
  const hull: Array<{ bytes: number; ms: number }> = [];
  for (const p of sorted) {
    while (hull.length >= 2) {
      const [o, a] = [hull[hull.length - 2], hull[hull.length - 1]];
      const cross = (a.bytes - o.bytes) * (p.ms - o.ms) - (a.ms - o.ms) * (p.bytes - o.bytes);
      if (cross > 0) break;
      hull.pop();
    }
    hull.push(p);
  }
  // a bigger upload that was faster than a smaller one is noise at the small end: from the
  // fastest point on, the baseline only rises
  let lowest = 0;
  for (let i = 1; i < hull.length; i++) if (hull[i].ms < hull[lowest].ms) lowest = i;
  return hull.slice(lowest);
}
