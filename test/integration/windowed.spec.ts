import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { filter, lastValueFrom, map } from 'rxjs';
import { Fleet } from '../../src/http/fleet.js';
import { Uploader } from '../../src/http/uploader.js';
import { silentLogger } from '../../src/logger.js';
import { assignTargets } from '../../src/operators/assignTargets.js';
import { planUploads } from '../../src/operators/planUploads.js';
import { recordResults } from '../../src/operators/recordResults.js';
import { tallyResults } from '../../src/operators/tallyResults.js';
import { uploadFiles } from '../../src/operators/uploadFiles.js';
import { walkFiles } from '../../src/sources/walkFiles.js';
import { windowed } from '../../src/sources/windowed.js';
import { createStore } from '../../src/store/createStore.js';
import type { Store } from '../../src/store/types.js';
import { forEachDatabase } from '../helpers/db.js';
import { assertInvariants } from '../helpers/invariants.js';
import { startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { makeTree, type Tree } from '../helpers/tree.js';

forEachDatabase('windowed: the library pattern with user filters', (db) => {
  let tree: Tree;
  let hosts: ReceiverFleet;
  let store: Store;

  before(async function () {
    this.timeout(60_000);
    tree = await makeTree(32); // 46 files with the awkward names
    hosts = await startReceivers(2, { delayMs: 5, slots: 2 });
    store = await createStore(db.url);
    await store.migrate();
  });
  after(async () => {
    await store?.close();
    await hosts?.close();
    await rm(tree.dir, { recursive: true, force: true });
  });

  const run = async (batchId: string, window: number, keep: (path: string) => boolean) => {
    const targets = hosts.urls;
    const logger = silentLogger();
    const fleet = new Fleet(targets, { perTarget: 2, concurrency: 4, downAfter: 5, probeMs: 5000, probe: async () => true });
    const uploader = new Uploader(targets, { batchId, perTarget: 2 });
    try {
      return await lastValueFrom(windowed(
        walkFiles(tree.dir), window,
        assignTargets('least-loaded', targets),
        planUploads({ store, batchId }),
        uploadFiles({ fleet, uploader, logger, batchId, retries: 3 }),
        recordResults({ store, batchId }),
        // where the README's credit tap used to follow: results left out here kept their credit
        filter((r) => keep(r.file.path)),
        map((r) => ({ ...r, queuedForTranscription: true })),
        tallyResults(targets),
      ));
    } finally {
      fleet.close();
      await uploader.close();
    }
  };

  it('should upload and record all 46 files when a filter after recordResults drops most results, window 4', async function () {
    this.timeout(60_000);
    expect(tree.files.size).to.equal(46);
    const tally = await run('w-after', 4, (p) => p.startsWith('part_0/'));
    expect(tally.uploaded).to.equal([...tree.files.keys()].filter((p) => p.startsWith('part_0/')).length);
    expect(await store.countFiles('w-after')).to.include({ total: 46, uploaded: 46, pending: 0 });
    await assertInvariants(store, 'w-after', tree, new Map(hosts.urls.map((u, i) => [u, hosts.dirs[i]])), { complete: true });
  });
});
