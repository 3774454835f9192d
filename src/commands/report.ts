import type { Argv, CommandModule } from 'yargs';
import { checkReportPath, writeReport } from '../report/writeReport.js';
import type { CliContext } from './context.js';
import { single } from './options.js';
import { DB_OPTION, dbUrl, withStore } from './withStore.js';

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
        .option('db', DB_OPTION) as unknown as Argv<ReportArgs>,
    handler: async (argv) => {
      await checkReportPath(argv.out);
      await withStore(ctx, dbUrl(ctx, argv.db), (store) => writeReport(store, argv.batchId, argv.out), { readOnly: true });
      ctx.stdout.write(`report written to ${argv.out}\n`);
      ctx.exitCode = 0;
    },
  };
}

export { checkReportPath, writeReport };
