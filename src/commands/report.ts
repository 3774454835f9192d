import { randomBytes } from 'node:crypto';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { DEFAULTS } from '../config.js';
import { ConfigError } from '../errors.js';
import { createLogger, flushLogger } from '../logger.js';
import { loadReportData } from '../report/loadReport.js';
import { renderReport } from '../report/renderReport.js';
import { openStore } from '../runBatch.js';
import type { Store } from '../store/types.js';
import type { CliContext } from './context.js';
import { single } from './options.js';

interface ReportArgs {
  batchId: string;
  out: string;
  db?: string;
}

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

export function reportCommand(ctx: CliContext): CommandModule<object, ReportArgs> {
  return {
    command: 'report',
    describe: 'write a self-contained HTML timeline report of a batch',
    builder: (y) =>
      (y as Argv)
        .option('batch-id', { type: 'string', nargs: 1, coerce: single('batch-id'), demandOption: true, describe: 'the batch to report on' })
        .option('out', { type: 'string', nargs: 1, coerce: single('out'), demandOption: true, describe: 'the HTML file to write' })
        .option('db', { type: 'string', nargs: 1, coerce: single('db'), describe: 'database URL (default $FANOUT_DB, else sqlite:fanout.sqlite)' }) as unknown as Argv<ReportArgs>,
    handler: async (argv) => {
      const db = argv.db ?? ctx.env.FANOUT_DB ?? DEFAULTS.db;
      await checkReportPath(argv.out);
      const logger = createLogger({ stream: ctx.stderr, level: 'warn' });
      try {
        const store = await openStore({ db }, logger);
        try {
          await writeReport(store, argv.batchId, argv.out);
        } finally {
          await store.close();
        }
      } finally {
        await flushLogger(logger);
      }
      ctx.stdout.write(`report written to ${argv.out}\n`);
      ctx.exitCode = 0;
    },
  };
}
