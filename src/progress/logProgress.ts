import type { Logger } from '../logger.js';
import type { ProgressView } from './progressTracker.js';

/** The compact `progress` log line: counts, pace and per-target state, no per-file detail. */
export function progressLine(v: ProgressView): Record<string, unknown> {
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    event: 'progress',
    batchId: v.batchId,
    done: v.done,
    total: v.total,
    totalExact: v.totalExact,
    uploaded: v.uploaded,
    failed: v.failed,
    bytes: v.bytes,
    rate: { filesPerSec: round(v.filesPerSec), bytesPerSec: Math.round(v.bytesPerSec) },
    targets: Object.fromEntries(v.targets.map((t) => [t.target, {
      inFlight: t.inFlight, up: t.up,
      // absent until the target has a measure (the line stays valid JSON: no undefined)
      ...(t.limit !== undefined && { limit: t.limit }),
      ...(t.bytesPerSec !== undefined && { bytesPerSec: Math.round(t.bytesPerSec) }),
      ...(t.latencyMs !== undefined && { latencyMs: round(t.latencyMs) }),
    }])),
  };
}

/**
 * Without a terminal: one `progress` info line every `intervalMs`. The timer does not
 * keep the process alive; the returned function clears it.
 */
export function logProgress(view: () => ProgressView, logger: Logger, intervalMs: number): () => void {
  const timer = setInterval(() => logger.info('progress', progressLine(view())), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
