import type { Writable } from 'node:stream';
import { normaliseUploadConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { LogRouter } from '../progress/logRouter.js';
import { startProgress } from '../progress/startProgress.js';
import { runBatch } from '../runBatch.js';
import type { Store } from '../store/types.js';
import type { Summary } from '../types.js';

export interface FanoutRun {
  dir: string;
  db: string;
  perTarget: number;
  store: Store;
  logger: Logger;
  /** stop taking files (in-flight uploads finish) */
  stop?: AbortSignal;
  /** bars on this stream (a terminal) while the batch runs */
  bars?: { stream: Writable; logRouter?: LogRouter };
}

/** The real thing, as `fanout upload DIR --assign least-loaded --per-target N` runs it. */
export async function fanoutUploads(run: FanoutRun, targets: string[]): Promise<Summary> {
  const config = await normaliseUploadConfig({ dir: run.dir, target: targets, assign: 'least-loaded', perTarget: run.perTarget, db: run.db }, {});
  const progress = run.bars
    ? startProgress({ bars: true, stream: run.bars.stream, logger: run.logger, logRouter: run.bars.logRouter })
    : undefined;
  try {
    return await runBatch(config, { logger: run.logger, store: run.store, stop: run.stop, onStart: progress?.onStart, onTally: progress?.onTally });
  } finally {
    progress?.stop();
  }
}
