import { expect } from 'chai';
import { createStore } from '../../src/store/createStore.js';
import { createHash } from 'node:crypto';
import { FanoutMigrationSource } from '../../src/store/migrationSource.js';
import { pathKey } from '../../src/store/rows.js';
import type { Store } from '../../src/store/types.js';
import { forEachDatabase } from '../helpers/db.js';

const TABLES = ['batches', 'file_distributions', 'calls', 'processes', 'batch_runs', 'upload_attempts', 'target_events', 'workers', 'target_leases'];

/** Roll back, newest first, until the migration `name` is undone too. */
async function downThrough(store: Store, name: string): Promise<void> {
  const migrationSource = new FanoutMigrationSource();
  while ((await store.knex('knex_migrations').pluck('name')).includes(name)) await store.knex.migrate.down({ migrationSource });
}

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
    expect(applied).to.deep.equal(['20261129000000_initial', '20261129120000_path_key_prefix', '20261201000000_text_paths_call_sha256', '20261201110000_runs_attempts_target_events', '20261201120000_leases_claims_workers', '20261202100000_path_key_index',
      '20261202130000_attempt_worker_limit']);
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

    // the later migrations first, then the prefix
    await downThrough(store, '20261129120000_path_key_prefix');
    for (const table of ['file_distributions', 'calls']) {
      const rows = (await store.knex(table).select('file_path', 'path_key')) as { file_path: string; path_key: string }[];
      for (const r of rows) expect(r.path_key, `${table} ${r.file_path}`).to.equal(sha(r.file_path));
    }
    await store.knex('calls').del();
    await store.knex('file_distributions').del();
    await store.migrate();
  });

  it('should hold paths of any length: TEXT on MySQL, no index on a path or a name', async () => {
    await store.migrate();
    for (const table of ['file_distributions', 'calls']) {
      if (ctx.dialect === 'mysql') {
        const cols = (await store.knex('information_schema.columns')
          .where('table_schema', store.knex.raw('database()'))
          .andWhere('table_name', table)
          .whereIn('column_name', ['file_path', 'file_name'])
          .select({ name: 'column_name', type: 'data_type', collation: 'collation_name', nullable: 'is_nullable' })) as Record<string, string>[];
        expect(cols.map((c) => [c.name, c.type, c.collation, c.nullable]).sort(), table).to.deep.equal([
          ['file_name', 'text', 'utf8mb4_bin', 'NO'],
          ['file_path', 'text', 'utf8mb4_bin', 'NO'],
        ]);
      }
      expect(await indexedColumns(store, table), table).to.not.include.members(['file_path']).and.not.include.members(['file_name']);
    }
  });

  it('should add calls.sha256 to existing calls, as null, and drop it on rollback', async () => {
    await downThrough(store, '20261201000000_text_paths_call_sha256');
    expect(await store.knex.schema.hasColumn('calls', 'sha256')).to.equal(false);
    await store.knex('calls').insert({ batch_id: 'sha', file_path: 'old.wav', path_key: pathKey('old.wav'), file_name: 'old.wav', target: 't', created_at: 1 });
    await store.migrate();
    expect(await store.knex('calls').where({ batch_id: 'sha' }).select('file_path', 'sha256', 'status')).to.deep.equal([{ file_path: 'old.wav', sha256: null, status: 'queued' }]);
    await store.knex('calls').del();
  });

  it('should add upload_attempts.worker_id and target_limit, null on older tries, and drop them on rollback', async () => {
    await downThrough(store, '20261202130000_attempt_worker_limit');
    expect(await store.knex.schema.hasColumn('upload_attempts', 'worker_id')).to.equal(false);
    const key = pathKey('old.wav');
    await store.knex('file_distributions').insert({ batch_id: 'tries', file_path: 'old.wav', path_key: key, file_name: 'old.wav', target: 't', size_bytes: 1, mtime_ms: 1, status: 'uploaded' });
    await store.knex('upload_attempts').insert({ batch_id: 'tries', path_key: key, target: 't', attempt: 1, started_at: 1, finished_at: 2, outcome: 'uploaded', error: null });
    await store.migrate();
    const [old] = await store.listAttempts('tries');
    expect(old).to.include({ filePath: 'old.wav', workerId: null, targetLimit: null });
    await store.recordOutcomes([], [], [{ ...old, attempt: 2, workerId: 'w-1', targetLimit: 7 }]);
    expect((await store.listAttempts('tries')).map((a) => [a.attempt, a.workerId, a.targetLimit])).to.deep.equal([[1, null, null], [2, 'w-1', 7]]);
    await store.knex('upload_attempts').del();
    await store.knex('file_distributions').del();
  });
});

/** Roll back, newest first, until `name` is the latest migration applied (later migrations come and go). */
/** Every column that takes part in an index of `table`. */
async function indexedColumns(store: Store, table: string): Promise<string[]> {
  if (store.dialect === 'mysql') {
    return (await store.knex('information_schema.statistics')
      .where('table_schema', store.knex.raw('database()'))
      .andWhere('table_name', table)
      .pluck('column_name')) as string[];
  }
  const indexes = (await store.knex.raw('select name from pragma_index_list(?)', [table])) as { name: string }[];
  const columns: string[] = [];
  for (const { name } of indexes) columns.push(...((await store.knex.raw('select name from pragma_index_info(?)', [name])) as { name: string }[]).map((c) => c.name));
  expect(columns, 'the indexes were found').to.include('path_key');
  return columns;
}
