import type { Writable } from 'node:stream';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Tally } from '../types.js';
import type { LogRouter } from './logRouter.js';
import { logProgress } from './logProgress.js';
import { ProgressTracker, type ProgressRun } from './progressTracker.js';
import { showBars, type BarDisplay } from './showBars.js';

export const PROGRESS_DEFAULTS = { intervalMs: 5000, fps: 10 } as const;

/** Overrides the interval of the `progress` log lines (tests use a short one). */
export const PROGRESS_INTERVAL_ENV = 'FANOUT_PROGRESS_INTERVAL_MS';

export interface ProgressOptions {
  /** bars on `stream`; otherwise `progress` lines through the logger */
  bars: boolean;
  stream: Writable;
  logger: Logger;
  /** how often a `progress` line is logged when there are no bars */
  intervalMs?: number;
  fps?: number;
  /** the logger's stream when it writes to the terminal: its lines go above the bars while they show */
  logRouter?: LogRouter;
}

export interface Progress {
  /** for runBatch's deps */
  onStart(run: ProgressRun): void;
  onTally(tally: Tally): void;
  /** the batch ended: last frame, timers cleared, background count stopped; idempotent */
  stop(): void;
}

/** Bars when asked (--progress) or on a terminal, unless --no-progress. */
export function wantsBars(flag: boolean | undefined, isTTY: boolean): boolean {
  return flag ?? isTTY;
}

/** The log interval from the environment (FANOUT_PROGRESS_INTERVAL_MS), checked. */
export function progressIntervalFrom(env: NodeJS.ProcessEnv): number {
  const raw = env[PROGRESS_INTERVAL_ENV];
  if (raw === undefined || raw === '') return PROGRESS_DEFAULTS.intervalMs;
  const n = /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError(`bad ${PROGRESS_INTERVAL_ENV} "${raw}": expected milliseconds >= 1`);
  return n;
}

/**
 * Progress of one batch, shown on stderr as bars or logged as `progress` lines; never
 * on stdout (the summary owns it). Starts with runBatch's onStart, ends with stop(),
 * which the caller runs before printing the summary.
 */
export function startProgress(opts: ProgressOptions): Progress {
  const { bars, stream, logger, intervalMs = PROGRESS_DEFAULTS.intervalMs, fps = PROGRESS_DEFAULTS.fps, logRouter } = opts;
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) throw new RangeError(`intervalMs must be a whole number >= 1, got ${intervalMs}`);
  const tracker = new ProgressTracker();
  let display: BarDisplay | undefined;
  let stopLog: (() => void) | undefined;
  let stopped = false;
  return {
    onStart(run) {
      // no bars and progress lines filtered out by the log level: nothing to show, so no
      // background count either (it would stat every file a second time for nobody)
      if (stopped || (!bars && !logger.isInfoEnabled())) return;
      tracker.onStart(run);
      if (bars) {
        display = showBars(tracker, run.fleet.snapshot().map((s) => s.target), { stream, fps });
        const d = display;
        logRouter?.route((line) => d.log(line));
      } else {
        stopLog = logProgress(() => tracker.view(), logger, intervalMs);
      }
    },
    onTally: tracker.onTally,
    stop() {
      if (stopped) return;
      stopped = true;
      stopLog?.();
      display?.stop();
      logRouter?.route(null);
      tracker.close();
    },
  };
}
