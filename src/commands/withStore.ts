import { DEFAULTS } from '../config.js';
import { createLogger, flushLogger } from '../logger.js';
import { openStore } from '../store/openStore.js';
import type { Store } from '../store/types.js';
import type { CliContext } from './context.js';
import { single } from './options.js';

/** The `--db` option of the commands that only read or migrate the records. */
export const DB_OPTION = {
  type: 'string',
  nargs: 1,
  coerce: single('db'),
  describe: 'database URL (default $FANOUT_DB, else sqlite:fanout.sqlite)',
} as const;

/** The database a command uses: --db, else $FANOUT_DB, else the embedded default. */
export function dbUrl(ctx: CliContext, db: string | undefined): string {
  return db ?? ctx.env.FANOUT_DB ?? DEFAULTS.db;
}

/**
 * Open the store (migrated, or read-only for the commands that only read), run `fn` with it,
 * then close it and flush the logger, on every way out. Knex's warnings go to stderr; an
 * unusable database is a ConfigError (exit 2).
 */
export async function withStore<T>(ctx: CliContext, db: string, fn: (store: Store) => Promise<T>, opts: { readOnly?: boolean } = {}): Promise<T> {
  const logger = createLogger({ stream: ctx.stderr, level: 'warn' });
  try {
    const store = await openStore({ db }, logger, { readOnly: opts.readOnly });
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  } finally {
    await flushLogger(logger);
  }
}
