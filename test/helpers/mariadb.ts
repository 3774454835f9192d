import { rm } from 'node:fs/promises';
import type { ReceiverOptions } from '../../src/http/server.js';
import { createStore } from '../../src/store/createStore.js';
import type { Store } from '../../src/store/types.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { startReceivers, type ReceiverFleet } from './receivers.js';
import { makeTree, type Tree } from './tree.js';

/** A fresh MariaDB database, a tree of `files` and `hosts` receivers, for a describe's before/after (skipped without FANOUT_TEST_MYSQL). */
export function mariadbFixture(files: number, hosts: number, receiver: Partial<ReceiverOptions>) {
  const fx = {} as { mysql: TestDatabase; fleet: ReceiverFleet; tree: Tree; store: Store; targets(): Map<string, string> };
  before(async function () {
    if (!process.env.FANOUT_TEST_MYSQL) this.skip();
    fx.mysql = await createTestDatabase('mysql');
    fx.tree = await makeTree(files);
    fx.fleet = await startReceivers(hosts, receiver);
    fx.store = await createStore(fx.mysql.url);
    fx.targets = () => new Map(fx.fleet.urls.map((u, i) => [u, fx.fleet.dirs[i]]));
  });
  after(async () => {
    await fx.store?.close();
    await fx.fleet?.close();
    await fx.mysql?.cleanup();
    if (fx.tree) await rm(fx.tree.dir, { recursive: true, force: true });
  });
  return fx;
}
