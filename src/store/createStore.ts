import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { ConfigError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { KnexStore } from './knexStore.js';
import { dialectOf, parseDbUrl } from './parseDbUrl.js';
import type { Store } from './types.js';

export { parseDbUrl, redactDbUrl, dialectOf, DB_DEFAULTS, type Dialect, type DbUrlOptions } from './parseDbUrl.js';

export interface StoreOptions {
  logger?: Logger;
  /** largest MySQL pool; SQLite always uses one connection */
  poolMax?: number;
  /** never write: see parseDbUrl's readOnly */
  readOnly?: boolean;
}

/**
 * A Store for `sqlite:PATH` or `mysql://user:pass@host:port/db`. Nothing is connected yet:
 * call `ping()` to check the database and `migrate()` to create the tables. Throws
 * ConfigError for a bad URL or a SQLite file whose directory does not exist.
 */
export async function createStore(url: string, opts: StoreOptions = {}): Promise<Store> {
  const { logger = silentLogger(), poolMax, readOnly } = opts;
  const config = parseDbUrl(url, { poolMax, readOnly });
  const dialect = dialectOf(config);
  if (dialect === 'sqlite') checkSqliteDir(config);
  const log = logger.child({ component: 'store', dialect });
  const knex = knexFactory({ ...config, log: knexLog(log, secretsOf(config)) });
  return new KnexStore(knex, dialect, log);
}

function checkSqliteDir(config: Knex.Config): void {
  const { filename } = config.connection as { filename: string };
  if (filename === ':memory:') return;
  const dir = dirname(resolve(filename));
  if (!existsSync(dir)) throw new ConfigError(`SQLite database directory does not exist: ${JSON.stringify(dir)}`);
}

function secretsOf(config: Knex.Config): string[] {
  const { password } = (config.connection ?? {}) as { password?: string };
  return password ? [password, encodeURIComponent(password)] : [];
}

/** knex's own warnings and debug output, into the winston logger, without the password. */
function knexLog(logger: Logger, secrets: readonly string[]): Knex.Logger {
  const text = (message: unknown): string => {
    let s = typeof message === 'string' ? message : message instanceof Error ? message.message : JSON.stringify(message);
    for (const secret of secrets) s = s.split(secret).join('***');
    return s;
  };
  return {
    warn: (m: unknown) => logger.warn(text(m), { source: 'knex' }),
    error: (m: unknown) => logger.error(text(m), { source: 'knex' }),
    debug: (m: unknown) => logger.debug(text(m), { source: 'knex' }),
    deprecate: (method: string, alternative: string) =>
      logger.warn(`${method} is deprecated, use ${alternative}`, { source: 'knex' }),
  };
}
