import type { UploadConfig } from '../config.js';
import type { Fleet } from '../http/fleet.js';
import type { Tally } from '../types.js';
import { countFiles } from './countFiles.js';
import { rateMeter, type Rate } from './rateMeter.js';

export interface TargetView {
  target: string;
  up: boolean;
  inFlight: number;
  /** uploads it may have in flight now (adaptive: changes through the run) */
  limit?: number;
  uploaded: number;
  failed: number;
  bytes: number;
  /** recent bytes/s of the whole target, once measured */
  bytesPerSec?: number;
  /** recent latency of an upload, ms, once measured */
  latencyMs?: number;
}

/** Everything a progress display shows, at one instant. */
export interface ProgressView extends Rate {
  batchId: string | null;
  /** uploaded + failed + skipped */
  done: number;
  /** the files matched: exact once the background count is done, a lower bound before */
  total: number;
  totalExact: boolean;
  uploaded: number;
  failed: number;
  skipped: number;
  bytes: number;
  /** seconds left at the recent pace; null while the total or the pace is unknown */
  etaSec: number | null;
  elapsedMs: number;
  targets: TargetView[];
}

export type ProgressRun = { fleet: Pick<Fleet, 'snapshot'>; batchId: string; config: Pick<UploadConfig, 'dir' | 'include' | 'exclude' | 'minAgeMs' | 'followSymlinks'> & { ignoreCase?: boolean } };

/**
 * Collects what runBatch hands out (the fleet once, every running tally) plus a
 * background count of the matching files, and turns it into a ProgressView on demand.
 * `close()` stops the count.
 */
export class ProgressTracker {
  private run: ProgressRun | null = null;
  private tally: Tally | null = null;
  private counted = 0;
  private countDone = false;
  private readonly counting = new AbortController();
  private readonly rate = rateMeter();
  private readonly t0: number;

  constructor(private readonly now: () => number = Date.now) {
    this.t0 = now();
  }

  /** runBatch's onStart: starts the count (display only; a failed count just leaves "≥N") */
  readonly onStart = (run: ProgressRun): void => {
    this.run = run;
    // the pace is measured from the start: the first view (the first `progress` line, 5 s
    // in) has a span to measure over instead of a single sample that reads as 0 files/s
    this.rate.sample(this.now(), 0, 0);
    const { dir, include, exclude, ignoreCase, minAgeMs, followSymlinks } = run.config;
    void countFiles(dir, { include, exclude, ignoreCase, minAgeMs, followSymlinks }, { signal: this.counting.signal, onCount: (n) => (this.counted = n) }).then(
      (n) => {
        if (n === null) return;
        this.counted = n;
        this.countDone = true;
      },
      () => undefined,
    );
  };

  /** runBatch's onTally */
  readonly onTally = (tally: Tally): void => {
    this.tally = tally;
  };

  view(): ProgressView {
    const now = this.now();
    const t = this.tally;
    const uploaded = t?.uploaded ?? 0;
    const failed = t?.failed ?? 0;
    const skipped = t?.skipped ?? 0;
    const bytes = t?.bytes ?? 0;
    const done = uploaded + failed + skipped;
    const total = Math.max(this.counted, done);
    const rate = this.rate.sample(now, done, bytes);
    const etaSec = this.countDone && rate.filesPerSec > 0 ? (total - done) / rate.filesPerSec : null;
    const targets = (this.run?.fleet.snapshot() ?? []).map((s) => ({
      target: s.target,
      up: s.up,
      inFlight: s.inFlight,
      limit: s.limit,
      uploaded: t?.targets[s.target]?.uploaded ?? 0,
      failed: t?.targets[s.target]?.failed ?? 0,
      bytes: t?.targets[s.target]?.bytes ?? 0,
      bytesPerSec: s.bytesPerSec,
      latencyMs: s.latencyMs,
    }));
    return {
      batchId: this.run?.batchId ?? null, done, total, totalExact: this.countDone, uploaded, failed, skipped, bytes,
      ...rate, etaSec, elapsedMs: now - this.t0, targets,
    };
  }

  close(): void {
    this.counting.abort();
  }
}
