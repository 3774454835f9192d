import type { Argv, CommandModule } from 'yargs';
import { normaliseUploadConfig, type RawUploadArgs } from '../config.js';
import { ConfigError } from '../errors.js';
import { defaultPrefix, runWatch, type WatchSummary } from '../watch/runWatch.js';
import type { CliContext } from './context.js';
import { decimal, int, single } from './options.js';
import { withSession } from './session.js';
import { uploadOptions } from './upload.js';
import type { LogFormat } from '../logText.js';

type WatchArgs = Omit<RawUploadArgs, 'dir'> & {
  dir?: string; filesFrom?: string; report?: string; logFormat?: LogFormat; metricsPort?: number;
  batchPrefix?: string; rescanS?: number; batchEvery?: number; batchMaxFiles?: number; planOnly?: boolean; leaseMs?: number;
};

const PREFIX = /^[A-Za-z0-9._]([A-Za-z0-9._-]{0,43})$/;
/** a watch's batches are `<prefix>-<time>`, within a batch id's 64 characters */
export function checkPrefix(prefix: string): void {
  if (!PREFIX.test(prefix)) throw new ConfigError(`bad --batch-prefix "${prefix}": use 1-44 of A-Z a-z 0-9 . _ - (not starting with -)`);
}
/** `1h`, `30m`, `90s`, or plain seconds */
const duration = (name: string) => (v: unknown): number => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$/.exec(String(v));
  if (!m || Number(m[1]) <= 0) throw new ConfigError(`bad --${name} "${String(v)}": give a duration such as 90s, 30m or 1h`);
  return Math.round(Number(m[1]) * { s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 's' | 'm' | 'h'] * 1000);
};

const exitOf = (s: WatchSummary) => (s.status === 'interrupted' ? 130 : 1);

export function watchCommand(ctx: CliContext): CommandModule<object, WatchArgs> {
  return {
    command: 'watch <dir>',
    describe: 'run as a service: distribute files as they land in <dir>, into rolling batches, until SIGINT/SIGTERM',
    builder: (y) =>
      (uploadOptions(y as Argv) as unknown as Argv)
        .option('rescan-s', { type: 'string', nargs: 1, coerce: decimal('rescan-s'), describe: 'a full walk this often, for what filesystem events miss (default 60)' })
        .option('batch-every', { type: 'string', nargs: 1, coerce: duration('batch-every'), describe: 'a new batch this often: 90s, 30m, 1h (default 1h)' })
        .option('batch-max-files', { type: 'string', nargs: 1, coerce: int('batch-max-files', 1), describe: '... or once a batch holds this many files (default 100000)' })
        .option('batch-prefix', { type: 'string', nargs: 1, coerce: single('batch-prefix'), describe: 'batches are <prefix>-<time> (default watch-<hash of the dir>); the watch\'s registry' })
        .option('plan-only', { type: 'boolean', describe: 'only plan: `fanout work --batch-prefix P --follow` processes elsewhere upload (MySQL/MariaDB)' })
        .option('lease-ms', { type: 'string', nargs: 1, coerce: int('lease-ms', 300), describe: 'how long claims and the watch\'s heartbeat last unrenewed (default 30000)' }) as unknown as Argv<WatchArgs>,
    handler: async (argv) => {
      for (const [flag, v] of [['files-from', argv.filesFrom], ['resume', argv.resume], ['dry-run', argv.dryRun], ['report', argv.report], ['batch-id', argv.batchId]] as const) {
        if (v !== undefined && v !== false) throw new ConfigError(`\`fanout watch\` takes no --${flag}${flag === 'batch-id' ? ': its batches are named from --batch-prefix' : ''}`);
      }
      const prefix = argv.batchPrefix ?? defaultPrefix(argv.dir as string);
      checkPrefix(prefix);
      const config = await normaliseUploadConfig({ ...argv, dir: argv.dir as string }, ctx.env);
      await withSession(ctx, config, { logFormat: argv.logFormat, metricsPort: argv.metricsPort }, async (deps) => {
        const s = await runWatch({
          ...config, prefix, rescanMs: Math.round((argv.rescanS ?? 60) * 1000), batchEveryMs: argv.batchEvery ?? 3_600_000,
          batchMaxFiles: argv.batchMaxFiles ?? 100_000, planOnly: argv.planOnly === true, leaseMs: argv.leaseMs ?? 30_000,
        }, deps);
        ctx.stdout.write(config.json ? `${JSON.stringify(s)}\n` : `watch ${s.prefix} ${s.status}: ${s.planned} files planned, ${s.uploaded} uploaded, ${s.failed} failed by this process\n`);
        ctx.exitCode = exitOf(s);
      });
    },
  };
}
