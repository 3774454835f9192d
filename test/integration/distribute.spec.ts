import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { normaliseUploadConfig } from '../../src/config.js';
import { runBatch } from '../../src/runBatch.js';
import { createStore } from '../../src/store/createStore.js';
import type { Store } from '../../src/store/types.js';
import { forEachDatabase } from '../helpers/db.js';
import { assertInvariants } from '../helpers/invariants.js';
import { readTree, startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { makeTree, sha256, type Tree } from '../helpers/tree.js';

forEachDatabase('distribute to three real receivers', (db) => {
  let tree: Tree;
  let fleet: ReceiverFleet;
  let store: Store;

  before(async function () {
    this.timeout(60_000);
    tree = await makeTree(300, { large: 3 });
    fleet = await startReceivers(3);
    store = await createStore(db.url);
    await store.migrate();
  });
  after(async () => {
    await store?.close();
    await fleet?.close();
    await rm(tree.dir, { recursive: true, force: true });
  });

  it('should deliver every file byte-identical exactly once, split evenly, with records that agree', async function () {
    this.timeout(60_000);
    const config = await normaliseUploadConfig({ dir: tree.dir, target: fleet.urls, db: db.url, perTarget: 3 });
    const summary = await runBatch(config, { store });

    expect(summary).to.include({ status: 'completed', total: tree.files.size, uploaded: tree.files.size, failed: 0, skipped: 0, pending: 0 });
    // every file arrived byte-identical, exactly once across the fleet
    const arrived = new Map<string, string>();
    for (const dir of fleet.dirs) {
      for (const [p, body] of await readTree(dir)) {
        expect(arrived.has(p), `${p} arrived twice`).to.equal(false);
        arrived.set(p, sha256(body));
      }
    }
    expect(arrived).to.deep.equal(tree.files);
    // round-robin: the split is even (n / 3, rounded either way)
    const n = tree.files.size;
    for (const url of fleet.urls) expect(summary.targets[url].uploaded).to.be.within(Math.floor(n / 3), Math.ceil(n / 3));
    // the database agrees with the summary and the receivers
    const batch = await store.getBatch(config.batchId);
    expect(batch).to.include({ status: 'completed', total: n, uploaded: n, failed: 0 });
    const counts = await store.countFiles(config.batchId);
    expect(counts).to.include({ total: n, uploaded: n, failed: 0, pending: 0 });
    await assertInvariants(store, config.batchId, tree, new Map(fleet.urls.map((u, i) => [u, fleet.dirs[i]])), { complete: true, summaries: [summary] });
    // small files were verified by the receiver's digest, and so were the streamed ones
    const rows = await store.listFiles(config.batchId);
    expect(rows.every((r) => r.verified)).to.equal(true);
    expect(rows.every((r) => r.startedAt !== null && r.finishedAt !== null && r.finishedAt >= r.startedAt)).to.equal(true);
  });

  it('should skip everything already uploaded on --resume, and send a file that changed', async function () {
    this.timeout(60_000);
    const first = await normaliseUploadConfig({ dir: tree.dir, target: fleet.urls, db: db.url });
    await runBatch(first, { store });
    const again = await normaliseUploadConfig({ dir: tree.dir, target: fleet.urls, db: db.url, batchId: first.batchId, resume: true });
    const summary = await runBatch(again, { store });
    expect(summary).to.include({ status: 'completed', uploaded: 0, skipped: tree.files.size, failed: 0 });
  });
});
