import { expect } from 'chai';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createStore } from '../../src/store/createStore.js';
import { cli, spawnCli } from '../helpers/cli.js';
import { assertInvariants } from '../helpers/invariants.js';
import { readTree, startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { summaryOf } from '../helpers/runs.js';
import { makeTree, type Tree } from '../helpers/tree.js';

/**
 * The list an upstream stage hands over: some of the tree's files (awkward names too), one
 * listed twice, a blank line, a CRLF line, one the --exclude leaves out, one that is gone,
 * and two that point outside the dir.
 */
function listOf(tree: Tree): { lines: string[]; taken: string[] } {
  const all = [...tree.files.keys()].filter((p) => p.endsWith('.wav')).sort();
  const taken = [...all.slice(0, 6), 'über/ça va.wav', 'trail .wav', 'hash#1.wav'];
  const lines = [...taken.slice(0, 3), taken[0], '', `${taken[3]}\r`, ...taken.slice(4), './part_1/../notes.txt', 'gone/missing.wav', '../outside.wav', '/etc/passwd'];
  return { lines, taken };
}

describe('upload --files-from', () => {
  let tree: Tree;
  let hosts: ReceiverFleet;

  beforeEach(async function () {
    this.timeout(60_000);
    tree = await makeTree(24);
    await writeFile(path.join(tree.dir, 'notes.txt'), 'not audio');
    hosts = await startReceivers(2);
  });
  afterEach(async () => {
    await hosts?.close();
    await rm(tree.dir, { recursive: true, force: true });
  });

  const check = async (db: string, out: ReturnType<typeof summaryOf>, taken: string[], batchId: string) => {
    // the listed files that exist, and nothing else, were sent; the gone and the refused are failed rows
    expect(out).to.include({ status: 'completed_with_failures', total: taken.length + 3, uploaded: taken.length, failed: 3, pending: 0, excluded: 1 });
    const held = new Set<string>();
    for (const dir of hosts.dirs) for (const p of (await readTree(dir)).keys()) held.add(p);
    expect([...held].sort()).to.deep.equal([...taken].sort());
    const store = await createStore(db);
    try {
      const failed = await store.listFiles(batchId, { status: 'failed' });
      expect(failed.map((r) => [r.filePath, r.error?.replace(/ \(.*$/, '')]).sort()).to.deep.equal([
        ['../outside.wav', `refused: the path climbs out of ${tree.dir}`],
        ['/etc/passwd', `refused: an absolute path in the file list, where paths are relative to ${tree.dir}`],
        ['gone/missing.wav', `listed but not found under ${tree.dir}`],
      ]);
      expect(failed.every((r) => r.attempts === 0 && r.target === null)).to.equal(true);
      await assertInvariants(store, batchId, tree, new Map(hosts.urls.map((u, i) => [u, hosts.dirs[i]])), { summaries: [out] });
    } finally {
      await store.close();
    }
  };

  it('should upload exactly the files a list file names, and fail (never drop) the ones it cannot take', async function () {
    this.timeout(60_000);
    const { lines, taken } = listOf(tree);
    const list = path.join(tree.dir, 'list.txt');
    await writeFile(list, `${lines.join('\n')}\n`);
    const db = `sqlite:${path.join(tree.dir, 'f.sqlite')}`;
    const r = await cli(['upload', tree.dir, '--target', hosts.urls.join(','), '--db', db, '--json', '--files-from', list, '--exclude', '*.txt', '--batch-id', 'listed']);
    expect(r.code, r.stderr).to.equal(1);
    await check(db, summaryOf(r), taken, 'listed');
  });

  it('should read the list from stdin with --files-from -', async function () {
    this.timeout(60_000);
    const { lines, taken } = listOf(tree);
    const db = `sqlite:${path.join(tree.dir, 's.sqlite')}`;
    const child = spawnCli(['upload', tree.dir, '--target', hosts.urls.join(','), '--db', db, '--json', '--files-from', '-', '--exclude', '*.txt', '--batch-id', 'piped'], {}, { stdin: lines.join('\n') });
    const r = await child.done;
    expect(r.code, r.stderr).to.equal(1);
    await check(db, summaryOf(r), taken, 'piped');
  });

  it('should refuse a list that does not exist: one line, exit 2', async () => {
    const r = await cli(['upload', tree.dir, '--target', hosts.urls[0], '--db', `sqlite:${path.join(tree.dir, 'x.sqlite')}`, '--files-from', path.join(tree.dir, 'nope.txt')]);
    expect(r.code).to.equal(2);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.include('--files-from: file not found');
  });
});
