import type { Argv, CommandModule } from 'yargs';
import { normaliseUploadConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { createLogger, flushLogger } from '../logger.js';
import { planBatch } from '../runs/planBatch.js';
import { fillFromBatch } from '../runs/resumeFromBatch.js';
import type { CliContext } from './context.js';
import { single } from './options.js';
import { targetOptions, walkOptions } from './upload.js';

interface PlanArgs {
  dir?: string;
  batchId: string;
  target?: string[];
  targetsFile?: string;
  include?: string[];
  exclude?: string[];
  minAge?: number;
  assign?: string;
  followSymlinks?: boolean;
  db?: string;
  json?: boolean;
}

export function planCommand(ctx: CliContext): CommandModule<object, PlanArgs> {
  return {
    command: 'plan [dir]',
    describe: 'walk a directory once and write one pending row per file: the work queue of `fanout work`',
    builder: (y) =>
      walkOptions(targetOptions(y as Argv))
        .positional('dir', { type: 'string', describe: 'the directory (default, planning again: the batch\'s own)' })
        .option('batch-id', { type: 'string', nargs: 1, coerce: single('batch-id'), demandOption: true, describe: 'the batch to plan (new, or planned before)' })
        .option('db', { type: 'string', nargs: 1, coerce: single('db'), describe: 'database URL (default $FANOUT_DB, else sqlite:fanout.sqlite)' })
        .option('json', { type: 'boolean', describe: 'print one JSON summary on stdout' }) as unknown as Argv<PlanArgs>,
    handler: async (argv) => {
      // planning again may leave out the dir and targets: the batch row keeps them
      const again = argv.dir === undefined || (argv.target === undefined && argv.targetsFile === undefined);
      const raw = await fillFromBatch({ ...argv, resume: again }, ctx.env).catch((err: unknown) => {
        if (err instanceof ConfigError && err.message.startsWith('no batch')) throw new ConfigError(`no batch "${argv.batchId}" planned yet: give <dir> and --target`);
        throw err;
      });
      const config = await normaliseUploadConfig(raw, ctx.env);
      const logger = createLogger({ stream: ctx.stderr, level: 'warn' });
      try {
        const s = await planBatch(config, logger);
        ctx.stdout.write(config.json ? `${JSON.stringify(s)}\n` : `batch ${s.batchId} planned: ${s.total} files walked, ${s.added} added, ${s.changed} changed, ${s.kept} kept as they were\n`);
        ctx.exitCode = 0;
      } finally {
        await flushLogger(logger);
      }
    },
  };
}
