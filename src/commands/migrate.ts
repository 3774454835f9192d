import type { CommandModule } from 'yargs';
import { redactDbUrl } from '../store/createStore.js';
import type { CliContext } from './context.js';
import { DB_OPTION, dbUrl, withStore } from './withStore.js';

export function migrateCommand(ctx: CliContext): CommandModule<object, { db?: string }> {
  return {
    command: 'migrate',
    describe: 'create or update the tables (upload does this too)',
    builder: (y) => y.option('db', DB_OPTION),
    handler: async (argv) => {
      const db = dbUrl(ctx, argv.db);
      await withStore(ctx, db, async () => undefined); // opening it migrates it
      ctx.stdout.write(`migrated ${redactDbUrl(db)}\n`);
    },
  };
}
