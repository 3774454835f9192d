import type { Knex } from 'knex';
import { ConfigError } from '../errors.js';

export type Dialect = 'sqlite' | 'mysql';

export interface DbUrlOptions {
  /** largest MySQL pool (SQLite always uses one connection) */
  poolMax?: number;
  /** open for reading only: SQLite read-only (no journal-mode change), MySQL read-only sessions */
  readOnly?: boolean;
}

export const DB_DEFAULTS = {
  poolMax: 4,
  /** how long a SQLite writer waits for another process's lock */
  sqliteBusyTimeoutMs: 5000,
  mysqlPort: 3306,
  mysqlConnectTimeoutMs: 5000,
  acquireConnectionTimeoutMs: 10_000,
} as const;

const USAGE = 'use sqlite:PATH or mysql://user:pass@host:port/db';

/**
 * The URL with any password replaced by `***`. Works on malformed URLs too: everything
 * between the first `:` of the user info and the last `@` is hidden, so a password
 * holding `@`, `/` or `:` never leaks.
 */
/** MySQL/MariaDB: several processes, on several machines, can claim rows of one batch (SKIP LOCKED); a SQLite file cannot. */
export const sharesClaims = (db: string): boolean => db.startsWith('mysql');

export function redactDbUrl(url: string): string {
  return url.replace(/^([a-z][\w+.-]*:\/\/[^:/@]*):.*@/is, '$1:***@');
}

/** The knex client of a config made by parseDbUrl. */
export function dialectOf(config: Knex.Config): Dialect {
  return config.client === 'mysql2' ? 'mysql' : 'sqlite';
}

/**
 * `sqlite:PATH` (relative, absolute, `sqlite:///abs`, `sqlite::memory:`) or
 * `mysql://user:pass@host:port/db` (`mariadb://` too) to a knex config without a logger.
 * Anything else throws a one-line ConfigError naming the redacted value.
 */
export function parseDbUrl(url: string, opts: DbUrlOptions = {}): Knex.Config {
  const { poolMax = DB_DEFAULTS.poolMax, readOnly = false } = opts;
  if (!Number.isInteger(poolMax) || poolMax < 1) throw new ConfigError(`database pool size must be a positive integer, got ${JSON.stringify(poolMax)}`);
  if (/^sqlite:/i.test(url)) return sqliteConfig(url, readOnly);
  if (/^(mysql|mariadb):\/\//i.test(url)) return mysqlConfig(url, poolMax, readOnly);
  throw bad(url, USAGE);
}

function bad(url: string, why: string): ConfigError {
  // JSON quoting keeps the message on one line whatever the value holds
  return new ConfigError(`bad database URL ${JSON.stringify(redactDbUrl(url))}: ${why}`);
}

function sqliteConfig(url: string, readOnly: boolean): Knex.Config {
  // sqlite:///abs/path and sqlite://rel both drop the `//`
  const filename = url.slice('sqlite:'.length).replace(/^\/\//, '');
  if (filename === '') throw bad(url, 'no file path (e.g. sqlite:fanout.sqlite)');
  return {
    client: 'better-sqlite3',
    // (an in-memory database cannot be opened read-only, and nothing outlives it anyway)
    connection: { filename, ...(readOnly && filename !== ':memory:' ? { options: { readonly: true } } : {}) },
    useNullAsDefault: true,
    // one connection: SQLite has a single writer, and `:memory:` lives in its connection
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
        try {
          // WAL is a setting stored in the file: a reader leaves the file as it found it
          if (!readOnly) {
            conn.pragma('journal_mode = WAL');
            conn.pragma('synchronous = NORMAL');
          }
          conn.pragma(`busy_timeout = ${DB_DEFAULTS.sqliteBusyTimeoutMs}`);
          done(null, conn);
        } catch (err) {
          done(err as Error, conn);
        }
      },
    },
  };
}

interface TypeCastField {
  type: string;
  string(): string | null;
}

/** BIGINT and DECIMAL (what SUM returns) as JS numbers: every value we store fits in 2^53. */
function typeCast(field: TypeCastField, next: () => unknown): unknown {
  if (field.type === 'LONGLONG' || field.type === 'NEWDECIMAL') {
    const text = field.string();
    return text === null ? null : Number(text);
  }
  return next();
}

function mysqlConfig(url: string, poolMax: number, readOnly: boolean): Knex.Config {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad(url, USAGE);
  }
  const database = decode(url, parsed.pathname.replace(/^\//, ''));
  if (!parsed.hostname) throw bad(url, 'no host');
  if (database === '' || database.includes('/')) throw bad(url, 'name one database after the host (…/db)');
  if (parsed.search || parsed.hash) throw bad(url, 'query options are not supported');
  return {
    client: 'mysql2',
    connection: {
      host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: parsed.port ? Number(parsed.port) : DB_DEFAULTS.mysqlPort,
      user: decode(url, parsed.username) || undefined,
      password: decode(url, parsed.password) || undefined,
      database,
      charset: 'utf8mb4',
      connectTimeout: DB_DEFAULTS.mysqlConnectTimeoutMs,
      supportBigNumbers: true,
      bigNumberStrings: false,
      typeCast,
    },
    pool: {
      min: 0,
      max: poolMax,
      ...(readOnly ? { afterCreate: readOnlySession } : {}),
    },
    acquireConnectionTimeout: DB_DEFAULTS.acquireConnectionTimeoutMs,
  };
}

/** A reader's sessions refuse writes on the server's side too. */
function readOnlySession(conn: { query(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void): void {
  conn.query('SET SESSION TRANSACTION READ ONLY', (err) => done(err, conn));
}

function decode(url: string, part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw bad(url, 'bad percent-encoding');
  }
}
