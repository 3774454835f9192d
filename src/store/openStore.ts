import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { createStore, parseDbUrl, redactDbUrl } from './createStore.js';
import type { Store } from './types.js';

export interface OpenStoreOptions {
  poolMax?: number;
  /**
   * Read only (status, report): never create, migrate or write. A SQLite file that does not
   * exist, or records whose schema is missing or older than this fanout, are a ConfigError.
   */
  readOnly?: boolean;
}

/** Open the store named by `db` (migrated, unless read-only), or fail with a ConfigError (exit 2). */
export async function openStore(config: { db: string }, logger: Logger, opts: OpenStoreOptions | number = {}): Promise<Store> {
  const { poolMax = 4, readOnly = false } = typeof opts === 'number' ? { poolMax: opts } : opts;
  const shown = redactDbUrl(config.db);
  if (readOnly) checkSqliteFileExists(config.db, shown);
  let store: Store | undefined;
  // knex logs a failed connection attempt (with a stack) before the error reaches us: a
  // database that cannot be reached is one line on stderr, so the attempt is not logged
  const wasSilent = logger.silent;
  try {
    logger.silent = true;
    try {
      store = await createStore(config.db, { logger, poolMax, readOnly });
      await store.ping();
    } finally {
      logger.silent = wasSilent;
    }
    if (!readOnly) {
      await store.migrate();
      return store;
    }
    const schema = await store.schemaState();
    if (schema === 'missing') throw new ConfigError(`no fanout records in ${shown} (nothing has run with this --db)`);
    if (schema === 'older') throw new ConfigError(`the records in ${shown} use an older schema: run \`fanout migrate\` on it first`);
    return store;
  } catch (err) {
    await store?.close().catch(() => undefined);
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`cannot use database ${shown}: ${describeError(err).split('\n')[0]}`, { cause: err });
  }
}

/** A reader must not create the file it was asked to read (a mistyped path would leave an empty database). */
function checkSqliteFileExists(db: string, shown: string): void {
  const conn = parseDbUrl(db).connection as { filename?: string } | undefined;
  const filename = conn?.filename;
  if (filename === undefined || filename === ':memory:') return;
  if (!existsSync(resolve(filename))) throw new ConfigError(`no database at ${JSON.stringify(resolve(filename))} (${shown}): check --db`);
}
