import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { normaliseUploadConfig } from '../../src/config.js';
import { runBatch } from '../../src/runBatch.js';
import { createStore } from '../../src/store/createStore.js';
import type { Store } from '../../src/store/types.js';
import { forEachDatabase } from '../helpers/db.js';
import { assertInvariants } from '../helpers/invariants.js';
import { readTree, startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { makeTree, sha256, type Tree } from '../helpers/tree.js';
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

forEachDatabase('--assign least-loaded near the end of a batch, against a slow and a fast host', (db) => {
  let tree: Tree;
  let fast: ReceiverFleet;
  let slow: ReceiverFleet;
  let store: Store;
  const bigs = new Set<string>();

  before(async function () {
    this.timeout(20_000);
    // in walk order: 120 small files, then 12 big ones last
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fanout-endgame-'));
    const files = new Map<string, string>();
    const add = async (rel: string, size: number) => {
      const body = randomBytes(size);
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await writeFile(path.join(dir, rel), body);
      files.set(rel, sha256(body));
    };
    for (let i = 0; i < 120; i++) await add(`a/small_${String(i).padStart(3, '0')}.wav`, 4096);
    for (let i = 0; i < 12; i++) {
      await add(`z/big_${String(i).padStart(2, '0')}.wav`, 1 << 20);
      bigs.add(`z/big_${String(i).padStart(2, '0')}.wav`);
    }
    tree = { dir, files };
    // time grows with the bytes: a big file holds the slow host ~4 s, a fast slot ~60 ms
    slow = await startReceivers(1, { slots: 1, delayMs: 40, serviceBytesPerSec: 256 * 1024 });
    fast = await startReceivers(1, { slots: 4, delayMs: 5, serviceBytesPerSec: 20 * 1024 * 1024 });
    store = await createStore(db.url);
    await store.migrate();
  });
  after(async () => {
    await store.close();
    await fast.close();
    await slow.close();
    await rm(tree.dir, { recursive: true, force: true });
  });

  it('should send the big last files to the fast host, not to the slow one that happens to be free', async function () {
    this.timeout(60_000);
    // the slow host first: least-loaded breaks ties in the targets' order
    const config = await normaliseUploadConfig({ dir: tree.dir, target: [slow.urls[0], fast.urls[0]], db: db.url, assign: 'least-loaded' });
    const summary = await runBatch(config, { store });
    expect(summary).to.include({ status: 'completed', uploaded: tree.files.size, failed: 0 });
    const onSlow = [...(await readTree(slow.dirs[0])).keys()];
    expect(onSlow.length, 'the slow host still takes files while the fast one has a queue').to.be.above(0);
    expect(onSlow.filter((f) => bigs.has(f)), 'big files on the slow host').to.deep.equal([]);
    await assertInvariants(store, config.batchId, tree, new Map([[slow.urls[0], slow.dirs[0]], [fast.urls[0], fast.dirs[0]]]), { complete: true, summaries: [summary] });
  });
});
