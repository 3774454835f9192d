import { expect } from 'chai';
import os from 'node:os';
import { rm } from 'node:fs/promises';
import yargs from 'yargs';
import { statusCommand } from '../../src/commands/status.js';
import { normaliseUploadConfig } from '../../src/config.js';
import { runBatch } from '../../src/runBatch.js';
import { createStore } from '../../src/store/createStore.js';
import type { Store } from '../../src/store/types.js';
import { fakeContext } from '../helpers/cli.js';
import { forEachDatabase } from '../helpers/db.js';
import { assertInvariants } from '../helpers/invariants.js';
import { startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { makeTree, type Tree } from '../helpers/tree.js';

const status = async (argv: string[]) => {
  const ctx = fakeContext();
  await yargs(['status', ...argv]).command(statusCommand(ctx)).strict().exitProcess(false).fail((msg, err) => {
    throw err ?? new Error(msg);
  }).parseAsync();
  return ctx.out();
};

forEachDatabase('a batch run twice (a no-op resume)', (db) => {
  let tree: Tree;
  let hosts: ReceiverFleet;
  let store: Store;

  before(async function () {
    this.timeout(60_000);
    tree = await makeTree(20);
    hosts = await startReceivers(2);
    store = await createStore(db.url);
    await store.migrate();
  });
  after(async () => {
    await store?.close();
    await hosts?.close();
    await rm(tree.dir, { recursive: true, force: true });
  });

  it("should keep a row per run and show the batch's totals from its files, not the last run's counts", async function () {
    this.timeout(60_000);
    const config = await normaliseUploadConfig({ dir: tree.dir, target: hosts.urls, db: db.url, batchId: 'twice' });
    const first = await runBatch(config, { store });
    const second = await runBatch({ ...config, resume: true }, { store });
    expect(first).to.include({ status: 'completed', uploaded: tree.files.size });
    expect(second).to.include({ status: 'completed', uploaded: 0, skipped: tree.files.size });
    await assertInvariants(store, 'twice', tree, new Map(hosts.urls.map((u, i) => [u, hosts.dirs[i]])), { complete: true });
    const { bytes } = await store.countFiles('twice');
    expect(bytes).to.be.above(0);

    const { batches } = JSON.parse(await status(['--db', db.url, '--json'])) as { batches: Record<string, unknown>[] };
    const listed = batches.find((b) => b.id === 'twice') as Record<string, unknown>;
    const runs = await store.listRuns('twice');
    expect(runs).to.have.length(2);
    const sum = runs.reduce((n, r) => n + ((r.finishedAt as number) - r.startedAt), 0);
    expect(listed).to.include({ runs: 2, runTimeMs: sum, total: tree.files.size, uploaded: tree.files.size, failed: 0, pending: 0, bytes });
    expect(listed.lastRun).to.include({ uploaded: 0, skipped: tree.files.size });

    const one = JSON.parse(await status(['--db', db.url, '--batch-id', 'twice', '--json']));
    expect(one).to.include({ uploaded: tree.files.size, bytes, runTimeMs: sum });
    expect(one.runs.map((r: Record<string, unknown>) => [r.host, r.pid, r.status, r.uploaded, r.skipped])).to.deep.equal([
      [os.hostname(), process.pid, 'completed', tree.files.size, 0],
      [os.hostname(), process.pid, 'completed', 0, tree.files.size],
    ]);
    expect(one.runs[1].startedAt).to.be.at.least(one.runs[0].finishedAt);

    const text = await status(['--db', db.url]);
    expect(text).to.match(new RegExp(`\\n  twice +completed +\\S+ +2 +[\\d.]+ s +${tree.files.size} +${tree.files.size} +0 +0 +`));
  });
});
