import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStore } from '../../src/store/createStore.js';
import type { Store } from '../../src/store/types.js';
import { cli, spawnCli } from '../helpers/cli.js';
import { forEachDatabase } from '../helpers/db.js';
import { assertInvariants } from '../helpers/invariants.js';
import { mariadbFixture } from '../helpers/mariadb.js';
import { readTree } from '../helpers/receivers.js';
import { until } from '../helpers/runs.js';
import { TcpProxy } from '../helpers/tcpProxy.js';
import { makeTree, sha256, type Tree } from '../helpers/tree.js';

forEachDatabase('fanout plan', (ctx) => {
  let tree: Tree;
  let store: Store;
  before(async () => {
    tree = await makeTree(20);
    store = await createStore(ctx.url);
  });
  after(async () => {
    await store.close();
    await rm(tree.dir, { recursive: true, force: true });
  });

  it('should write one pending row per file; planning again adds new and changed files only, never claimed or done rows', async () => {
    const urls = ['http://127.0.0.1:9/a', 'http://127.0.0.1:9/b'];
    const r = await cli(['plan', tree.dir, '--batch-id', 'p1', '--target', urls.join(','), '--db', ctx.url, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.include({ total: tree.files.size, added: tree.files.size, changed: 0 });
    const rows = await store.listFiles('p1');
    expect(rows.map((x) => x.status)).to.satisfy((s: string[]) => s.every((x) => x === 'pending'));
    expect(new Set(rows.map((x) => x.target))).to.deep.equal(new Set(urls));
    expect(await store.getBatch('p1')).to.deep.include({ status: 'planned', targets: urls, assign: 'round-robin' });
    // one row done, one claimed by a worker, one plain pending; all three files change, one is new
    const [done, claimed, plain] = rows.map((x) => x.filePath).filter((p) => p.startsWith('part_'));
    await store.knex('file_distributions').where({ batch_id: 'p1', file_path: done }).update({ status: 'uploaded' });
    await store.knex('file_distributions').where({ batch_id: 'p1', file_path: claimed }).update({ claimed_by: 'w1', claim_expires_at: Date.now() + 60_000 });
    for (const p of [done, claimed, plain]) await writeFile(path.join(tree.dir, p), 'changed bytes, another size');
    await writeFile(path.join(tree.dir, 'new.wav'), 'new');
    const again = await cli(['plan', '--batch-id', 'p1', '--db', ctx.url, '--json']);
    expect(again.code, again.stderr).to.equal(0);
    expect(JSON.parse(again.stdout)).to.include({ total: tree.files.size + 1, added: 1, changed: 1, kept: tree.files.size - 1 });
    const after = new Map((await store.listFiles('p1')).map((x) => [x.filePath, x]));
    const before = new Map(rows.map((x) => [x.filePath, x]));
    expect(after.get(plain)?.sizeBytes).to.equal('changed bytes, another size'.length);
    expect(after.get(claimed)?.sizeBytes, 'a claimed row is the worker\'s').to.equal(before.get(claimed)?.sizeBytes);
    expect(after.get(done)).to.deep.include({ status: 'uploaded', sizeBytes: before.get(done)?.sizeBytes });
    expect(after.get('new.wav')).to.include({ status: 'pending' });
  });

  it('should refuse `work` on SQLite with exit 2 and one line, and on MySQL refuse a --root that does not hold the tree', async () => {
    if (ctx.dialect === 'sqlite') {
      const r = await cli(['work', '--batch-id', 'p1', '--root', tree.dir, '--db', ctx.url]);
      expect(r.code).to.equal(2);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
      expect(r.stderr).to.contain('needs MySQL/MariaDB');
      return;
    }
    const empty = await mkdtemp(path.join(os.tmpdir(), 'fanout-empty-'));
    try {
      const wrong = await cli(['work', '--batch-id', 'p1', '--root', empty, '--db', ctx.url]);
      expect(wrong.code, wrong.stderr).to.equal(2);
      expect(wrong.stderr).to.contain(`--root "${empty}" does not hold the batch's files`);
      expect(await store.knex('file_distributions').where({ batch_id: 'p1' }).whereNot({ claimed_by: 'w1' }).whereNotNull('claimed_by').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('fanout work: a worker that joins late (MariaDB)', function () {
  this.timeout(120_000);
  const fx = mariadbFixture(586, 2, { slots: 1, delayMs: 40 }); // ~12 s for one worker alone

  it('should be handed its share of the targets within seconds at the default 30 s lease, and the batch done once', async () => {
    const { mysql, fleet, tree, store } = fx;
    const db = mysql!.url;
    const planned = await cli(['plan', tree.dir, '--batch-id', 'late', '--target', fleet.urls.join(','), '--db', db]);
    expect(planned.code, planned.stderr).to.equal(0);
    const worker = () => spawnCli(['work', '--batch-id', 'late', '--root', tree.dir, '--db', db, '--per-target', '1', '--json']);
    const first = worker();
    await until(() => fleet.receivers.reduce((n, r) => n + r.stats().files, 0) >= 20, 'the first worker under way, holding both targets', 60_000);
    const t0 = Date.now();
    const late = worker();
    let takenAfterMs: number | undefined;
    late.stderr?.on('data', (d: Buffer) => {
      if (takenAfterMs === undefined && d.toString().includes('"target_taken"')) takenAfterMs = Date.now() - t0;
    });
    const [a, b] = await Promise.all([first.done, late.done]);
    for (const r of [a, b]) expect(r.code, r.stderr.slice(-2000)).to.equal(0);
    // the holder hands a target over on its ticks: a third of the lease (10 s) twice over before,
    // at most 2 s apart now (the late one's own start, tsx included, is in the figure)
    expect(takenAfterMs, 'the late worker took a target').to.be.a('number');
    expect(takenAfterMs).to.be.below(9000);
    expect(JSON.parse(b.stdout).uploaded, 'the late worker uploaded its share').to.be.above(0);
    expect(JSON.parse(a.stdout).uploaded + JSON.parse(b.stdout).uploaded).to.equal(tree.files.size);
    await assertInvariants(store, 'late', tree, fx.targets(), { complete: true });
  });
});

describe('fanout work: three workers, one killed (MariaDB)', function () {
  this.timeout(120_000);
  const fx = mariadbFixture(486, 3, { slots: 1, delayMs: 15 }); // 500 files with the awkward names

  it('should upload and record every file exactly once, never more than one upload in flight per target, after kill -9 of one worker', async () => {
    const { mysql, fleet, tree, store } = fx;
    const db = mysql!.url;
    const planned = await cli(['plan', tree.dir, '--batch-id', 'w3', '--target', fleet.urls.join(','), '--db', db]);
    expect(planned.code, planned.stderr).to.equal(0);
    const worker = () => spawnCli(['work', '--batch-id', 'w3', '--root', tree.dir, '--db', db, '--per-target', '1', '--lease-ms', '2000', '--json']);
    const workers = [worker(), worker(), worker()];
    const victim = workers[1];
    // a third of the way in, with the victim holding claims
    await until(() => fleet.receivers.reduce((n, r) => n + r.stats().files, 0) >= tree.files.size / 3, 'a third uploaded', 60_000);
    const victimId = async () => (await store.knex('workers').where({ batch_id: 'w3', pid: victim.pid }).first('id'))?.id as string | undefined;
    const id = await victimId();
    expect(id, 'the victim registered').to.be.a('string');
    const inFlightAtKill = (await store.knex('file_distributions').where({ batch_id: 'w3', claimed_by: id, status: 'pending' }).pluck('file_path')) as string[];
    victim.kill('SIGKILL');
    const [a, , c] = await Promise.all(workers.map((w) => w.done));
    for (const r of [a, c]) expect(r.code, r.stderr.slice(-2000)).to.equal(0);
    // each worker's log ends with what its claims cost: every file it finished came from one
    for (const r of [a, c]) {
      const done = r.stderr.split('\n').filter((l) => l.includes('"worker_complete"')).map((l) => JSON.parse(l) as { uploaded: number; claims: { claims: number; rows: number; totalMs: number; p50Ms: number; p95Ms: number; maxMs: number } });
      expect(done, 'one worker_complete line').to.have.length(1);
      const { uploaded, claims } = done[0];
      expect(claims.claims).to.be.above(0);
      expect(claims.rows).to.be.at.least(uploaded);
      expect(claims.totalMs).to.be.above(0);
      expect(claims.p50Ms).to.be.at.most(claims.p95Ms);
      expect(claims.p95Ms).to.be.at.most(claims.maxMs);
    }
    const counts = await store.countFiles('w3');
    expect(counts).to.include({ total: tree.files.size, uploaded: tree.files.size, pending: 0, failed: 0 });
    expect(await store.countCalls('w3')).to.equal(tree.files.size);
    for (const r of fleet.receivers) expect(r.stats().inFlightMax, 'per-target limit across the cluster').to.be.at.most(1);
    expect(await store.getBatch('w3')).to.include({ status: 'completed', uploaded: tree.files.size });
    // twice only for files the dead worker had claimed
    const copies = new Map<string, number>();
    for (const dir of fleet.dirs) for (const p of (await readTree(dir)).keys()) copies.set(p, (copies.get(p) ?? 0) + 1);
    const twice = [...copies].filter(([, n]) => n > 1).map(([p]) => p);
    expect(twice.filter((p) => !inFlightAtKill.includes(p)), 'duplicates only of the dead worker\'s files').to.deep.equal([]);
    await assertInvariants(store, 'w3', tree, fx.targets(), { complete: true, allowDuplicates: true });
    const gone = await store.knex('workers').where({ id }).first('stopped_at');
    expect(gone?.stopped_at, 'the dead worker was pruned').to.not.equal(null);
    const status = await cli(['status', '--batch-id', 'w3', '--db', db, '--json']);
    expect(status.code, status.stderr).to.equal(0);
    const ws = JSON.parse(status.stdout).workers as { pid: number; state: string; done: number }[];
    expect(ws.map((w) => w.state).sort()).to.deep.equal(['gone', 'stopped', 'stopped']);
    expect(ws.find((w) => w.pid === victim.pid)?.state).to.equal('gone');
    expect(ws.reduce((n, w) => n + w.done, 0)).to.equal(tree.files.size);
    const text = await cli(['status', '--batch-id', 'w3', '--db', db]);
    expect(text.stdout).to.match(/workers:\n.*host.*pid.*last heartbeat.*targets held.*files done.*state/);
  });
});

describe('fanout work: the database goes away (MariaDB)', function () {
  this.timeout(120_000);
  const fx = mariadbFixture(120, 2, { slots: 1, delayMs: 30 });
  let proxy: TcpProxy | undefined;
  after(() => proxy?.cut());

  it('should stop claiming, retry for --db-retry-ms, exit 1, and lose nothing it had claimed: a later worker completes the batch', async () => {
    const { mysql, fleet, tree, store } = fx;
    const db = mysql!.url;
    const planned = await cli(['plan', tree.dir, '--batch-id', 'dbgone', '--target', fleet.urls.join(','), '--db', db]);
    expect(planned.code, planned.stderr).to.equal(0);
    const url = new URL(db);
    proxy = new TcpProxy(Number(url.port || 3306), url.hostname);
    url.port = String(await proxy.start());
    const run = spawnCli(['work', '--batch-id', 'dbgone', '--root', tree.dir, '--db', url.toString(), '--per-target', '1', '--lease-ms', '1500', '--db-retry-ms', '1500', '--json']);
    await until(() => fleet.receivers.reduce((n, r) => n + r.stats().files, 0) >= 20, 'some files uploaded', 60_000);
    await proxy.cut();
    const started = Date.now();
    const r = await run.done;
    expect(r.code, r.stderr.slice(-2000)).to.equal(1);
    expect(Date.now() - started, 'it gave up after --db-retry-ms, not at once nor much later').to.be.within(1000, 30_000);
    expect(r.stderr).to.match(/db_retry/);
    // nothing lost: every row is recorded or still pending (its claim runs out), none in another state
    const counts = await store.countFiles('dbgone');
    expect(counts.total).to.equal(tree.files.size);
    expect(counts.uploaded + counts.pending + counts.failed).to.equal(tree.files.size);
    expect(counts.pending, 'the cut left work to do').to.be.above(0);
    // a later worker (the database back) takes over the dead claims once their lease ends, and completes it
    await proxy.restore();
    const again = await cli(['work', '--batch-id', 'dbgone', '--root', tree.dir, '--db', db, '--per-target', '1', '--lease-ms', '1500', '--json']);
    expect(again.code, again.stderr.slice(-2000)).to.equal(0);
    expect(await store.countFiles('dbgone')).to.include({ uploaded: tree.files.size, pending: 0, failed: 0 });
    expect(await store.countCalls('dbgone')).to.equal(tree.files.size);
    // files in flight when the database went away may arrive twice; every one is recorded once
    await assertInvariants(store, 'dbgone', tree, fx.targets(), { complete: true, allowDuplicates: true });
  });
});

describe('fanout upload --resume beside live workers (MariaDB)', function () {
  this.timeout(120_000);
  const fx = mariadbFixture(60, 2, { slots: 1, delayMs: 40 });

  it('should join a batch that `fanout work` processes are working as one more worker, so no file is sent twice', async () => {
    const { mysql, fleet, tree, store } = fx;
    const db = mysql!.url;
    expect((await cli(['plan', tree.dir, '--batch-id', 'mixed', '--target', fleet.urls.join(','), '--db', db])).code).to.equal(0);
    const worker = spawnCli(['work', '--batch-id', 'mixed', '--root', tree.dir, '--db', db, '--per-target', '1', '--json']);
    await until(() => fleet.receivers.reduce((n, r) => n + r.stats().files, 0) >= 5, 'the worker under way', 60_000);
    expect(worker.exitCode, 'the worker is still running').to.equal(null);
    const r = await cli(['upload', tree.dir, '--batch-id', 'mixed', '--resume', '--db', db, '--json']);
    expect(r.code, r.stderr.slice(-2000)).to.equal(0);
    const w = await worker.done;
    expect(w.code, w.stderr.slice(-2000)).to.equal(0);
    const s = JSON.parse(r.stdout);
    expect(s.uploaded + s.skipped, 'the resume\'s summary covers the batch').to.equal(tree.files.size);
    expect(s.uploaded + JSON.parse(w.stdout).uploaded, 'between them, every file once').to.equal(tree.files.size);
    await assertInvariants(store, 'mixed', tree, fx.targets(), { complete: true, summaries: [s] });
  });
});

describe('fanout work --batch-prefix --follow: workers on a watch\'s rolling batches (MariaDB)', function () {
  this.timeout(120_000);
  const fx = mariadbFixture(0, 2, { slots: 2, delayMs: 5 });

  it('should refuse --batch-id with --batch-prefix, a bad prefix, and a prefix no watch uses: exit 2, one line naming it, nothing written', async () => {
    const db = fx.mysql!.url;
    const base = ['work', '--root', fx.tree.dir, '--db', db, '--target', fx.fleet.urls[0], '--follow'];
    for (const [args, says] of [
      [['--batch-id', 'b1', '--batch-prefix', 'fw'], 'not both'],
      [['--batch-prefix', 'a/b'], 'bad --batch-prefix "a/b"'],
      [['--batch-prefix', 'nosuch'], 'no watch "nosuch" in this database'],
    ] as const) {
      const r = await cli([...base, ...args]);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stdout).to.equal('');
      expect(r.stderr.trim().split('\n'), r.stderr).to.have.length(1);
      expect(r.stderr).to.contain(says);
    }
    expect(await fx.store.knex('workers').count({ n: '*' })).to.deep.equal([{ n: 0 }]);
  });

  it('should move on as the watch rolls: files planned across several batches all uploaded and recorded once, rolled batches closed, exit 130 on SIGINT', async () => {
    const { mysql, fleet, tree, store } = fx;
    const db = mysql!.url;
    const files = new Map(tree.files); // the awkward names, there before the watch starts
    const write = async (from: number, n: number) => {
      for (let i = from; i < from + n; i++) {
        const rel = `in/call_${String(i).padStart(3, '0')}.wav`;
        const body = Buffer.from(`recording ${i} `.repeat(50 + i));
        await mkdir(path.join(tree.dir, 'in'), { recursive: true });
        await writeFile(path.join(tree.dir, rel), body);
        files.set(rel, sha256(body));
      }
    };
    // the watch only plans, into batches of at most 8 files; the worker (started once the watch is up) uploads
    const watch = spawnCli(['watch', tree.dir, '--target', fleet.urls.join(','), '--db', db, '--batch-prefix', 'fw', '--plan-only',
      '--min-age', '0.2', '--rescan-s', '1', '--batch-max-files', '8', '--log-level', 'warn']);
    let worker: ReturnType<typeof spawnCli> | undefined;
    try {
      const end = Date.now() + 30_000;
      while (!(await store.knex('workers').where({ id: 'watch:fw' }).first('id').catch(() => undefined))) {
        if (Date.now() > end || watch.exitCode !== null) throw new Error(`the watch did not start: ${(await watch.done).stderr}`);
        await sleep(100);
      }
      worker = spawnCli(['work', '--batch-prefix', 'fw', '--follow', '--root', tree.dir, '--db', db, '--per-target', '2', '--lease-ms', '3000', '--json']);
      const w0 = worker;
      const uploaded = async () => Number(((await store.knex('file_distributions').where('status', 'uploaded').count({ n: '*' })) as { n: unknown }[])[0].n);
      const waitFor = async (n: number, what: string) => {
        const end = Date.now() + 60_000;
        while ((await uploaded()) < n) {
          if (Date.now() > end || w0.exitCode !== null) throw new Error(`timed out waiting for ${what}: ${await uploaded()} uploaded; worker: ${w0.exitCode} ${(w0.exitCode === null ? '' : (await w0.done).stderr).slice(-2000)}`);
          await sleep(100);
        }
      };
      // the worker registers on the watch once it has a batch; files keep coming while it works
      for (let k = 0; k < 5; k++) {
        await write(k * 10, 10);
        await sleep(400);
      }
      await waitFor(files.size, `the first ${files.size} files`);
      // idle for a while on the newest batch, then more files: the watch rolls (the batch is full) and the worker follows
      await sleep(1500);
      await write(50, 12);
      await waitFor(files.size, `all ${files.size} files`);
      worker.kill('SIGINT');
      const w = await w0.done;
      expect(w.code, w.stderr.slice(-2000)).to.equal(130);
      const summary = JSON.parse(w.stdout) as { status: string; uploaded: number; prefix: string; batches: string[] };
      expect(summary).to.include({ status: 'interrupted', uploaded: files.size, prefix: 'fw' });
      const batches = (await store.knex('batches').where('id', 'like', 'fw-%').orderBy('id').pluck('id')) as string[];
      expect(batches.length, 'the watch rolled').to.be.at.least(8);
      expect(summary.batches, 'the worker worked every batch, in order').to.deep.equal(batches);

      // with no worker running, files wait as rows; a worker without --follow drains the watch's batches and exits 0
      await write(100, 10);
      const planBy = Date.now() + 30_000;
      while (Number(((await store.knex('file_distributions').where('status', 'pending').count({ n: '*' })) as { n: unknown }[])[0].n) < 10) {
        if (Date.now() > planBy) throw new Error('the watch did not plan the last 10 files');
        await sleep(100);
      }
      watch.kill('SIGINT');
      expect((await watch.done).code).to.equal(130);
      // a --root that does not hold the watch's files: exit 2, nothing sent or failed
      const empty = await mkdtemp(path.join(os.tmpdir(), 'fanout-empty-'));
      const wrong = await cli(['work', '--batch-prefix', 'fw', '--root', empty, '--db', db, '--json']);
      await rm(empty, { recursive: true, force: true });
      expect(wrong.code, wrong.stderr.slice(-2000)).to.equal(2);
      expect(wrong.stderr).to.contain(`--root "${empty}" does not hold the batch's files`);
      expect(await store.knex('file_distributions').where('status', 'pending').count({ n: '*' })).to.deep.equal([{ n: 10 }]);
      const drain = await cli(['work', '--batch-prefix', 'fw', '--root', tree.dir, '--db', db, '--json']);
      expect(drain.code, drain.stderr.slice(-2000)).to.equal(0);
      expect(JSON.parse(drain.stdout)).to.include({ status: 'completed', uploaded: 10, failed: 0 });
      expect(await uploaded()).to.equal(files.size);
      // every file: one row, in one batch, uploaded; DESIGN's invariants batch by batch, no file sent twice
      const rows = (await store.knex('file_distributions').select('batch_id', 'file_path', 'status')) as { batch_id: string; file_path: string; status: string }[];
      expect(rows.map((r) => r.file_path).sort()).to.deep.equal([...files.keys()].sort());
      expect(rows.filter((r) => r.status !== 'uploaded')).to.deep.equal([]);
      for (const b of (await store.knex('batches').where('id', 'like', 'fw-%').orderBy('id').pluck('id')) as string[]) {
        const mine = new Map([...files].filter(([p]) => rows.some((r) => r.batch_id === b && r.file_path === p)));
        await assertInvariants(store, b, { dir: tree.dir, files: mine }, fx.targets(), { complete: true });
      }
      // one worker registration per batch, all this process's, all stopped
      const regs = (await store.knex('workers').where('pid', w0.pid).select('batch_id', 'stopped_at')) as { batch_id: string; stopped_at: unknown }[];
      expect(regs.map((r) => r.batch_id).sort()).to.deep.equal(batches);
      expect(regs.filter((r) => r.stopped_at === null)).to.deep.equal([]);
      // the batches it left are closed with their counts; `status` reads them as any batch
      for (const b of batches.slice(0, -1)) {
        const n = rows.filter((r) => r.batch_id === b).length;
        expect(await store.getBatch(b), b).to.deep.include({ status: 'completed', total: n, uploaded: n, failed: 0 });
        expect((await store.getBatch(b))?.finishedAt, b).to.be.a('number');
      }
    } finally {
      for (const p of [worker, watch]) if (p && p.exitCode === null) p.kill('SIGKILL');
    }
  });
});
