import { expect } from 'chai';
import { rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { normaliseUploadConfig } from '../../src/config.js';
import { runBatch } from '../../src/runBatch.js';
import { createStore } from '../../src/store/createStore.js';
import type { Store } from '../../src/store/types.js';
import { spawnCli } from '../helpers/cli.js';
import { createTestDatabase, forEachDatabase, type TestDatabase } from '../helpers/db.js';
import { assertInvariants } from '../helpers/invariants.js';
import { readTree, startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { summaryOf, until, untilRecorded } from '../helpers/runs.js';
import { proxiedDatabase, type TcpProxy } from '../helpers/tcpProxy.js';
import { makeTree, type Tree } from '../helpers/tree.js';

/** Receivers and a tree for one test; slow hosts (delayMs per upload, 2 at a time) so a run is still going when the fault hits. */
function useFixture(delayMs = 15) {
  const fx = {} as { tree: Tree; fleet: ReceiverFleet; store?: Store; targets: () => Map<string, string> };
  beforeEach(async () => {
    fx.tree = await makeTree(200);
    fx.fleet = await startReceivers(3, { delayMs, slots: 2 });
    fx.targets = () => new Map(fx.fleet.urls.map((u, i) => [u, fx.fleet.dirs[i]]));
  });
  afterEach(async () => {
    await fx.store?.close();
    fx.store = undefined;
    await fx.fleet.close();
    await rm(fx.tree.dir, { recursive: true, force: true });
  });
  return fx;
}

const upload = (fx: { tree: Tree; fleet: ReceiverFleet }, dbUrl: string, extra: string[]) =>
  spawnCli(['upload', fx.tree.dir, '--target', fx.fleet.urls.join(','), '--db', dbUrl, '--json', '--per-target', '2', ...extra]);

async function receivedNothing(fleet: ReceiverFleet): Promise<void> {
  for (const dir of fleet.dirs) expect([...(await readTree(dir)).keys()], `files on ${dir}`).to.deep.equal([]);
}

describe('run faults: stops before the start, files gone at --resume, the database away at a signal', function () {
  this.timeout(120_000);

  forEachDatabase('a stop that comes before the pipeline starts', (db) => {
    const fx = useFixture();

    it('should walk, plan and upload nothing, write no batch row, and end interrupted with zero counts', async () => {
      const config = await normaliseUploadConfig({ dir: fx.tree.dir, target: fx.fleet.urls, db: db.url, batchId: 'early1' });
      const stop = new AbortController();
      stop.abort();
      const summary = await runBatch(config, { stop: stop.signal });
      expect(summary).to.include({ status: 'interrupted', total: 0, uploaded: 0, failed: 0, skipped: 0, pending: 0 });
      fx.store = await createStore(db.url);
      expect(await fx.store.getBatch('early1'), 'no batch row').to.equal(undefined);
      expect(await fx.store.listFiles('early1'), 'no file rows').to.deep.equal([]);
      await receivedNothing(fx.fleet);
    });
  });

  forEachDatabase('--resume after files of the batch were deleted', (db) => {
    const fx = useFixture();

    it('should settle the rows of files that are gone as failed, count them, and exit 1', async () => {
      const run = upload(fx, db.url, ['--batch-id', 'gone1']);
      await untilRecorded(db.url, 'gone1', 20);
      run.kill('SIGINT');
      const first = await run.done;
      expect(first.code, first.stderr).to.equal(130);
      fx.store = await createStore(db.url);
      const pending = (await fx.store.listFiles('gone1', { status: 'pending' })).map((r) => r.filePath);
      expect(pending.length, 'the interrupted run left pending rows').to.be.above(5);
      const gone = pending.slice(0, 5);
      for (const p of gone) {
        await unlink(path.join(fx.tree.dir, p));
        fx.tree.files.delete(p);
      }

      const r = await upload(fx, db.url, ['--batch-id', 'gone1', '--resume']).done;
      expect(r.code, r.stderr).to.equal(1);
      const s = summaryOf(r);
      expect(s).to.include({ status: 'completed_with_failures', failed: gone.length, pending: 0 });
      expect(s.total).to.equal(s.uploaded + s.failed + s.skipped + s.pending);
      expect(s.uploaded + s.skipped).to.equal(fx.tree.files.size);
      expect(r.stderr).to.contain('files_missing');
      const rows = await fx.store.listFiles('gone1');
      const failed = rows.filter((x) => x.status === 'failed');
      expect(failed.map((x) => x.filePath).sort()).to.deep.equal([...gone].sort());
      for (const row of failed) {
        expect(row.error).to.equal(`missing at resume: not found under ${fx.tree.dir}`);
        expect(row.finishedAt).to.be.a('number');
      }
      // one row per file still there, plus the settled ones; nothing pending
      expect(rows.map((x) => x.filePath).sort()).to.deep.equal([...fx.tree.files.keys(), ...gone].sort());
      expect(rows.filter((x) => x.status === 'pending')).to.deep.equal([]);
      expect(await fx.store.getBatch('gone1')).to.include({ status: 'completed_with_failures', failed: gone.length, total: s.total });
      await assertInvariants(fx.store, 'gone1', fx.tree, fx.targets(), { summaries: [s] });
    });
  });

  describe('with MariaDB behind a proxy', function () {
    // 50 ms an upload: files still wait for a slot when the database has been away for a second
    const fx = useFixture(50);
    let mysql: TestDatabase | undefined;
    let proxy: TcpProxy;
    let viaProxy: string;
    beforeEach(async function () {
      if (!process.env.FANOUT_TEST_MYSQL) this.skip();
      mysql = await createTestDatabase('mysql');
      ({ proxy, viaProxy } = await proxiedDatabase(mysql.url));
    });
    afterEach(async () => {
      await fx.store?.close();
      fx.store = undefined;
      proxy?.release();
      await proxy?.cut();
      await mysql?.cleanup();
    });

    it('should stop a run whose database connects slowly when SIGINT comes during preflight: nothing walked, exit 130', async () => {
      proxy.hold();
      const run = upload(fx, viaProxy, ['--batch-id', 'pre1']);
      await until(() => proxy.holding > 0, 'the CLI to connect to the database');
      run.kill('SIGINT');
      // the child is idle, waiting on the socket, so it takes the signal at once; a wide margin
      // before the database answers (the child logs nothing during preflight to wait for)
      await new Promise((r) => setTimeout(r, 1000));
      proxy.release();
      const r = await run.done;
      expect(r.code, r.stderr).to.equal(130);
      expect(summaryOf(r)).to.include({ status: 'interrupted', total: 0, uploaded: 0, pending: 0 });
      fx.store = await createStore(mysql!.url);
      expect(await fx.store.listFiles('pre1'), 'no rows: the files were not walked').to.deep.equal([]);
      expect(await fx.store.getBatch('pre1')).to.equal(undefined);
      await receivedNothing(fx.fleet);
    });

    it('should, when the database stays away, count in the summary what was recorded and release waiting files quietly', async () => {
      const run = upload(fx, viaProxy, ['--batch-id', 'away1', '--db-retry-ms', '1000']);
      await untilRecorded(viaProxy, 'away1', 20);
      await proxy.cut();
      const r = await run.done;
      expect(r.code, r.stderr).to.equal(1);
      const s = summaryOf(r);
      expect(s.status).to.equal('failed');
      expect(r.stderr).to.not.contain('every target is down');
      expect(r.stderr).to.not.contain('target_down');
      expect(r.stderr).to.not.contain('file_error');
      await proxy.restore();
      fx.store = await createStore(mysql!.url);
      const counts = await fx.store.countFiles('away1');
      expect(counts.uploaded, 'uploaded rows').to.be.at.least(20);
      expect(s.uploaded, 'summary uploaded = uploaded rows').to.equal(counts.uploaded);
      expect(s.failed, 'summary failed = failed rows').to.equal(counts.failed);
      expect(await fx.store.countCalls('away1'), 'calls = uploaded').to.equal(counts.uploaded);
      await assertInvariants(fx.store, 'away1', fx.tree, fx.targets(), { summaries: [s] });

      const again = await upload(fx, viaProxy, ['--batch-id', 'away1', '--resume']).done;
      expect(again.code, again.stderr).to.equal(0);
      await assertInvariants(fx.store, 'away1', fx.tree, fx.targets(), { complete: true, allowDuplicates: true, summaries: [summaryOf(again)] });
    });

    it('should cut a database wait short on a second signal: exit 130 at once, not after --db-retry-ms', async () => {
      const run = upload(fx, viaProxy, ['--batch-id', 'away2', '--db-retry-ms', '60000', '--grace-ms', '60000']);
      let stderr = '';
      run.stderr?.on('data', (d) => (stderr += d));
      await untilRecorded(viaProxy, 'away2', 20);
      await proxy.cut();
      await until(() => stderr.includes('db_retry'), 'a db_retry line');
      run.kill('SIGINT');
      await until(() => stderr.includes('batch_stopping'), 'the first signal to start a graceful stop');
      const t0 = Date.now();
      run.kill('SIGINT');
      const r = await run.done;
      expect(r.code, `signal ${r.signal}\n${r.stderr}`).to.equal(130);
      expect(Date.now() - t0, 'ended without waiting out --db-retry-ms').to.be.below(10_000);
      const s = summaryOf(r);
      expect(s.status).to.equal('interrupted');
      await proxy.restore();
      fx.store = await createStore(mysql!.url);
      // the batch row could not be written with the database away; the file rows agree with the summary
      await assertInvariants(fx.store, 'away2', fx.tree, fx.targets(), { summaries: [s] });
    });
  });
});
