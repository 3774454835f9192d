import type { Argv, CommandModule } from 'yargs';
import { DEFAULTS } from '../config.js';
import { createLogger, flushLogger } from '../logger.js';
import { checkReportPath, writeReport } from '../report/writeReport.js';
import { openStore } from '../runBatch.js';
import type { CliContext } from './context.js';
import { single } from './options.js';

interface ReportArgs {
  batchId: string;
  out: string;
  db?: string;
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

export { checkReportPath, writeReport };
