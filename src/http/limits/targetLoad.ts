import { LatencyHistogram } from './latencyHistogram.js';
import type { Limit } from './limit.js';
import { SizeBaseline } from './sizeBaseline.js';

/** One attempt on a target, from its slot to its end. */
export interface Attempt {
  readonly startMs: number;
  readonly areaAtStart: number;
  readonly inflightAtStart: number;
}

/** What the fleet shows of a target's load (progress, summary, scheduling). */
export interface LoadView {
  /** the limit now */
  limit: number;
  /** recent bytes/s of the whole target (Little's law over recent samples), undefined before one */
  bytesPerSec?: number;
  /** recent latency of an attempt, ms (moving average) */
  latencyMs?: number;
  /** median latency of the run's attempts */
  medianLatencyMs?: number;
  /** bytes of finished attempts over the time from the first start to the last end */
  runBytesPerSec?: number;
}

/** moving averages follow the last ~5 samples */
const EWMA = 0.2;

/**
 * A target's side of the limiter (Netflix's AbstractLimiter, one per target): it turns
 * attempts into samples for the target's Limit, and keeps the measures others read. The
 * in-flight count a sample reports is its time average over the attempt (an integral of
 * in-flight over time), so uploads started together all report the load they shared.
 * The clock is the caller's: every method takes `now`.
 */
export class TargetLoad {
  private inflight = 0;
  private area = 0;
  private areaAt = 0;
  private readonly latencies = new LatencyHistogram();
  private rate?: number;
  private latency?: number;
  private firstStart?: number;
  private lastEnd?: number;
  private bytesDone = 0;
  /** the fastest time seen for each size (scheduling's estimate of an upload) */
  private readonly base = new SizeBaseline();
  /** recent latency over that fastest time: how much the load stretches an upload */
  private stretch = 1;

  constructor(readonly limit: Limit) {}

  start(now: number): Attempt {
    this.advance(now);
    this.inflight++;
    this.firstStart ??= now;
    return { startMs: now, areaAtStart: this.area, inflightAtStart: this.inflight };
  }

  /** `bytes` undefined: the outcome says nothing of the target (aborted, or refused as ours) */
  finish(a: Attempt, now: number, outcome?: { bytes: number; dropped: boolean; selfBound?: boolean }): void {
    this.advance(now);
    this.inflight--;
    if (!outcome) return;
    const rttMs = now - a.startMs;
    const inflight = rttMs > 0 ? (this.area - a.areaAtStart) / rttMs : a.inflightAtStart;
    this.limit.onSample({ startMs: a.startMs, rttMs, inflight, bytes: outcome.bytes, didDrop: outcome.dropped, selfBound: outcome.selfBound });
    if (outcome.dropped) return;
    this.latencies.add(rttMs);
    this.base.add(outcome.bytes, rttMs);
    const fastest = this.base.baseMs(outcome.bytes);
    if (fastest !== undefined && fastest > 0) this.stretch += EWMA * (Math.max(1, rttMs / fastest) - this.stretch);
    this.latency = this.latency === undefined ? rttMs : this.latency + EWMA * (rttMs - this.latency);
    if (rttMs > 0) {
      const rate = (inflight * outcome.bytes * 1000) / rttMs;
      this.rate = this.rate === undefined ? rate : this.rate + EWMA * (rate - this.rate);
    }
    this.bytesDone += outcome.bytes;
    this.lastEnd = now;
  }

  /** the target was down and is back: what was learnt before says nothing now */
  reset(): void {
    this.limit.reset();
    this.rate = undefined;
    this.latency = undefined;
    this.base.reset();
    this.stretch = 1;
  }

  /**
   * How long an upload of `bytes` should take on this target at its recent load, ms: the
   * fastest seen for its size (fixed + per-byte, see SizeBaseline) times how much the load
   * stretches uploads lately. Undefined before the first sample. (At an adaptive limit the
   * stretch stays near 1: the limit keeps a target just short of queueing.)
   */
  estimateMs(bytes: number): number | undefined {
    const fastest = this.base.baseMs(bytes);
    return fastest === undefined ? undefined : fastest * this.stretch;
  }

  view(): LoadView {
    const span = this.firstStart !== undefined && this.lastEnd !== undefined ? this.lastEnd - this.firstStart : 0;
    return {
      limit: this.limit.limit,
      bytesPerSec: this.rate,
      latencyMs: this.latency,
      medianLatencyMs: this.latencies.median(),
      runBytesPerSec: span > 0 ? (this.bytesDone * 1000) / span : undefined,
    };
  }

  private advance(now: number): void {
    this.area += this.inflight * (now - this.areaAt);
    this.areaAt = now;
  }
}
