import type { CommandModule } from 'yargs';
import { DEFAULTS } from '../config.js';
import { createLogger, flushLogger } from '../logger.js';
import { openStore } from '../runBatch.js';
import { redactDbUrl } from '../store/createStore.js';
import type { CliContext } from './context.js';
import { single } from './options.js';

export function migrateCommand(ctx: CliContext): CommandModule<object, { db?: string }> {
  return {
    command: 'migrate',
    describe: 'create or update the tables (upload does this too)',
    builder: (y) => y.option('db', { type: 'string', nargs: 1, coerce: single('db'), describe: 'database URL (default $FANOUT_DB, else sqlite:fanout.sqlite)' }),
    handler: async (argv) => {
      const db = argv.db ?? ctx.env.FANOUT_DB ?? DEFAULTS.db;
      const logger = createLogger({ stream: ctx.stderr, level: 'warn' });
      const store = await openStore({ db }, logger);
      await store.close();
      await flushLogger(logger);
      ctx.stdout.write(`migrated ${redactDbUrl(db)}\n`);
    },
  };
}
