import type { Argv, CommandModule } from 'yargs';
import { normaliseUploadConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { flushLogger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { openStore } from '../store/openStore.js';
import { sharesClaims } from '../store/parseDbUrl.js';
import { WORK_NEEDS_MYSQL, runWorker, type WorkSummary } from '../work/runWorker.js';
import type { CliContext } from './context.js';
import { int, single } from './options.js';
import type { LogFormat } from '../logText.js';
import { commandLogger, serveMetricsIfAsked, stopSignals } from './session.js';
import { sendOptions } from './upload.js';
import { dbUrl } from './withStore.js';

type WorkArgs = Record<string, unknown> & { metricsPort?: number; batchId: string; root: string; db?: string; leaseMs?: number; follow?: boolean; json?: boolean; target?: string[]; targetsFile?: string; logLevel?: string };

const exitOf = (s: WorkSummary) => (s.status === 'interrupted' ? 130 : s.status === 'completed' ? 0 : 1);

export function workCommand(ctx: CliContext): CommandModule<object, WorkArgs> {
  return {
    command: 'work',
    describe: 'one worker of a planned batch (MySQL/MariaDB): claims pending files and uploads them; run it on any number of machines',
    builder: (y) =>
      (sendOptions(y as Argv) as unknown as Argv)
        .option('root', { type: 'string', nargs: 1, coerce: single('root'), demandOption: true, describe: 'where this machine mounts the planned tree (rows hold relative paths)' })
        .option('lease-ms', { type: 'string', nargs: 1, coerce: int('lease-ms', 300), describe: 'how long claims, targets and heartbeats last unrenewed (default 30000)' })
        .option('follow', { type: 'boolean', describe: 'keep polling for newly planned files instead of exiting when the batch is done' }) as unknown as Argv<WorkArgs>,
    handler: async (argv) => {
      if (!argv.batchId) throw new ConfigError('`fanout work` needs --batch-id (the planned batch)');
      const db = dbUrl(ctx, argv.db);
      if (!sharesClaims(db)) throw new ConfigError(WORK_NEEDS_MYSQL);
      let targets = argv.target;
      if ((targets === undefined || targets.length === 0) && argv.targetsFile === undefined) {
        const store = await openStore({ db }, silentLogger());
        try {
          const batch = await store.getBatch(argv.batchId);
          if (!batch) throw new ConfigError(`no batch "${argv.batchId}": plan it first (fanout plan <dir> --batch-id ${argv.batchId} --target …)`);
          targets = batch.targets;
        } finally {
          await store.close();
        }
      }
      const config = await normaliseUploadConfig({ ...argv, dir: argv.root, target: targets, db } as never, ctx.env);
      const logger = commandLogger(ctx, config, argv.logFormat as LogFormat | undefined);
      const metrics = await serveMetricsIfAsked(argv.metricsPort, logger);
      const signals = stopSignals(ctx);
      try {
        const s = await runWorker({ ...config, leaseMs: argv.leaseMs ?? 30_000, follow: argv.follow === true }, {
          logger, stop: signals.stop, abort: signals.abort,
          onStart: (run) => metrics?.onStart(run), onTally: (t) => metrics?.onTally(t), onResult: (r) => metrics?.onResult(r),
        });
        ctx.stdout.write(argv.json ? `${JSON.stringify(s)}\n` : `worker ${s.worker} ${s.status}: ${s.uploaded} uploaded, ${s.failed} failed, ${s.lost} results discarded (claims lost)\n`);
        ctx.exitCode = exitOf(s);
      } finally {
        await metrics?.close();
        signals.release();
        await flushLogger(logger);
      }
    },
  };
}
