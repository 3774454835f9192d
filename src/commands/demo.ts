import { setMaxListeners } from 'node:events';
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { runDemo } from '../demo/runDemo.js';
import { ConfigError } from '../errors.js';
import { createLogger, flushLogger } from '../logger.js';
import { LogRouter } from '../progress/logRouter.js';
import type { CliContext } from './context.js';
import { single } from './options.js';

interface DemoArgs {
  json?: boolean;
  report?: string;
}

export const DEMO_REPORT = 'fanout-demo-report.html';

/**
 * `fanout demo`: the whole job on this machine in under a minute, needing nothing but
 * `npm install`. Human-readable on stdout, or one JSON object with --json; warnings
 * (and the progress bars, on a terminal) on stderr. Ctrl-C ends it cleanly (exit 130).
 */
export function demoCommand(ctx: CliContext): CommandModule<object, DemoArgs> {
  return {
    command: 'demo',
    describe: 'run the whole job locally: simulated GPU hosts, generated files, one at a time vs all at once vs fanout',
    builder: (y) =>
      (y as Argv)
        .option('json', { type: 'boolean', describe: 'print one JSON object with the numbers of the three runs' })
        .option('report', { type: 'string', nargs: 1, coerce: single('report'), describe: `where the timeline report goes (default ./${DEMO_REPORT})` }) as unknown as Argv<DemoArgs>,
    handler: async (argv) => {
      const reportPath = path.resolve(argv.report ?? DEMO_REPORT);
      if (!(await stat(path.dirname(reportPath)).then((s) => s.isDirectory(), () => false))) {
        throw new ConfigError(`bad --report "${argv.report}": directory ${path.dirname(reportPath)} does not exist`);
      }
      const logRouter = new LogRouter(ctx.stderr);
      const logger = createLogger({ level: 'warn', stream: logRouter });
      const interrupt = new AbortController();
      setMaxListeners(0, interrupt.signal); // the all-at-once run hangs every one of its requests on it
      const onSignal = () => interrupt.abort();
      ctx.signals.on('SIGINT', onSignal);
      ctx.signals.on('SIGTERM', onSignal);
      try {
        const result = await runDemo({
          reportPath,
          tmpRoot: ctx.env.TMPDIR || os.tmpdir(),
          logger,
          signal: interrupt.signal,
          say: argv.json ? undefined : (text) => ctx.stdout.write(`${text}\n`),
          bars: ctx.isTTY ? { stream: ctx.stderr, logRouter } : undefined,
        });
        if (argv.json) ctx.stdout.write(`${JSON.stringify(result)}\n`);
        ctx.exitCode = result.runs.every((r) => r.delivered === r.files) ? 0 : 1;
      } catch (err) {
        if (!interrupt.signal.aborted) throw err;
        ctx.stderr.write('fanout: demo interrupted; hosts closed, temp files removed\n');
        ctx.exitCode = 130;
      } finally {
        ctx.signals.off('SIGINT', onSignal);
        ctx.signals.off('SIGTERM', onSignal);
        await flushLogger(logger);
      }
    },
  };
}
