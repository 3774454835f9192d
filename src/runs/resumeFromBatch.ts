import path from 'node:path';
import type { RawUploadArgs } from '../config.js';
import { DEFAULTS } from '../config.js';
import { ConfigError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { openStore } from '../store/openStore.js';
import type { BatchRow } from '../store/types.js';

/**
 * `upload --resume` without a directory or targets takes the batch's own: the batch row
 * keeps both. Reads only; an unknown batch is refused here like the real run refuses it.
 */
export async function fillFromBatch(raw: Omit<RawUploadArgs, 'dir'> & { dir?: string }, env: NodeJS.ProcessEnv): Promise<RawUploadArgs> {
  const needsTargets = (raw.target ?? []).length === 0 && raw.targetsFile === undefined;
  if (!raw.resume || !raw.batchId || (raw.dir !== undefined && !needsTargets)) {
    if (raw.dir === undefined) throw new ConfigError('name the <dir> to upload (only --resume --batch-id ID may leave it out: it takes the batch\'s own)');
    return raw as RawUploadArgs;
  }
  const store = await openStore({ db: raw.db ?? env.FANOUT_DB ?? DEFAULTS.db }, silentLogger(), { readOnly: true });
  try {
    const batch = await store.getBatch(raw.batchId);
    if (!batch) throw new ConfigError(`no batch "${raw.batchId}" to resume`);
    return { ...raw, dir: raw.dir ?? batch.sourceDir, target: needsTargets ? batch.targets : raw.target };
  } finally {
    await store.close().catch(() => undefined);
  }
}

/** A resume walks the batch's own directory: another one would merge foreign files into it. */
export function checkResumeDir(batch: BatchRow, dir: string): void {
  if (path.resolve(batch.sourceDir) !== path.resolve(dir)) {
    throw new ConfigError(`batch "${batch.id}" is of directory "${batch.sourceDir}", not "${dir}": --resume walks the batch's own directory (leave <dir> out to take it)`);
  }
}
