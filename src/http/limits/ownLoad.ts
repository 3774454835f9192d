import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** over this much time the event loop's busy share is measured (and re-read at most this often) */
const WINDOW_MS = 250;
/** busier than this, the process is the bottleneck: its own latency is in every upload's */
export const SATURATED = 0.9;

/**
 * Whether this process is saturated: its event loop busy for more than `SATURATED` of the
 * last ~250 ms (`performance.eventLoopUtilization`, the measure Node gives for exactly this).
 * When it is, every upload's time includes our own wait for the CPU (hashing, TLS, records,
 * the receivers on loopback), and a latency that rises with the uploads in flight says
 * nothing of the hosts: TCP Vegas would read it as a queue at each host and hold every limit
 * at 1-3, though more in flight still raised the completion rate (measured on loopback:
 * 10,000 x 64 KiB at 2,646 files/s adaptive against 4,741 with 4 fixed). Cheap enough to call
 * on every completed upload (reads a cached value between windows).
 */
export function eventLoopSaturation(threshold = SATURATED): () => boolean {
  let mark: EventLoopUtilization = performance.eventLoopUtilization();
  let markMs = performance.now();
  let saturated = false;
  return () => {
    const now = performance.now();
    if (now - markMs < WINDOW_MS) return saturated;
    const next = performance.eventLoopUtilization();
    const d = performance.eventLoopUtilization(next, mark);
    saturated = d.utilization > threshold;
    mark = next;
    markMs = now;
    return saturated;
  };
}
