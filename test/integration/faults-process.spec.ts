import { expect } from 'chai';
import { rm, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStore } from '../../src/store/createStore.js';
import type { Store } from '../../src/store/types.js';
import { spawnCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { assertInvariants } from '../helpers/invariants.js';
import { startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { proxiedDatabase, type TcpProxy } from '../helpers/tcpProxy.js';
import { makeTree, type Tree } from '../helpers/tree.js';
import { summaryOf, untilRecorded } from '../helpers/runs.js';

describe('process faults: signals, SIGKILL then --resume, the database going away', function () {
  this.timeout(90_000);
  let tree: Tree;
  let fleet: ReceiverFleet;
  let work: string;
  let db: string;
  let store: Store;
  const targets = () => new Map(fleet.urls.map((u, i) => [u, fleet.dirs[i]]));

  before(async () => {
    tree = await makeTree(200);
  });
  beforeEach(async () => {
    // slow hosts (15 ms per upload, 2 at a time) so the run is still going when the fault hits
    fleet = await startReceivers(3, { delayMs: 15, slots: 2 });
    work = await mkdtemp(path.join(os.tmpdir(), 'fanout-faults-'));
    db = `sqlite:${path.join(work, 'f.sqlite')}`;
  });
  afterEach(async () => {
    await store?.close();
    await fleet.close();
    await rm(work, { recursive: true, force: true });
  });
  after(() => rm(tree.dir, { recursive: true, force: true }));

  const upload = (extra: string[], dbUrl = db, urls = fleet.urls) =>
    spawnCli(['upload', tree.dir, '--target', urls.join(','), '--db', dbUrl, '--json', '--per-target', '2', ...extra]);

  it('should stop on SIGINT: finish in-flight uploads, leave the rest pending, exit 130; --resume completes it', async () => {
    const run = upload(['--batch-id', 'int1']);
    await untilRecorded(db, 'int1', 20);
    run.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stderr).to.equal(130);
    const s = summaryOf(r);
    expect(s.status).to.equal('interrupted');
    expect(s.pending).to.be.above(0);
    expect(s.total).to.equal(s.uploaded + s.failed + s.skipped + s.pending);
    store = await createStore(db);
    expect(await store.getBatch('int1')).to.include({ status: 'interrupted', uploaded: s.uploaded });
    const counts = await store.countFiles('int1');
    expect(counts.uploaded).to.equal(s.uploaded);
    await assertInvariants(store, 'int1', tree, targets(), { summaries: [s] });

    const again = await upload(['--batch-id', 'int1', '--resume']).done;
    expect(again.code, again.stderr).to.equal(0);
    const s2 = summaryOf(again);
    expect(s2.skipped).to.equal(s.uploaded);
    expect(s2.uploaded + s2.skipped).to.equal(tree.files.size);
    await assertInvariants(store, 'int1', tree, targets(), { complete: true, summaries: [s2] });
  });

  it('should abort in-flight uploads on a second signal instead of waiting out the grace period', async () => {
    // a fourth host that holds every upload for two minutes: its uploads are still in flight
    // when the first signal comes, and would keep the run alive for the whole 60 s grace
    const stalled = await startReceivers(1, { delayMs: 120_000 });
    try {
      const run = upload(['--batch-id', 'int2', '--grace-ms', '60000'], db, [...fleet.urls, ...stalled.urls]);
      let stderr = '';
      run.stderr?.on('data', (d) => (stderr += d));
      await untilRecorded(db, 'int2', 10);
      run.kill('SIGINT');
      const end = Date.now() + 20_000;
      while (!stderr.includes('batch_stopping') && Date.now() < end) await sleep(20);
      expect(stderr, 'the first signal starts a graceful stop').to.contain('batch_stopping');
      await sleep(200);
      expect(run.exitCode, 'still waiting on the stalled host after the first signal').to.equal(null);
      const t0 = Date.now();
      run.kill('SIGINT');
      const r = await run.done;
      expect(r.code, `signal ${r.signal}\n${r.stderr}`).to.equal(130);
      expect(Date.now() - t0, 'ended without waiting out the grace period').to.be.below(10_000);
      const s = summaryOf(r);
      expect(s.status).to.equal('interrupted');
      expect(s.targets[stalled.urls[0]]?.uploaded ?? 0, 'nothing counted as uploaded to the stalled host').to.equal(0);
      store = await createStore(db);
      const rows = await store.listFiles('int2');
      expect(stalled.receivers[0].stats().inFlightMax, 'uploads were in flight to the stalled host').to.be.above(0);
      const assigned = rows.filter((x) => x.target === stalled.urls[0]);
      expect(assigned.filter((x) => x.status === 'uploaded'), 'none of its files recorded uploaded').to.deep.equal([]);
      await assertInvariants(store, 'int2', tree, new Map([...targets(), [stalled.urls[0], stalled.dirs[0]]]), { summaries: [s] });
    } finally {
      await stalled.close();
    }
  });

  it('should leave consistent records after SIGKILL, and --resume should record every file exactly once', async () => {
    const run = upload(['--batch-id', 'kill1']);
    await untilRecorded(db, 'kill1', 40);
    run.kill('SIGKILL');
    await run.done;
    store = await createStore(db);
    const mid = await store.countFiles('kill1');
    expect(mid.total).to.be.above(mid.uploaded); // it really died mid-batch
    await assertInvariants(store, 'kill1', tree, targets(), { allowDuplicates: true });
    const r = await upload(['--batch-id', 'kill1', '--resume']).done;
    expect(r.code, r.stderr).to.equal(0);
    const s = summaryOf(r);
    expect(s.uploaded + s.skipped).to.equal(tree.files.size);
    await assertInvariants(store, 'kill1', tree, targets(), { complete: true, allowDuplicates: true, summaries: [s] });
  });

  describe('with MariaDB behind a proxy that goes away', function () {
    let mysql: TestDatabase | undefined;
    let proxy: TcpProxy;
    let viaProxy: string;
    beforeEach(async function () {
      if (!process.env.FANOUT_TEST_MYSQL) this.skip();
      mysql = await createTestDatabase('mysql');
      ({ proxy, viaProxy } = await proxiedDatabase(mysql.url));
    });
    afterEach(async () => {
      await store?.close();
      await proxy?.cut();
      await mysql?.cleanup();
    });

    it('should ride out a short outage: writes wait and retry, the batch completes', async () => {
      const run = upload(['--batch-id', 'db1', '--db-retry-ms', '20000'], viaProxy);
      await untilRecorded(viaProxy, 'db1', 20);
      await proxy.cut();
      await sleep(1500);
      await proxy.restore();
      const r = await run.done;
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.contain('db_retry');
      store = await createStore(mysql!.url);
      await assertInvariants(store, 'db1', tree, targets(), { complete: true, summaries: [summaryOf(r)] });
    });

    it('should stop with exit 1 when the database stays away, and --resume should complete the batch later', async () => {
      const run = upload(['--batch-id', 'db2', '--db-retry-ms', '1000'], viaProxy);
      await untilRecorded(viaProxy, 'db2', 20);
      await proxy.cut();
      const r = await run.done;
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(/database \w+ failed for 1000 ms/);
      await proxy.restore();
      store = await createStore(mysql!.url);
      await assertInvariants(store, 'db2', tree, targets(), {});
      const again = await upload(['--batch-id', 'db2', '--resume'], viaProxy).done;
      expect(again.code, again.stderr).to.equal(0);
      await assertInvariants(store, 'db2', tree, targets(), { complete: true, allowDuplicates: true, summaries: [summaryOf(again)] });
    });
  });
});
