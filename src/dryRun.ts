import { lastValueFrom, reduce, tap } from 'rxjs';
import { from } from 'rxjs';
import type { UploadConfig } from './config.js';
import { assignTargets } from './operators/assignTargets.js';
import { fileListLines, listedFiles } from './sources/listedFiles.js';
import { walkFiles } from './sources/walkFiles.js';
import type { Assignment } from './types.js';

export interface DryRunPlan {
  batchId: string;
  dryRun: true;
  assign: string;
  total: number;
  bytes: number;
  targets: Record<string, { files: number; bytes: number }>;
}

/**
 * The plan without side effects: walk and assign, report file -> target and per-target
 * counts and bytes. Least-loaded decides at upload time, so its plan shows the even
 * split it starts from (round-robin order).
 */
export async function dryRun(config: UploadConfig, onFile?: (a: Assignment) => void): Promise<DryRunPlan> {
  const init: DryRunPlan = {
    batchId: config.batchId, dryRun: true, assign: config.assign, total: 0, bytes: 0,
    targets: Object.fromEntries(config.targets.map((t) => [t, { files: 0, bytes: 0 }])),
  };
  const walk = { include: config.include, exclude: config.exclude, minAgeMs: config.minAgeMs, followSymlinks: config.followSymlinks };
  const files = config.filesFrom === undefined ? walkFiles(config.dir, walk) : listedFiles(config.dir, fileListLines(config.filesFrom), walk);
  return lastValueFrom(
    from(files).pipe(
      assignTargets('round-robin', config.targets),
      tap((a) => onFile?.(a)),
      reduce((plan, a) => {
        const t = plan.targets[a.target as string];
        t.files++;
        t.bytes += a.file.size;
        plan.total++;
        plan.bytes += a.file.size;
        return plan;
      }, init),
    ),
    { defaultValue: init },
  );
}
