import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Subscription } from 'rxjs';
import { watchFiles } from '../../../src/sources/watchFiles.js';

describe('watchFiles', () => {
  let root: string;
  let sub: Subscription | undefined;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'fanout-watchfiles-'));
  });
  afterEach(async () => {
    sub?.unsubscribe();
    await rm(root, { recursive: true, force: true });
  });

  const seen = async (got: string[], want: string[]) => {
    const end = Date.now() + 10_000;
    while (!want.every((p) => got.includes(p)) && Date.now() < end) await sleep(20);
    return [...got].sort();
  };

  it('should find, through events alone (no rescan after the first), files in the root, in directories there at start (empty or deep) and in new nested directories', async () => {
    await mkdir(path.join(root, 'empty'));
    await mkdir(path.join(root, 'x/y/z'), { recursive: true });
    await writeFile(path.join(root, 'before.wav'), 'b');
    const got: string[] = [];
    const troubles: unknown[] = [];
    sub = watchFiles(root, { minAgeMs: 0, rescanMs: 3_600_000, unrecorded: async (f) => f, onTrouble: (_w, err) => troubles.push(err) }).subscribe((f) => got.push(f.path));
    expect(await seen(got, ['before.wav']), 'the first rescan').to.deep.equal(['before.wav']);
    await writeFile(path.join(root, 'a.wav'), 'a');
    await writeFile(path.join(root, 'empty/b.wav'), 'b');
    await writeFile(path.join(root, 'x/y/z/c.wav'), 'c');
    // a new directory with files written at once, before any watcher can be on it
    await mkdir(path.join(root, 'new/deeper'), { recursive: true });
    await writeFile(path.join(root, 'new/deeper/d.wav'), 'd');
    await sleep(200);
    await writeFile(path.join(root, 'new/deeper/e.wav'), 'e');
    const want = ['a.wav', 'before.wav', 'empty/b.wav', 'new/deeper/d.wav', 'new/deeper/e.wav', 'x/y/z/c.wav'];
    expect(await seen(got, want)).to.deep.equal(want);
    expect(troubles).to.deep.equal([]);
  });
});
