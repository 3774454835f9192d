import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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
});
