import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { normaliseUploadConfig } from '../../src/config.js';
import { runBatch } from '../../src/runBatch.js';
import { createStore } from '../../src/store/createStore.js';
import type { Store } from '../../src/store/types.js';
import { startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { makeTree, type Tree } from '../helpers/tree.js';
import os from 'node:os';
import path from 'node:path';

describe('--assign least-loaded against a slow host', function () {
  this.timeout(60_000);
  let tree: Tree;
  let fast: ReceiverFleet;
  let slow: ReceiverFleet;
  let store: Store;

  before(async () => {
    tree = await makeTree(150, { sizes: [1000] });
    fast = await startReceivers(2, { delayMs: 5, slots: 1 });
    slow = await startReceivers(1, { delayMs: 40, slots: 1 }); // 8x slower
    store = await createStore(`sqlite:${path.join(os.tmpdir(), `fanout-ll-${process.pid}.sqlite`)}`);
    await store.migrate();
  });
  after(async () => {
    await store.close();
    for (const suffix of ['', '-wal', '-shm']) await rm(path.join(os.tmpdir(), `fanout-ll-${process.pid}.sqlite${suffix}`), { force: true });
    await fast.close();
    await slow.close();
    await rm(tree.dir, { recursive: true, force: true });
  });

  it('should give the slow host far fewer files than its round-robin share', async () => {
    const targets = [...fast.urls, ...slow.urls];
    const run = async (assign: string) => runBatch(await normaliseUploadConfig({ dir: tree.dir, target: targets, assign, perTarget: 1 }), { store });
    const ll = await run('least-loaded');
    const rr = await run('round-robin');
    const n = tree.files.size;
    expect(ll).to.include({ status: 'completed', uploaded: n });
    expect(rr).to.include({ status: 'completed', uploaded: n });
    // round-robin: a third each, whatever the hosts do
    expect(rr.targets[slow.urls[0]].uploaded).to.be.within(Math.floor(n / 3), Math.ceil(n / 3));
    // least-loaded: the slow host (8x slower) takes roughly its share of capacity, 1/17, far below 1/3
    expect(ll.targets[slow.urls[0]].uploaded).to.be.below(n / 6);
    for (const url of fast.urls) expect(ll.targets[url].uploaded).to.be.above(n / 3);
    // and the run ends sooner: round-robin waits on the slow host's third
    expect(ll.durationMs).to.be.below(rr.durationMs);
  });
});
