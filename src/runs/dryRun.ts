import { bufferCount, concatMap, from, identity, lastValueFrom, mergeMap, reduce, tap, type OperatorFunction } from 'rxjs';
import type { UploadConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { assignTargets } from '../operators/assignTargets.js';
import { fileListLines, listedFiles } from '../sources/listedFiles.js';
import { resumeDecision } from '../operators/planUploads.js';
import { checkResumeDir } from './resumeFromBatch.js';
import { walkFiles } from '../sources/walkFiles.js';
import { openStore } from '../store/openStore.js';
import type { Store } from '../store/types.js';
import type { Assignment } from '../types.js';

export interface DryRunPlan {
  batchId: string;
  dryRun: true;
  assign: string;
  total: number;
  bytes: number;
  targets: Record<string, { files: number; bytes: number }>;
  /** on --resume: files already uploaded and unchanged, which the run would skip (not in total) */
  skipped?: number;
}

/**
 * The plan without side effects: walk and assign, report file -> target and per-target
 * counts and bytes. Least-loaded decides at upload time, so its plan shows the even
 * split it starts from (round-robin order). With --resume it reads the batch's records
 * (never writes): a file already uploaded and unchanged is shown skipped, a pending one
 * goes to the target its row names.
 */
export async function dryRun(config: UploadConfig, onFile?: (a: Assignment) => void): Promise<DryRunPlan> {
  const init: DryRunPlan = {
    batchId: config.batchId, dryRun: true, assign: config.assign, total: 0, bytes: 0,
    targets: Object.fromEntries(config.targets.map((t) => [t, { files: 0, bytes: 0 }])),
    ...(config.resume ? { skipped: 0 } : {}),
  };
  const store = config.resume ? await openStore(config, silentLogger(), { readOnly: true }) : undefined;
  try {
    if (store) {
      const batch = await store.getBatch(config.batchId);
      if (!batch) throw new ConfigError(`no batch "${config.batchId}" to resume`);
      checkResumeDir(batch, config.dir);
    }
    const walk = { include: config.include, exclude: config.exclude, ignoreCase: config.ignoreCase, minAgeMs: config.minAgeMs, followSymlinks: config.followSymlinks };
    const walked = config.filesFrom === undefined ? walkFiles(config.dir, walk) : listedFiles(config.dir, fileListLines(config.filesFrom), walk);
    return await lastValueFrom(
      from(walked).pipe(
        assignTargets('round-robin', config.targets),
        store ? asTheResumeWould(store, config.batchId) : identity,
        tap((a) => onFile?.(a)),
        reduce((plan, a) => {
          if (a.skip) {
            plan.skipped = (plan.skipped ?? 0) + 1;
            return plan;
          }
          const t = (plan.targets[a.target as string] ??= { files: 0, bytes: 0 });
          t.files++;
          t.bytes += a.file.size;
          plan.total++;
          plan.bytes += a.file.size;
          return plan;
        }, init),
      ),
      { defaultValue: init },
    );
  } finally {
    await store?.close().catch(() => undefined);
  }
}

/** Each assignment as the resume would take it, decided against the batch's rows 500 at a time. */
function asTheResumeWould(store: Store, batchId: string): OperatorFunction<Assignment, Assignment> {
  return (source) =>
    source.pipe(
      bufferCount(500),
      concatMap(async (batch) => {
        const rows = await store.findFiles(batchId, batch.map((a) => a.file.path));
        return Promise.all(batch.map((a) => resumeDecision(a, rows.get(a.file.path))));
      }),
      mergeMap((batch) => batch),
    );
}
