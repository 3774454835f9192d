import { expect } from 'chai';
import { createStore } from '../../src/store/createStore.js';
import { FanoutMigrationSource } from '../../src/store/migrationSource.js';
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
    expect(applied).to.deep.equal(['20261129000000_initial']);
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
});
