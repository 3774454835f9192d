import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { normaliseUploadConfig } from '../../src/config.js';
import { runBatch } from '../../src/runBatch.js';
import { createStore } from '../../src/store/createStore.js';
import type { Store } from '../../src/store/types.js';
import { forEachDatabase } from '../helpers/db.js';
import { assertInvariants } from '../helpers/invariants.js';
import { startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { makeTree, type Tree } from '../helpers/tree.js';

forEachDatabase('--per-target auto (the default) against hosts with 1 and 8 slots', (db) => {
  let tree: Tree;
  let one: ReceiverFleet;
  let eight: ReceiverFleet;
  let store: Store;

  before(async function () {
    this.timeout(20_000);
    tree = await makeTree(240, { sizes: [1000, 3000] });
    one = await startReceivers(1, { slots: 1, delayMs: 20 });
    eight = await startReceivers(1, { slots: 8, delayMs: 20 });
    store = await createStore(db.url);
    await store.migrate();
  });
  after(async () => {
    await store.close();
    await one.close();
    await eight.close();
    await rm(tree.dir, { recursive: true, force: true });
  });

  it('should keep the 1-slot host under the old fixed 4 in flight after warm-up, and grow past 4 on the 8-slot one', async function () {
    this.timeout(60_000);
    const [slow, wide] = [one.urls[0], eight.urls[0]];
    const config = await normaliseUploadConfig({ dir: tree.dir, target: [slow, wide], db: db.url });
    expect(config).to.include({ adaptive: true, perTarget: 32 });
    // the receiver's own count of uploads open at once, watched once half its files (about a
    // second at 20 ms each) are stored: by then the limit re-measured its no-load time once
    let peak = 0;
    const watch = setInterval(() => {
      const st = one.receivers[0].stats();
      if (st.files >= 60) peak = Math.max(peak, st.inFlight);
    }, 2);
    let summary;
    try {
      summary = await runBatch(config, { store });
    } finally {
      clearInterval(watch);
    }
    const n = tree.files.size;
    expect(summary).to.include({ status: 'completed', uploaded: n, failed: 0 });
    // the aim is 2 (issue 12); on a loaded 2-core box the baseline's jitter still lets the
    // limit swing between 2 and 3 now and then, so this holds the line below the fixed 4 of before
    expect(peak, '1-slot host: most uploads open at once after warm-up').to.be.within(1, 3);
    expect(eight.receivers[0].stats().inFlightMax, '8-slot host: most uploads open at once').to.be.above(4);
    // the summary (--json prints it as is) gives what the fleet measured of each target
    for (const t of [slow, wide]) {
      const got = summary.targets[t];
      expect(got, t).to.include({ uploaded: got.uploaded }).and.include.keys(['limit', 'bytesPerSec', 'medianLatencyMs']);
      expect(got.limit, t).to.be.within(1, 32);
      expect(got.bytesPerSec, t).to.be.above(0);
      expect(got.medianLatencyMs, `${t}: each upload is held 20 ms`).to.be.at.least(19);
    }
    await assertInvariants(store, config.batchId, tree, new Map([[slow, one.dirs[0]], [wide, eight.dirs[0]]]), { complete: true, summaries: [summary] });
  });
});

describe('--per-target and --per-target-max', () => {
  it('should take auto (the default) with a cap, or a fixed number, and refuse a cap beside a number', async () => {
    const dir = process.cwd();
    expect(await normaliseUploadConfig({ dir, target: ['http://a'] })).to.include({ adaptive: true, perTarget: 32, concurrency: 32 });
    expect(await normaliseUploadConfig({ dir, target: ['http://a'], perTarget: 'auto', perTargetMax: 8 })).to.include({ adaptive: true, perTarget: 8 });
    expect(await normaliseUploadConfig({ dir, target: ['http://a'], perTarget: 4 })).to.include({ adaptive: false, perTarget: 4 });
    const err = await normaliseUploadConfig({ dir, target: ['http://a'], perTarget: 4, perTargetMax: 8 }).catch((e: Error) => e);
    expect(String(err)).to.match(/--per-target-max goes with --per-target auto/);
  });
});
