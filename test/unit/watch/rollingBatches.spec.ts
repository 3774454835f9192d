import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '../../../src/logger.js';
import { planned } from '../../../src/runs/planBatch.js';
import { createStore } from '../../../src/store/createStore.js';
import { pendingCount } from '../../../src/store/claimQueries.js';
import { insertNewPending } from '../../../src/store/planQueries.js';
import type { Store } from '../../../src/store/types.js';
import { RollingBatches } from '../../../src/watch/rollingBatches.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

describe('RollingBatches', () => {
  let db: TestDatabase;
  let store: Store;
  beforeEach(async () => {
    db = await createTestDatabase('sqlite');
    store = await createStore(db.url);
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    await db.cleanup();
  });

  it('should let a batch due to roll wait for a write into it under way, so no row lands in a batch already closed', async () => {
    const batches = new RollingBatches(store, { prefix: 'w', dir: '/tmp', targets: ['http://h:1'], assign: 'round-robin', everyMs: 50, maxFiles: 1000, logger: silentLogger() });
    let go!: () => void;
    const gate = new Promise<void>((resolve) => (go = resolve));
    const writing = batches.withBatch(async ({ id }) => {
      await gate; // the write is slow (a database round trip, say) ...
      const file = { path: 'a.wav', absPath: '/tmp/a.wav', name: 'a.wav', size: 1, mtimeMs: 1 };
      await insertNewPending(store.knex, [planned(id, { file, target: 'http://h:1' })]);
      batches.planned(1);
      return id;
    });
    await sleep(80);
    const rolling = batches.rollIfDue(); // ... and the batch is due to roll meanwhile
    await sleep(50);
    go();
    const id = await writing;
    await rolling;
    expect(await pendingCount(store.knex, id), 'the row is in').to.equal(1);
    // closed to new files, but not ended: its file is still pending, so whoever works it sees it
    expect(await store.getBatch(id)).to.deep.include({ status: 'running', finishedAt: null, total: 1 });
  });
});
