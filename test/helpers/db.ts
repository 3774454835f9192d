import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';

export type TestDialect = 'sqlite' | 'mysql';

export interface TestDatabase {
  dialect: TestDialect;
  /** a fanout database URL (sqlite:… or mysql://…) naming a fresh, empty database */
  url: string;
  /** drop the database (MySQL) or remove its directory (SQLite); close stores first */
  cleanup(): Promise<void>;
}

/** The databases every store suite runs against: SQLite always, MariaDB/MySQL when FANOUT_TEST_MYSQL holds a server URL. */
export function testDialects(env: NodeJS.ProcessEnv = process.env): TestDialect[] {
  return env.FANOUT_TEST_MYSQL ? ['sqlite', 'mysql'] : ['sqlite'];
}

/**
 * A fresh database: a file in its own temp directory, or a `fanout_test_<random>` database
 * on the FANOUT_TEST_MYSQL server, so test files running side by side never collide.
 */
export async function createTestDatabase(dialect: TestDialect, env: NodeJS.ProcessEnv = process.env): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'fanout-test-'));
    return { dialect, url: `sqlite:${join(dir, 'fanout.sqlite')}`, cleanup: () => rm(dir, { recursive: true, force: true }) };
  }
  const server = env.FANOUT_TEST_MYSQL;
  if (!server) throw new Error('FANOUT_TEST_MYSQL is not set');
  const name = `fanout_test_${randomBytes(6).toString('hex')}`;
  // latin1 on purpose: the migrations must make the tables utf8mb4 whatever the database default is
  await admin(server, `CREATE DATABASE \`${name}\` CHARACTER SET latin1`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { dialect, url: url.toString(), cleanup: () => admin(server, `DROP DATABASE IF EXISTS \`${name}\``) };
}

async function admin(serverUrl: string, sql: string): Promise<void> {
  const conn = await mysql.createConnection({ uri: serverUrl, connectTimeout: 5000 });
  try {
    await conn.query(sql);
  } finally {
    await conn.end();
  }
}

export interface DatabaseContext {
  readonly dialect: TestDialect;
  /** the fresh database's URL; readable from hooks and tests (not while the describe body runs) */
  readonly url: string;
}

/**
 * `describe(`${title} [sqlite]`)`, and `[mysql]` when FANOUT_TEST_MYSQL is set, each with a
 * fresh database made in a `before` hook (so it exists before the suite's own hooks run)
 * and dropped in an `after` hook that runs after the suite's own (close stores there).
 */
export function forEachDatabase(title: string, fn: (ctx: DatabaseContext) => void): void {
  for (const dialect of testDialects()) {
    describe(`${title} [${dialect}]`, function () {
      let db: TestDatabase | undefined;
      const ctx: DatabaseContext = {
        dialect,
        get url(): string {
          if (!db) throw new Error('ctx.url is only available inside hooks and tests');
          return db.url;
        },
      };
      before(async function () {
        this.timeout(20_000);
        db = await createTestDatabase(dialect);
      });
      fn(ctx);
      after(async function () {
        await db?.cleanup();
        db = undefined;
      });
    });
  }
}
