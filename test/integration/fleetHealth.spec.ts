import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { startReceiver, type ReceiverOptions } from '../../src/http/server.js';
import { createStore } from '../../src/store/createStore.js';
import type { Store } from '../../src/store/types.js';
import { spawnCli } from '../helpers/cli.js';
import { forEachDatabase } from '../helpers/db.js';
import { assertInvariants } from '../helpers/invariants.js';
import { readTree, startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { summaryOf, until, untilRecorded } from '../helpers/runs.js';
import { makeTree, type Tree } from '../helpers/tree.js';

const TOKEN = 'the-right-token-0123456789';
const OTHER = 'another-token-abcdefghijkl';

/** The JSON log lines of a run's stderr. */
const events = (stderr: string): Array<Record<string, unknown>> =>
  stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
const named = (stderr: string, event: string) => events(stderr).filter((e) => e.event === event);

/** Close receivers (they refuse connections from now on) and later start them again on the same ports and dirs. */
async function closeAll(fleet: ReceiverFleet): Promise<void> {
  await Promise.all(fleet.receivers.map((r) => r.close()));
}
async function restartAll(fleet: ReceiverFleet, opts: Partial<ReceiverOptions> = {}): Promise<void> {
  for (const [i, r] of fleet.receivers.entries()) {
    fleet.receivers[i] = await startReceiver({ ...opts, dir: fleet.dirs[i], port: r.port });
  }
}

describe('fleet health: every target down for a moment, credentials refused, --max-errors', function () {
  this.timeout(120_000);
  let tree: Tree;
  let fleets: ReceiverFleet[];
  let store: Store | undefined;

  beforeEach(async () => {
    tree = await makeTree(300);
    fleets = [];
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    for (const f of fleets) await f.close();
    await rm(tree.dir, { recursive: true, force: true });
  });
  const receivers = async (n: number, opts: Partial<ReceiverOptions> = {}) => {
    const f = await startReceivers(n, opts);
    fleets.push(f);
    return f;
  };
  const targetsOf = (...fs: ReceiverFleet[]) => new Map(fs.flatMap((f) => f.urls.map((u, i) => [u, f.dirs[i]] as [string, string])));
  const upload = (db: string, urls: string[], extra: string[]) =>
    spawnCli(['upload', tree.dir, '--target', urls.join(','), '--db', db, '--json', '--per-target', '2', ...extra]);

  forEachDatabase('every target down for a moment', (db) => {
    it('should wait for the fleet to come back and upload every file, no file failed, retries spared', async () => {
      const opts = { delayMs: 40, slots: 2 };
      const fleet = await receivers(3, opts);
      // --down-after 2 with --retries 1: a file cannot use up a target that is still up
      const run = upload(db.url, fleet.urls, ['--batch-id', 'blip1', '--retries', '1', '--down-after', '2', '--probe-ms', '200']);
      let stderr = '';
      run.stderr?.on('data', (d) => (stderr += d));
      await untilRecorded(db.url, 'blip1', 20);
      await closeAll(fleet);
      await until(() => named(stderr, 'target_down').length >= 3, 'every target marked down');
      await new Promise((r) => setTimeout(r, 1000)); // down for a moment, probed all along
      await restartAll(fleet, opts);
      const r = await run.done;

      expect(r.code, r.stderr).to.equal(0);
      const s = summaryOf(r);
      expect(s).to.include({ status: 'completed', failed: 0, pending: 0, uploaded: tree.files.size });
      expect(s).to.not.have.property('reason');
      expect(named(r.stderr, 'target_up').length, 'targets probed back up').to.be.at.least(1);
      expect(named(r.stderr, 'file_error'), 'no file failed').to.deep.equal([]);
      store = await createStore(db.url);
      expect(await store.listFiles('blip1', { status: 'failed' })).to.deep.equal([]);
      await assertInvariants(store, 'blip1', tree, targetsOf(fleet), { complete: true, allowDuplicates: true, summaries: [s] });
    });

    it('should stop after --max-wait-ms with nothing up, leave the files pending, say why, and finish on --resume', async () => {
      const fleet = await receivers(3);
      await closeAll(fleet);
      const r = await upload(db.url, fleet.urls, ['--batch-id', 'gone1', '--max-wait-ms', '1500', '--probe-ms', '200', '--retries', '1', '--down-after', '2']).done;

      expect(r.code, r.stderr).to.equal(1);
      const s = summaryOf(r);
      expect(s).to.include({ status: 'failed', uploaded: 0, failed: 0, reason: 'no target answered for 1500 ms' });
      expect(s.pending).to.be.above(0);
      expect(s.targets, 'no "(none)" key').to.have.all.keys(...fleet.urls);
      expect(named(r.stderr, 'batch_stopped').map((e) => e.reason)).to.deep.equal(['no target answered for 1500 ms']);
      expect(named(r.stderr, 'file_error')).to.deep.equal([]);
      store = await createStore(db.url);
      expect(await store.listFiles('gone1', { status: 'failed' })).to.deep.equal([]);
      expect((await store.getBatch('gone1'))?.status).to.equal('failed');
      await assertInvariants(store, 'gone1', tree, targetsOf(fleet), { summaries: [s] });

      await restartAll(fleet);
      const again = await upload(db.url, fleet.urls, ['--batch-id', 'gone1', '--resume']).done;
      expect(again.code, again.stderr).to.equal(0);
      const s2 = summaryOf(again);
      expect(s2).to.include({ status: 'completed', failed: 0, pending: 0 });
      await assertInvariants(store, 'gone1', tree, targetsOf(fleet), { complete: true, summaries: [s2] });
    });
  });

  forEachDatabase('a target that refuses our credentials', (db) => {
    it('should take it out of the run at once, say so once, and upload every file on the others', async () => {
      const good = await receivers(2, { token: TOKEN });
      const bad = await receivers(1, { token: OTHER });
      const urls = [good.urls[0], bad.urls[0], good.urls[1]];
      const r = await upload(db.url, urls, ['--batch-id', 'tok1', '--token', TOKEN, '--retries', '0']).done;

      expect(r.code, r.stderr).to.equal(0);
      const s = summaryOf(r);
      expect(s).to.include({ status: 'completed', failed: 0, pending: 0, uploaded: tree.files.size });
      const refused = named(r.stderr, 'target_refused');
      expect(refused).to.have.length(1);
      expect(refused[0]).to.include({ level: 'error', target: bad.urls[0], status: 401 });
      expect(r.stderr).to.not.contain(TOKEN);
      store = await createStore(db.url);
      expect((await store.listFiles('tok1')).filter((x) => x.target === bad.urls[0])).to.deep.equal([]);
      expect([...(await readTree(bad.dirs[0])).keys()]).to.deep.equal([]);
      await assertInvariants(store, 'tok1', tree, targetsOf(good, bad), { complete: true, summaries: [s] });
    });

    it('should stop early, files left pending, pointing at --token, when every target refuses', async () => {
      const fleet = await receivers(3, { token: OTHER });
      const r = await upload(db.url, fleet.urls, ['--batch-id', 'tok2', '--token', TOKEN]).done;

      expect(r.code, r.stderr).to.equal(1);
      const s = summaryOf(r);
      expect(s).to.include({ status: 'failed', uploaded: 0, failed: 0, reason: 'every target refused our credentials (HTTP 401): check --token' });
      expect(s.pending).to.be.above(0);
      expect(named(r.stderr, 'target_refused').map((e) => e.target).sort()).to.deep.equal([...fleet.urls].sort());
      store = await createStore(db.url);
      expect(await store.listFiles('tok2', { status: 'failed' })).to.deep.equal([]);
      await assertInvariants(store, 'tok2', tree, targetsOf(fleet), { summaries: [s] });
    });
  });

  forEachDatabase('--max-errors', (db) => {
    it('should stop taking files after N failed, leave the rest pending and exit 1', async () => {
      const fleet = await receivers(1, { maxBytes: 10 }); // 413 for nearly every file
      const r = await upload(db.url, fleet.urls, ['--batch-id', 'errs1', '--max-errors', '3']).done;

      expect(r.code, r.stderr).to.equal(1);
      const s = summaryOf(r);
      expect(s).to.include({ status: 'failed', reason: 'stopped after 3 failed files (--max-errors)' });
      expect(s.failed).to.be.at.least(3);
      expect(s.pending).to.be.above(tree.files.size / 2);
      store = await createStore(db.url);
      await assertInvariants(store, 'errs1', tree, targetsOf(fleet), { summaries: [s] });
    });
  });
});
