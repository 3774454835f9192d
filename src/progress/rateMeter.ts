export interface Rate {
  filesPerSec: number;
  bytesPerSec: number;
}

/**
 * Files/s and bytes/s over a sliding window, so a rate (and the ETA from it) follows
 * the recent pace instead of the average since the start. Per-instance state only.
 *
 *   sample(t0, 0, 0) ... sample(t0 + 2000, 400, 6.4e6)  ->  200 files/s, 3.2e6 B/s
 */
export function rateMeter(windowMs = 10_000): { sample(now: number, files: number, bytes: number): Rate } {
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${windowMs}`);
  const samples: { t: number; files: number; bytes: number }[] = [];
  return {
    sample(now, files, bytes) {
      samples.push({ t: now, files, bytes });
      // keep one sample at or beyond the window's edge so the span covers the whole window
      while (samples.length > 2 && now - samples[1].t >= windowMs) samples.shift();
      const first = samples[0];
      const span = (now - first.t) / 1000;
      if (span < 0.25) return { filesPerSec: 0, bytesPerSec: 0 };
      return { filesPerSec: (files - first.files) / span, bytesPerSec: (bytes - first.bytes) / span };
    },
  };
}
