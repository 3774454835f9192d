import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { claimRows } from '../../src/store/claimQueries.js';
import { createStore } from '../../src/store/createStore.js';
import type { Store } from '../../src/store/types.js';
import { cli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { makeTree, type Tree } from '../helpers/tree.js';

describe('claimRows onRowsLocked: the row locks a claim holds (MariaDB, measurement for bench:workers)', function () {
  let mysql: TestDatabase;
  let tree: Tree;
  let store: Store;
  before(async function () {
    if (!process.env.FANOUT_TEST_MYSQL) this.skip();
    mysql = await createTestDatabase('mysql');
    tree = await makeTree(12);
    const r = await cli(['plan', tree.dir, '--batch-id', 'locks', '--target', 'http://127.0.0.1:9/a', '--assign', 'least-loaded', '--db', mysql.url]);
    expect(r.code, r.stderr).to.equal(0);
    store = await createStore(mysql.url);
  });
  after(async () => {
    await store?.close();
    if (tree) await rm(tree.dir, { recursive: true, force: true });
    await mysql?.cleanup();
  });

  it('should report at least one row lock per claimed row, read inside the claim before it commits', async () => {
    const seen: number[] = [];
    const o = { batchId: 'locks', workerId: 'w1', leaseMs: 60_000, targets: ['http://127.0.0.1:9/a'], allTargets: ['http://127.0.0.1:9/a'] };
    const rows = await claimRows(store.knex, { ...o, limit: 4, onRowsLocked: (n) => seen.push(n) });
    expect(rows).to.have.length(4);
    expect(seen).to.have.length(1);
    expect(seen[0]).to.be.at.least(4);
  });
});
