import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { planUploads } from '../../src/operators/planUploads.js';
import { createStore } from '../../src/store/createStore.js';
import type { Store } from '../../src/store/types.js';
import type { Summary } from '../../src/types.js';
import { cli, type CliRun } from '../helpers/cli.js';
import { forEachDatabase } from '../helpers/db.js';
import { assertInvariants } from '../helpers/invariants.js';
import { startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { makeTree, type Tree } from '../helpers/tree.js';

const summaryOf = (r: CliRun): Summary => JSON.parse(r.stdout.trim().split('\n').pop() as string) as Summary;

/** Write `body` at `rel` in the tree and record its digest, as makeTree does. */
async function put(tree: Tree, rel: string, body: Buffer): Promise<void> {
  const abs = path.join(tree.dir, rel);
  await mkdir(path.dirname(abs), { recursive: true });
  await writeFile(abs, body);
  tree.files.set(rel, createHash('sha256').update(body).digest('hex'));
}

/** A relative path of about `chars` characters: nested folders, each name 200 characters at most. */
function longPath(chars: number): string {
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < chars - 210; i++) {
    const name = `${String(i).padStart(2, '0')}-${'d'.repeat(197)}`;
    parts.push(name);
    length += name.length + 1;
  }
  const file = `${'f'.repeat(chars - length - 4)}.wav`;
  return [...parts, file].join('/');
}

/**
 * Make the database refuse `file_distributions` rows of paths containing `marker` written
 * with `status`, as a server refuses a value it cannot store: a trigger that raises.
 */
async function refuseRows(store: Store, name: string, marker: string, status: string): Promise<void> {
  const msg = `refused by trigger ${name}`;
  for (const event of ['INSERT', 'UPDATE']) {
    const trigger = `${name}_${event.toLowerCase()}`;
    const when = `NEW.file_path LIKE '%${marker}%' AND NEW.status = '${status}'`;
    await store.knex.raw(
      store.dialect === 'mysql'
        ? `CREATE TRIGGER ${trigger} BEFORE ${event} ON file_distributions FOR EACH ROW BEGIN IF ${when} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '${msg}'; END IF; END`
        : `CREATE TRIGGER ${trigger} BEFORE ${event} ON file_distributions WHEN ${when} BEGIN SELECT RAISE(ABORT, '${msg}'); END`,
    );
  }
}

forEachDatabase('records at the edges', (ctx) => {
  let store: Store;
  before(async () => {
    store = await createStore(ctx.url);
    await store.migrate();
  });
  after(() => store.close());

  describe('a path longer than 1,024 characters', function () {
    this.timeout(60_000);
    let tree: Tree;
    let fleet: ReceiverFleet;
    before(async () => {
      tree = await makeTree(6, { sizes: [10, 1000] });
      fleet = await startReceivers(2);
    });
    after(async () => {
      await fleet.close();
      await rm(tree.dir, { recursive: true, force: true });
    });

    it('should upload and record it with its full path, and the rest of the batch with it', async () => {
      const long = longPath(1100);
      expect(long).to.have.length(1100);
      expect(Math.max(...long.split('/').map((n) => n.length))).to.be.at.most(255);
      await put(tree, long, randomBytes(500));

      const r = await cli(['upload', tree.dir, '--target', fleet.urls.join(','), '--db', ctx.url, '--json', '--batch-id', 'long1', '--db-retry-ms', '2000']);
      expect(r.code, r.stderr.slice(0, 2000)).to.equal(0);
      const s = summaryOf(r);
      expect(s).to.include({ status: 'completed', total: tree.files.size, uploaded: tree.files.size, failed: 0 });
      const row = (await store.findFiles('long1', [long])).get(long);
      expect(row?.filePath).to.equal(long);
      expect(row?.fileName).to.equal(path.basename(long));
      expect(row?.status).to.equal('uploaded');
      const [call] = (await store.knex('calls').where({ batch_id: 'long1', file_path: long }).select('file_path')) as { file_path: string }[];
      expect(call?.file_path).to.equal(long);
      await assertInvariants(store, 'long1', tree, new Map(fleet.urls.map((u, i) => [u, fleet.dirs[i]])), { complete: true, summaries: [s] });
    });
  });

  describe('the calls row of a file uploaded again', function () {
    this.timeout(60_000);
    let tree: Tree;
    let a: ReceiverFleet;
    let b: ReceiverFleet;
    const callOf = async (batchId: string) =>
      (await store.knex('calls').where({ batch_id: batchId }).select('file_path', 'target', 'status', 'sha256')) as Record<string, unknown>[];

    before(async () => {
      tree = { dir: await mkdtemp(path.join(os.tmpdir(), 'fanout-calls-')), files: new Map() };
      await put(tree, 'a.wav', Buffer.from('first take'));
      [a, b] = [await startReceivers(1), await startReceivers(1)];
    });
    after(async () => {
      await a.close();
      await b.close();
      await rm(tree.dir, { recursive: true, force: true });
    });

    it('should follow the latest upload: none while it failed, then its new target and bytes', async () => {
      const upload = (urls: string[], ...extra: string[]) =>
        cli(['upload', tree.dir, '--target', urls.join(','), '--db', ctx.url, '--json', '--batch-id', 'calls1', ...extra]);
      const first = await upload(a.urls);
      expect(first.code, first.stderr).to.equal(0);
      expect(await callOf('calls1')).to.deep.equal([{ file_path: 'a.wav', target: a.urls[0], status: 'queued', sha256: tree.files.get('a.wav') }]);

      // new bytes, and the host that holds the old ones goes away
      await put(tree, 'a.wav', Buffer.from('second, longer take'));
      await a.receivers[0].close();
      const down = await upload(a.urls, '--resume', '--retries', '0');
      expect(down.code, down.stderr).to.equal(1);
      expect(summaryOf(down)).to.include({ failed: 1, uploaded: 0 });
      expect((await store.findFiles('calls1', ['a.wav'])).get('a.wav')).to.include({ status: 'failed', target: a.urls[0] });
      expect(await callOf('calls1'), 'no hand-off of bytes that were not delivered').to.deep.equal([]);
      await assertInvariants(store, 'calls1', tree, new Map([[b.urls[0], b.dirs[0]]]), { complete: true, summaries: [summaryOf(down)] });

      const moved = await upload(b.urls, '--resume');
      expect(moved.code, moved.stderr).to.equal(0);
      const digest = tree.files.get('a.wav');
      expect((await store.findFiles('calls1', ['a.wav'])).get('a.wav')).to.include({ status: 'uploaded', target: b.urls[0], sha256: digest });
      expect(await callOf('calls1')).to.deep.equal([{ file_path: 'a.wav', target: b.urls[0], status: 'queued', sha256: digest }]);
      await assertInvariants(store, 'calls1', tree, new Map([[b.urls[0], b.dirs[0]]]), { complete: true, summaries: [summaryOf(moved)] });
    });

    it('should keep a processed call for the same bytes and queue it again for new ones', async () => {
      const upload = (...extra: string[]) =>
        cli(['upload', tree.dir, '--target', b.urls[0], '--db', ctx.url, '--json', '--batch-id', 'calls1', '--resume', ...extra]);
      await store.knex('calls').where({ batch_id: 'calls1' }).update({ status: 'done' });
      // a run killed after planning leaves the row pending: the next resume sends the same bytes again
      await store.knex('file_distributions').where({ batch_id: 'calls1' }).update({ status: 'pending' });
      const same = await upload();
      expect(same.code, same.stderr).to.equal(0);
      expect(summaryOf(same)).to.include({ uploaded: 1 });
      expect(await callOf('calls1')).to.deep.equal([{ file_path: 'a.wav', target: b.urls[0], status: 'done', sha256: tree.files.get('a.wav') }]);

      await put(tree, 'a.wav', Buffer.from('third take, new bytes'));
      const future = new Date(Date.now() + 60_000);
      await utimes(path.join(tree.dir, 'a.wav'), future, future);
      const changed = await upload();
      expect(changed.code, changed.stderr).to.equal(0);
      expect(await callOf('calls1')).to.deep.equal([{ file_path: 'a.wav', target: b.urls[0], status: 'queued', sha256: tree.files.get('a.wav') }]);
      await assertInvariants(store, 'calls1', tree, new Map([[b.urls[0], b.dirs[0]]]), { complete: true, summaries: [summaryOf(changed)] });
    });
  });

  describe('a row the database refuses', function () {
    this.timeout(60_000);
    let tree: Tree;
    let fleet: ReceiverFleet;
    before(async () => {
      tree = await makeTree(6, { sizes: [10, 1000] });
      await put(tree, 'refuse-upload.wav', randomBytes(300));
      fleet = await startReceivers(2);
      await refuseRows(store, 'refuse_upload', 'refuse-upload', 'uploaded');
      await refuseRows(store, 'refuse_plan', 'refuse-plan', 'pending');
    });
    after(async () => {
      await fleet.close();
      await rm(tree.dir, { recursive: true, force: true });
    });

    it("should be that file's failure, not the batch's: recorded failed, no retry, no SQL in the logs", async () => {
      const r = await cli(['upload', tree.dir, '--target', fleet.urls.join(','), '--db', ctx.url, '--json', '--batch-id', 'refused1', '--db-retry-ms', '20000']);
      expect(r.code, r.stderr.slice(0, 2000)).to.equal(1);
      const s = summaryOf(r);
      expect(s).to.include({ status: 'completed_with_failures', total: tree.files.size, uploaded: tree.files.size - 1, failed: 1 });
      const row = (await store.findFiles('refused1', ['refuse-upload.wav'])).get('refuse-upload.wav');
      expect(row?.status).to.equal('failed');
      expect(row?.error).to.match(/^database refused the record: .*refused by trigger refuse_upload$/);
      expect(r.stderr).to.not.contain('db_retry');
      expect(r.stderr.toLowerCase()).to.not.contain('insert into');
      await assertInvariants(store, 'refused1', tree, new Map(fleet.urls.map((u, i) => [u, fleet.dirs[i]])), { complete: true, summaries: [s] });
    });

    it('should mark a file whose pending row is refused, and plan the others', async () => {
      const file = (name: string) => ({ path: name, absPath: path.join(tree.dir, name), name, size: 1, mtimeMs: 1 });
      const assignments = ['p1.wav', 'refuse-plan.wav', 'p2.wav'].map((n) => ({ file: file(n), target: fleet.urls[0] }));
      const out = await lastValueFrom(from(assignments).pipe(planUploads({ store, batchId: 'refused2', batchMs: 5, dbRetryMs: 20_000 }), toArray()));
      expect(out.map((a) => [a.file.path, a.planError?.replace(/^.*(refused by trigger \w+)$/, '$1') ?? null])).to.deep.equal([
        ['p1.wav', null],
        ['refuse-plan.wav', 'refused by trigger refuse_plan'],
        ['p2.wav', null],
      ]);
      expect((await store.listFiles('refused2')).map((f) => [f.filePath, f.status]).sort()).to.deep.equal([['p1.wav', 'pending'], ['p2.wav', 'pending']]);
    });
  });
});
