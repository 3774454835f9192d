import { randomBytes } from 'node:crypto';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Store } from '../store/types.js';
import { loadReportData } from './loadReport.js';
import { renderReport } from './renderReport.js';

/**
 * Render the batch's report and write it to `outPath` through a temp file and a rename,
 * so a reader never sees half a page. ConfigError for an unknown batch.
 */
export async function writeReport(store: Store, batchId: string, outPath: string): Promise<void> {
  const html = renderReport(await loadReportData(store, batchId));
  const tmp = `${outPath}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, html, 'utf8');
    await rename(tmp, outPath);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * A report path must name a file in an existing directory: ConfigError naming the option
 * otherwise. Check it before anything runs (`upload --report` too, before the batch).
 */
export async function checkReportPath(out: string, option = 'out'): Promise<void> {
  const dir = dirname(resolve(out));
  const isDir = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);
  if (!(await isDir(dir))) throw new ConfigError(`bad --${option} "${out}": directory ${dir} does not exist`);
  if (await isDir(out)) throw new ConfigError(`bad --${option} "${out}": it is a directory`);
}

