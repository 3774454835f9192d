import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { createStore } from '../../src/store/createStore.js';
import { FanoutMigrationSource } from '../../src/store/migrationSource.js';
import type { Store } from '../../src/store/types.js';
import { cli } from '../helpers/cli.js';
import { forEachDatabase, testDialects } from '../helpers/db.js';

const T0 = 1764384000123;

/** A batch with one uploaded file, so a reader has something to show. */
async function seedOne(store: Store): Promise<void> {
  await store.createBatch({
    id: 'b1', sourceDir: '/data', targets: ['http://gpu-a:8080'], assign: 'round-robin', status: 'completed',
    total: 1, uploaded: 1, failed: 0, skipped: 0, bytes: 5, startedAt: T0, finishedAt: T0 + 1000,
  });
  const row = {
    batchId: 'b1', filePath: 'a.wav', fileName: 'a.wav', target: 'http://gpu-a:8080', sizeBytes: 5, mtimeMs: T0, sha256: null,
    verified: false, status: 'uploaded' as const, attempts: 1, error: null, startedAt: T0 + 10, finishedAt: T0 + 20,
  };
  await store.recordOutcomes([row], [{ batchId: 'b1', filePath: 'a.wav', fileName: 'a.wav', target: 'http://gpu-a:8080', sha256: null, processId: null, auditFormId: null, createdAt: T0 }]);
}

const tableNames = async (store: Store): Promise<string[]> =>
  store.dialect === 'sqlite'
    ? (await store.knex('sqlite_master').where('type', 'table').pluck('name')).map(String)
    : (await store.knex.raw('SHOW TABLES'))[0].map((r: Record<string, unknown>) => String(Object.values(r)[0]));

describe('read-only commands (status, report) on SQLite paths', function () {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'fanout-ro-'));
  });
  afterEach(() => rm(work, { recursive: true, force: true }));

  for (const argv of [['status'], ['status', '--batch-id', 'b1'], ['report', '--batch-id', 'b1', '--out', 'OUT']]) {
    it(`should not create a database for \`${argv.slice(0, 2).join(' ')}\` on a mistyped sqlite: path: one line, exit 2`, async () => {
      const file = path.join(work, 'typo.sqlite');
      const r = await cli([...argv.map((a) => (a === 'OUT' ? path.join(work, 'r.html') : a)), '--db', `sqlite:${file}`]);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr.trim().split('\n'), r.stderr).to.have.length(1);
      expect(r.stderr).to.include(file);
      expect(r.stdout).to.equal('');
      expect(existsSync(file), 'no database file made').to.equal(false);
      expect(existsSync(path.join(work, 'r.html')), 'no report written').to.equal(false);
    });
  }

  it('should leave a SQLite file byte-for-byte as it was (no migration, no journal-mode change)', async () => {
    const file = path.join(work, 'f.sqlite');
    const store = await createStore(`sqlite:${file}`);
    await store.migrate();
    await seedOne(store);
    await store.knex.raw('PRAGMA journal_mode = DELETE'); // so a reader that sets WAL would change the file
    await store.close();
    const before = await stat(file);
    const r = await cli(['status', '--db', `sqlite:${file}`, '--batch-id', 'b1', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.include({ batchId: 'b1', uploaded: 1 });
    expect((await stat(file)).mtimeMs, 'file untouched').to.equal(before.mtimeMs);
    expect(existsSync(`${file}-wal`), 'no WAL file made').to.equal(false);
  });
});

forEachDatabase('read-only commands (status, report)', (db) => {
  it('should refuse a database with no fanout tables, and create none', async () => {
    // a fresh database: SQLite needs the file to exist, so make it empty first
    const store = await createStore(db.url);
    await store.ping();
    try {
      const r = await cli(['status', '--db', db.url]);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
      expect(r.stderr).to.match(/no fanout records/);
      expect(await tableNames(store)).to.deep.equal([]);
    } finally {
      await store.close();
    }
  });

  it('should refuse an older schema with one line naming `fanout migrate`, and not migrate it', async () => {
    const store = await createStore(db.url);
    try {
      const [first] = await new FanoutMigrationSource().getMigrations();
      await store.knex.migrate.latest({ migrationSource: new FanoutMigrationSource([first]) });
      for (const argv of [['status'], ['report', '--batch-id', 'b1', '--out', path.join(os.tmpdir(), `fanout-ro-${process.pid}.html`)]]) {
        const r = await cli([...argv, '--db', db.url]);
        expect(r.code, r.stderr).to.equal(2);
        expect(r.stderr.trim().split('\n')).to.have.length(1);
        expect(r.stderr).to.match(/older schema: run `fanout migrate`/);
      }
      expect(await store.knex('knex_migrations').pluck('name')).to.deep.equal([first.name]);
      // and `fanout migrate` brings it up to date, after which status reads it
      expect((await cli(['migrate', '--db', db.url])).code).to.equal(0);
      const r = await cli(['status', '--db', db.url, '--json']);
      expect(r.code, r.stderr).to.equal(0);
      expect(JSON.parse(r.stdout)).to.deep.equal({ batches: [] });
    } finally {
      await store.close();
    }
  });
});

if (testDialects().includes('mysql')) {
  describe('read-only commands as a MariaDB user who may only SELECT', function () {
    this.timeout(30_000);
    const server = process.env.FANOUT_TEST_MYSQL as string;
    const dbName = `fanout_ro_${process.pid}`;
    const user = `fanout_ro_${process.pid}`;
    let admin: mysql.Connection;
    let readerUrl: string;
    before(async () => {
      admin = await mysql.createConnection({ uri: server });
      await admin.query(`CREATE DATABASE \`${dbName}\``);
      await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'ro-secret'`);
      await admin.query(`GRANT SELECT ON \`${dbName}\`.* TO '${user}'@'%'`);
      const u = new URL(server);
      u.pathname = `/${dbName}`;
      const store = await createStore(u.toString());
      await store.migrate();
      await seedOne(store);
      await store.close();
      u.username = user;
      u.password = 'ro-secret';
      readerUrl = u.toString();
    });
    after(async () => {
      await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
      await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
      await admin.end();
    });

    it('should show the batch and write the report without trying to migrate', async () => {
      const s = await cli(['status', '--db', readerUrl, '--batch-id', 'b1', '--json']);
      expect(s.code, s.stderr).to.equal(0);
      expect(s.stderr).to.equal('');
      expect(JSON.parse(s.stdout)).to.include({ batchId: 'b1', uploaded: 1, calls: 1 });
      const out = path.join(os.tmpdir(), `fanout-ro-report-${process.pid}.html`);
      try {
        const r = await cli(['report', '--db', readerUrl, '--batch-id', 'b1', '--out', out]);
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stderr).to.equal('');
        expect(existsSync(out)).to.equal(true);
      } finally {
        await rm(out, { force: true });
      }
      expect(s.stderr + s.stdout).to.not.include('ro-secret');
    });
  });
}
