import type { Argv, CommandModule } from 'yargs';
import { normaliseUploadConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { openStore } from '../store/openStore.js';
import { sharesClaims } from '../store/parseDbUrl.js';
import { WORK_NEEDS_MYSQL, runWorker, type WorkSummary } from '../work/runWorker.js';
import type { CliContext } from './context.js';
import { int, single } from './options.js';
import type { LogFormat } from '../logText.js';
import { withSession } from './session.js';
import { sendOptions } from './upload.js';
import { dbUrl } from './withStore.js';
import { checkPrefix } from './watch.js';
import { newestBatch } from '../store/watchQueries.js';

type WorkArgs = Record<string, unknown> & { metricsPort?: number; batchId?: string; batchPrefix?: string; root: string; db?: string; leaseMs?: number; follow?: boolean; json?: boolean; target?: string[]; targetsFile?: string; logLevel?: string };

const exitOf = (s: WorkSummary) => (s.status === 'interrupted' ? 130 : s.status === 'completed' ? 0 : 1);

export function workCommand(ctx: CliContext): CommandModule<object, WorkArgs> {
  return {
    command: 'work',
    describe: 'one worker of a planned batch (MySQL/MariaDB): claims pending files and uploads them; run it on any number of machines',
    builder: (y) =>
      (sendOptions(y as Argv) as unknown as Argv)
        .option('root', { type: 'string', nargs: 1, coerce: single('root'), demandOption: true, describe: 'where this machine mounts the planned tree (rows hold relative paths)' })
        .option('lease-ms', { type: 'string', nargs: 1, coerce: int('lease-ms', 300), describe: 'how long claims, targets and heartbeats last unrenewed (default 30000)' })
        .option('batch-prefix', { type: 'string', nargs: 1, coerce: single('batch-prefix'), describe: 'work a `fanout watch`\'s batches (its --batch-prefix) in place of one --batch-id, moving on as they roll' })
        .option('follow', { type: 'boolean', describe: 'keep polling for newly planned files (with --batch-prefix: the watch\'s next batches) instead of exiting when done' }) as unknown as Argv<WorkArgs>,
    handler: async (argv) => {
      const { batchId, batchPrefix: prefix } = argv;
      if (batchId !== undefined && prefix !== undefined) throw new ConfigError('give --batch-id (one planned batch) or --batch-prefix (a watch\'s batches), not both');
      if (batchId === undefined && prefix === undefined) throw new ConfigError('`fanout work` needs --batch-id (the planned batch) or --batch-prefix (a watch\'s batches)');
      if (prefix !== undefined) checkPrefix(prefix);
      const db = dbUrl(ctx, argv.db);
      if (!sharesClaims(db)) throw new ConfigError(WORK_NEEDS_MYSQL);
      let targets = argv.target;
      const noTargets = (targets === undefined || targets.length === 0) && argv.targetsFile === undefined;
      if (prefix !== undefined || noTargets) {
        const store = await openStore({ db }, silentLogger());
        try {
          // a watch is known by its registration (from its start) or its batches
          const newest = prefix === undefined ? undefined : await newestBatch(store.knex, prefix);
          if (prefix !== undefined && !newest && !(await store.knex('workers').where({ id: `watch:${prefix}` }).first('id'))) {
            throw new ConfigError(`no watch "${prefix}" in this database: start \`fanout watch <dir> --batch-prefix ${prefix} …\` first, or check --batch-prefix`);
          }
          if (noTargets) {
            // the batch's targets (a watch's: its newest batch's)
            const batch = await store.getBatch(batchId ?? newest?.id ?? '');
            if (!batch && batchId !== undefined) throw new ConfigError(`no batch "${batchId}": plan it first (fanout plan <dir> --batch-id ${batchId} --target …)`);
            if (!batch) throw new ConfigError(`watch "${prefix}" has no batch yet to take targets from: give --target`);
            targets = batch.targets;
          }
        } finally {
          await store.close();
        }
      }
      const config = await normaliseUploadConfig({ ...argv, dir: argv.root, target: targets, db } as never, ctx.env);
      await withSession(ctx, config, { logFormat: argv.logFormat as LogFormat | undefined, metricsPort: argv.metricsPort }, async (deps) => {
        const s = await runWorker({ ...config, leaseMs: argv.leaseMs ?? 30_000, follow: argv.follow === true, prefix }, deps);
        const where = s.prefix === undefined ? '' : ` on watch ${s.prefix} (${s.batches?.length ?? 0} batches)`;
        ctx.stdout.write(argv.json ? `${JSON.stringify(s)}\n` : `worker ${s.worker}${where} ${s.status}: ${s.uploaded} uploaded, ${s.failed} failed, ${s.lost} results discarded (claims lost)\n`);
        ctx.exitCode = exitOf(s);
      });
    },
  };
}
