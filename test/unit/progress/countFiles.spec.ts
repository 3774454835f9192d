import { expect } from 'chai';
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { countFiles } from '../../../src/progress/countFiles.js';

describe('countFiles', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fanout-count-'));
    await mkdir(path.join(dir, 'a/b'), { recursive: true });
    for (let i = 0; i < 10; i++) await writeFile(path.join(dir, 'a', `f${i}.wav`), 'x');
    for (let i = 0; i < 5; i++) await writeFile(path.join(dir, 'a/b', `g${i}.txt`), 'x');
    await writeFile(path.join(dir, 'new.wav'), 'x'); // fresh: left out by a min age
    const old = Date.now() / 1000 - 3600;
    for (let i = 0; i < 10; i++) await utimes(path.join(dir, 'a', `f${i}.wav`), old, old);
    for (let i = 0; i < 5; i++) await utimes(path.join(dir, 'a/b', `g${i}.txt`), old, old);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('should count what the walker would match, with the same globs and min age', async () => {
    expect(await countFiles(dir, {})).to.equal(16);
    expect(await countFiles(dir, { include: ['*.wav'] })).to.equal(11);
    expect(await countFiles(dir, { exclude: ['a/b/**'] })).to.equal(11);
    expect(await countFiles(dir, { minAgeMs: 60_000 })).to.equal(15);
  });

  it('should report the count as it goes', async () => {
    const seen: number[] = [];
    await countFiles(dir, {}, { every: 5, onCount: (n) => seen.push(n) });
    expect(seen).to.deep.equal([5, 10, 15]);
  });

  it('should end on symlink loops, counting each file once', async () => {
    const loops = await mkdtemp(path.join(os.tmpdir(), 'fanout-count-loop-'));
    try {
      await mkdir(path.join(loops, 'd'));
      await writeFile(path.join(loops, 'd/f.wav'), 'hi');
      await symlink('..', path.join(loops, 'd/up'));
      await symlink('.', path.join(loops, 'a'));
      await symlink('.', path.join(loops, 'b'));
      expect(await countFiles(loops, { followSymlinks: true })).to.equal(1);
    } finally {
      await rm(loops, { recursive: true, force: true });
    }
  });

  it('should resolve null once aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    expect(await countFiles(dir, {}, { signal: ac.signal })).to.equal(null);
  });
});
