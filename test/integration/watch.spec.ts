import { expect } from 'chai';
import { appendFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { normaliseUploadConfig } from '../../src/config.js';
import { createStore } from '../../src/store/createStore.js';
import type { Store } from '../../src/store/types.js';
import { runWatch, type WatchConfig, type WatchSummary } from '../../src/watch/runWatch.js';
import { cli, spawnCli } from '../helpers/cli.js';
import { forEachDatabase } from '../helpers/db.js';
import { assertInvariants } from '../helpers/invariants.js';
import { readTree, startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { makeTree, sha256, type Tree } from '../helpers/tree.js';

/** Poll an async condition (the database, the receivers) until it holds. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A watch in this process, stopped as SIGINT would. */
async function startWatch(dir: string, db: string, targets: string[], extra: Partial<WatchConfig> = {}) {
  const base = await normaliseUploadConfig({ dir, target: targets, db, perTarget: 2, retries: 5, probeMs: 100 } as never, {});
  const stop = new AbortController();
  const done = runWatch({ ...base, prefix: 'w1', minAgeMs: 300, rescanMs: 1000, batchEveryMs: 3_600_000, batchMaxFiles: 100_000, planOnly: false, leaseMs: 5000, ...extra }, { stop: stop.signal });
  return { done, stop: async (): Promise<WatchSummary> => (stop.abort(), done) };
}

/** The watch's batches and how many rows each holds, by status. */
async function watchBatches(store: Store): Promise<string[]> {
  return (await store.knex('batches').where('id', 'like', 'w1-%').orderBy('id').pluck('id')) as string[];
}

forEachDatabase('fanout watch', (ctx) => {
  let recv: ReceiverFleet;
  let tree: Tree;
  let store: Store;
  beforeEach(async () => {
    recv = await startReceivers(2);
    tree = await makeTree(6);
    store = await createStore(ctx.url);
    await store.migrate();
    await store.knex('batches').where('id', 'like', 'w1-%').del();
    await store.knex('file_distributions').where('batch_id', 'like', 'w1-%').del();
    await store.knex('calls').where('batch_id', 'like', 'w1-%').del();
    await store.knex('workers').where('id', 'watch:w1').del();
  });
  afterEach(async () => {
    await store.close();
    await recv.close();
    await rm(tree.dir, { recursive: true, force: true });
  });

  const targetDirs = () => new Map(recv.urls.map((u, i) => [u, recv.dirs[i]]));

  it('should upload files there at start and files as they land, once each, and never one still being written', async () => {
    const w = await startWatch(tree.dir, ctx.url, recv.urls);
    // a file written slowly in pieces (pauses shorter than --min-age), one renamed into place, one deleted before it ages
    const slow = path.join(tree.dir, 'slow.wav');
    const pieces: Buffer[] = [];
    await writeFile(slow, '');
    for (let i = 0; i < 8; i++) {
      const piece = Buffer.alloc(10_000, i);
      pieces.push(piece);
      await appendFile(slow, piece);
      await sleep(100);
    }
    tree.files.set('slow.wav', sha256(Buffer.concat(pieces)));
    await mkdir(path.join(tree.dir, 'in'), { recursive: true });
    await writeFile(path.join(tree.dir, 'in', 'moved.wav.part'), 'renamed into place');
    await rename(path.join(tree.dir, 'in', 'moved.wav.part'), path.join(tree.dir, 'in', 'moved.wav'));
    tree.files.set('in/moved.wav', sha256(Buffer.from('renamed into place')));
    await writeFile(path.join(tree.dir, 'gone.wav'), 'short-lived');
    await rm(path.join(tree.dir, 'gone.wav'));
    await eventually(async () => (await store.knex('file_distributions').where('batch_id', 'like', 'w1-%').where('status', 'uploaded').count({ n: '*' }))[0].n == tree.files.size, 'every file uploaded');
    const s = await w.stop();
    expect(s.status).to.equal('interrupted');
    const [batchId, ...more] = await watchBatches(store);
    expect(more, 'one batch within --batch-every').to.deep.equal([]);
    await assertInvariants(store, batchId, tree, targetDirs(), { complete: true });
    const held = new Map([...(await readTree(recv.dirs[0])), ...(await readTree(recv.dirs[1]))]);
    expect(sha256(held.get('slow.wav') as Buffer), 'the slow file whole').to.equal(tree.files.get('slow.wav'));
    expect(held.has('gone.wav')).to.equal(false);
  });

  it('should not send a file again after a restart, and send a changed one again, recorded as a new upload', async () => {
    let w = await startWatch(tree.dir, ctx.url, recv.urls);
    await eventually(async () => (await store.countFiles((await watchBatches(store))[0] ?? 'none')).uploaded === tree.files.size, 'first pass');
    await w.stop();
    const stored = () => recv.receivers.reduce((n, r) => n + r.stats().files, 0);
    const before = stored();
    w = await startWatch(tree.dir, ctx.url, recv.urls);
    await sleep(1500); // a rescan and --min-age: nothing new to take
    expect(stored(), 'nothing sent again').to.equal(before);
    const changed = 'part_0/sub_0/call_00000.wav';
    await writeFile(path.join(tree.dir, changed), 'new bytes');
    tree.files.set(changed, sha256(Buffer.from('new bytes')));
    await eventually(async () => stored() === before + 1, 'the changed file sent');
    await w.stop();
    const batches = await watchBatches(store);
    // the first batch closed when the first watch stopped with nothing pending: the new upload is a row of a new batch,
    // sent where the file was (no stale copy left on another host); the first row stays as history
    expect(batches).to.have.length(2);
    const rows = await store.knex('file_distributions').whereIn('batch_id', batches).where('file_path', changed).orderBy('id').select('batch_id', 'status', 'size_bytes', 'sha256', 'target');
    expect(rows.map((r) => [r.batch_id, r.status, Number(r.size_bytes)])).to.deep.equal([[batches[0], 'uploaded', 0], [batches[1], 'uploaded', 9]]);
    expect(rows[1].target, 'overwritten where it was').to.equal(rows[0].target);
    expect((await store.listFiles(batches[1])).map((r) => r.filePath)).to.deep.equal([changed]);
    await assertInvariants(store, batches[1], tree, targetDirs());
  });

  it('should roll batches at --batch-max-files and close each with its counts once nothing is pending', async () => {
    const w = await startWatch(tree.dir, ctx.url, recv.urls, { batchMaxFiles: 8 });
    await eventually(async () => {
      const ids = await watchBatches(store);
      const counts = await Promise.all(ids.map((id) => store.countFiles(id)));
      return counts.reduce((n, c) => n + c.uploaded, 0) === tree.files.size;
    }, 'every file uploaded');
    await writeFile(path.join(tree.dir, 'late.wav'), 'late'); // a batch after the roll
    await eventually(async () => (await store.knex('file_distributions').where('batch_id', 'like', 'w1-%').where({ file_path: 'late.wav', status: 'uploaded' })).length === 1, 'late file');
    await w.stop();
    const ids = await watchBatches(store);
    expect(ids.length).to.be.greaterThan(2);
    for (const id of ids) {
      const b = await store.getBatch(id);
      const c = await store.countFiles(id);
      expect(c.total, `${id} holds at most 8 files`).to.be.at.most(8);
      expect(b, id).to.deep.include({ status: 'completed', total: c.total, uploaded: c.uploaded, failed: 0 });
      expect(b?.finishedAt, `${id} closed`).to.be.a('number');
      expect(await store.listRuns(id), `${id} has its run`).to.have.length.greaterThan(0);
    }
    const st = await cli(['status', '--batch-id', ids[0], '--db', ctx.url, '--json']);
    expect(st.code, st.stderr).to.equal(0);
  });

  it('should stop on SIGTERM with exit 130, refuse a second watch of the same prefix, and refuse upload-only options with exit 2', async () => {
    const child = spawnCli(['watch', tree.dir, '--target', recv.urls.join(','), '--db', ctx.url, '--batch-prefix', 'w1', '--min-age', '0.2', '--rescan-s', '1', '--json']);
    await eventually(async () => (await store.knex('file_distributions').where('batch_id', 'like', 'w1-%').where('status', 'uploaded')).length === tree.files.size, 'uploaded');
    const second = await cli(['watch', tree.dir, '--target', recv.urls[0], '--db', ctx.url, '--batch-prefix', 'w1']);
    expect(second.code).to.equal(2);
    expect(second.stderr).to.contain('is running on');
    child.kill('SIGTERM');
    const r = await child.done;
    expect(r.code, r.stderr).to.equal(130);
    expect(JSON.parse(r.stdout.trim())).to.include({ prefix: 'w1', status: 'interrupted', uploaded: tree.files.size });
    const bad = await cli(['watch', tree.dir, '--target', recv.urls[0], '--db', ctx.url, '--resume']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr.trim().split('\n')).to.have.length(1);
  });
});
