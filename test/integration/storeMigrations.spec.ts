import { expect } from 'chai';
import { createStore } from '../../src/store/createStore.js';
import { createHash } from 'node:crypto';
import { FanoutMigrationSource } from '../../src/store/migrationSource.js';
import { pathKey } from '../../src/store/rows.js';
import type { Store } from '../../src/store/types.js';
import { forEachDatabase } from '../helpers/db.js';

const TABLES = ['batches', 'file_distributions', 'calls', 'processes'];

forEachDatabase('store migrations', (ctx) => {
  let store: Store;
  before(async () => {
    store = await createStore(ctx.url);
  });
  after(() => store.close());

  it('should create every table, and do nothing when run again', async () => {
    await store.migrate();
    await store.migrate();
    for (const table of TABLES) expect(await store.knex.schema.hasTable(table), table).to.equal(true);
    const applied = await store.knex('knex_migrations').pluck('name');
    expect(applied).to.deep.equal(['20261129000000_initial', '20261129120000_path_key_prefix']);
  });

  it('should find nothing to do from a second store on the same database', async () => {
    const other = await createStore(ctx.url);
    try {
      await other.migrate();
      const [, pending] = (await other.knex.migrate.list({ migrationSource: new FanoutMigrationSource() })) as [unknown[], unknown[]];
      expect(pending).to.deep.equal([]);
    } finally {
      await other.close();
    }
  });

  it('should make every table utf8mb4 with a binary collation on MySQL', async function () {
    if (ctx.dialect !== 'mysql') this.skip();
    const rows = (await store.knex('information_schema.tables')
      .where('table_schema', store.knex.raw('database()'))
      .whereIn('table_name', TABLES)
      .select({ name: 'table_name', collation: 'table_collation' })) as { name: string; collation: string }[];
    expect(rows).to.have.length(TABLES.length);
    for (const row of rows) expect(row.collation, row.name).to.equal('utf8mb4_bin');
  });

  it('should roll back to nothing and migrate up again', async () => {
    const migrationSource = new FanoutMigrationSource();
    await store.knex.migrate.rollback({ migrationSource }, true);
    for (const table of TABLES) expect(await store.knex.schema.hasTable(table), table).to.equal(false);
    await store.migrate();
    for (const table of TABLES) expect(await store.knex.schema.hasTable(table), table).to.equal(true);
  });

  it('should re-key existing rows to pathKey() when migrating from the initial schema, and back on rollback', async () => {
    const migrationSource = new FanoutMigrationSource();
    await store.knex.migrate.rollback({ migrationSource }, true);
    await store.knex.migrate.up({ migrationSource }); // the initial schema only
    const sha = (p: string) => createHash('sha256').update(p, 'utf8').digest('hex');
    // short, exactly 32 bytes, and long with a multi-byte character cut by the 32-byte prefix
    const paths = ['a.wav', 'x'.repeat(32), `${'d'.repeat(30)}/é-Ünïcödé 通話.wav`, 'Café.wav', 'Cafe\u0301.wav'];
    const base = { batch_id: 'mig', file_name: 'n', target: 't' };
    await store.knex('file_distributions').insert(paths.map((p) => ({ ...base, file_path: p, path_key: sha(p), size_bytes: 1, mtime_ms: 1, status: 'pending' })));
    await store.knex('calls').insert(paths.map((p) => ({ ...base, file_path: p, path_key: sha(p), created_at: 1 })));

    await store.migrate();
    for (const table of ['file_distributions', 'calls']) {
      const rows = (await store.knex(table).select('file_path', 'path_key')) as { file_path: string; path_key: string }[];
      expect(rows, table).to.have.length(paths.length);
      for (const r of rows) expect(r.path_key, `${table} ${r.file_path}`).to.equal(pathKey(r.file_path));
    }
    // the store finds the re-keyed rows by path
    const found = await store.findFiles('mig', paths);
    expect([...found.keys()]).to.have.members(paths);

    await store.knex.migrate.down({ migrationSource });
    for (const table of ['file_distributions', 'calls']) {
      const rows = (await store.knex(table).select('file_path', 'path_key')) as { file_path: string; path_key: string }[];
      for (const r of rows) expect(r.path_key, `${table} ${r.file_path}`).to.equal(sha(r.file_path));
    }
    await store.knex('calls').del();
    await store.knex('file_distributions').del();
    await store.migrate();
  });
});
