import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readBatchLease } from '../../src/store/batchLeaseQueries.js';
import { createStore } from '../../src/store/createStore.js';
import type { Store } from '../../src/store/types.js';
import { cli, spawnCli } from '../helpers/cli.js';
import { forEachDatabase } from '../helpers/db.js';
import { assertInvariants } from '../helpers/invariants.js';
import { startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { summaryOf, until, untilRecorded } from '../helpers/runs.js';
import { makeTree, type Tree } from '../helpers/tree.js';

forEachDatabase('one run of a batch at a time: the batch lease', (ctx) => {
  let tree: Tree;
  let fleet: ReceiverFleet;
  let store: Store;
  const targets = () => new Map(fleet.urls.map((u, i) => [u, fleet.dirs[i]]));
  const upload = (argv: string[]) => spawnCli(['upload', ...argv, '--db', ctx.url, '--json', '--per-target', '1']);

  before(async function () {
    this.timeout(30_000);
    tree = await makeTree(46); // 60 files with the awkward names
    store = await createStore(ctx.url);
  });
  beforeEach(async () => {
    // slow hosts, one upload at a time each: a run takes seconds, long enough to overlap
    fleet = await startReceivers(3, { delayMs: 150, slots: 1 });
  });
  afterEach(() => fleet.close());
  after(async () => {
    await store.close();
    await rm(tree.dir, { recursive: true, force: true });
  });

  /** A batch that exists with some files uploaded and the rest pending (stopped by SIGINT). */
  async function startedBatch(batchId: string): Promise<void> {
    const first = upload([tree.dir, '--target', fleet.urls.join(','), '--batch-id', batchId]);
    await untilRecorded(ctx.url, batchId, 5);
    first.kill('SIGINT');
    expect((await first.done).code).to.equal(130);
  }

  it('should refuse a second --resume while the first runs (exit 2, naming it), and every file arrives once', async function () {
    // on MySQL/MariaDB the second resume joins the first as a worker instead: joinBatch.spec
    if (ctx.dialect !== 'sqlite') this.skip();
    this.timeout(90_000);
    await startedBatch('overlap');
    const a = upload(['--batch-id', 'overlap', '--resume']);
    await until(() => a.pid !== undefined, 'the first resume to start');
    let lease = await readBatchLease(store.knex, 'overlap');
    const end = Date.now() + 30_000;
    while (lease?.pid !== a.pid && Date.now() < end) lease = await readBatchLease(store.knex, 'overlap');
    expect(lease?.pid, 'the first resume holds the batch').to.equal(a.pid);
    const b = await upload(['--batch-id', 'overlap', '--resume']).done;
    expect(a.exitCode, 'the first resume was still running').to.equal(null);
    expect(b.code, b.stderr).to.equal(2);
    expect(b.stdout).to.equal('');
    const line = b.stderr.trim();
    expect(line.split('\n'), 'one line').to.have.length(1);
    expect(line).to.contain(`${os.hostname()} pid ${a.pid}`).and.to.match(/lease ends \d{4}-\d\d-\d\dT/);
    const ra = await a.done;
    expect(ra.code, ra.stderr).to.equal(0);
    expect(await readBatchLease(store.knex, 'overlap'), 'released at the end').to.deep.include({ holder: null, pid: null });
    await assertInvariants(store, 'overlap', tree, targets(), { complete: true, summaries: [summaryOf(ra)] });
  });

  it('should refuse --resume beside a fresh upload still running (exit 2, naming it), and every file arrives once', async function () {
    this.timeout(90_000);
    const first = upload([tree.dir, '--target', fleet.urls.join(','), '--batch-id', 'fresh']);
    await untilRecorded(ctx.url, 'fresh', 3);
    const r = await upload(['--batch-id', 'fresh', '--resume']).done;
    expect(first.exitCode, 'the fresh run was still running').to.equal(null);
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stdout).to.equal('');
    const line = r.stderr.trim();
    expect(line.split('\n'), 'one line').to.have.length(1);
    expect(line).to.contain(`${os.hostname()} pid ${first.pid}`).and.to.match(/lease ends \d{4}-\d\d-\d\dT/);
    const rf = await first.done;
    expect(rf.code, rf.stderr).to.equal(0);
    await assertInvariants(store, 'fresh', tree, targets(), { complete: true, summaries: [summaryOf(rf)] });
  });

  it('should take over at once the lease of a holder SIGKILLed on this host, taking the dir and targets from the batch', async function () {
    this.timeout(90_000);
    const first = upload([tree.dir, '--target', fleet.urls.join(','), '--batch-id', 'killed']);
    await untilRecorded(ctx.url, 'killed', 5);
    first.kill('SIGKILL');
    await first.done;
    expect((await readBatchLease(store.knex, 'killed'))?.pid, 'the dead run still holds the lease').to.equal(first.pid);
    const t0 = Date.now();
    const r = await upload(['--batch-id', 'killed', '--resume']).done;
    expect(r.code, r.stderr).to.equal(0);
    expect(Date.now() - t0, 'without waiting for the 30 s lease to run out').to.be.below(25_000);
    expect(r.stderr).to.contain('batch_lease_taken_over');
    const s = summaryOf(r);
    expect(s.uploaded + s.skipped).to.equal(tree.files.size);
    await assertInvariants(store, 'killed', tree, targets(), { complete: true, allowDuplicates: true, summaries: [s] });
  });

  it('should refuse --resume with a different directory (exit 2, naming both), writing nothing', async function () {
    this.timeout(60_000);
    const other = await mkdtemp(path.join(os.tmpdir(), 'fanout-other-'));
    try {
      await startedBatch('otherdir');
      const before = await store.countFiles('otherdir');
      const r = await cli(['upload', other, '--target', fleet.urls[0], '--batch-id', 'otherdir', '--resume', '--db', ctx.url]);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
      expect(r.stderr).to.contain(tree.dir).and.to.contain(other);
      expect(await store.countFiles('otherdir')).to.deep.equal(before);
      expect(await store.getBatch('otherdir')).to.include({ status: 'interrupted' });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('should show with --dry-run --resume what the resume would send and skip, reading only, and refuse an unknown batch', async function () {
    this.timeout(60_000);
    await startedBatch('dry');
    const rows = await store.listFiles('dry');
    const done = rows.filter((r) => r.status === 'uploaded');
    const json = await cli(['upload', '--batch-id', 'dry', '--resume', '--dry-run', '--json', '--db', ctx.url]);
    expect(json.code, json.stderr).to.equal(0);
    const plan = JSON.parse(json.stdout);
    expect(plan).to.include({ skipped: done.length, total: tree.files.size - done.length });
    const human = await cli(['upload', '--batch-id', 'dry', '--resume', '--dry-run', '--db', ctx.url]);
    expect(human.code, human.stderr).to.equal(0);
    const lines = human.stdout.split('\n');
    for (const r of done) expect(lines).to.include(`${r.filePath} skipped: uploaded to ${r.target}`);
    const pending = rows.find((r) => r.status === 'pending' && r.target !== null);
    if (pending) expect(lines).to.include(`${pending.filePath} -> ${pending.target}`);
    expect(await store.listFiles('dry'), 'nothing written').to.deep.equal(rows);
    expect((await readBatchLease(store.knex, 'dry'))?.holder).to.equal(null);

    const unknown = await cli(['upload', '--batch-id', 'nosuch', '--resume', '--dry-run', '--db', ctx.url]);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr.trim()).to.equal('fanout: no batch "nosuch" to resume');
    const unknownWithDir = await cli(['upload', tree.dir, '--target', fleet.urls[0], '--batch-id', 'nosuch', '--resume', '--dry-run', '--db', ctx.url]);
    expect(unknownWithDir.code).to.equal(2);
    expect(unknownWithDir.stderr.trim()).to.equal('fanout: no batch "nosuch" to resume');
  });
});
