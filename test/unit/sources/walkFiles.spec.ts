import { expect } from 'chai';
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathMatcher, walkFiles, byteOrder } from '../../../src/sources/walkFiles.js';

async function collect(dir: string, opts?: Parameters<typeof walkFiles>[1]): Promise<string[]> {
  const out: string[] = [];
  for await (const f of walkFiles(dir, opts)) out.push(f.path);
  return out;
}

describe('walkFiles', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'fanout-walk-'));
    for (const p of ['b/2.wav', 'b/1.wav', 'a.wav', 'B.wav', 'c/d/e.txt', 'c/x.wav', 'é.wav', 'e.wav']) {
      await mkdir(path.dirname(path.join(root, p)), { recursive: true });
      await writeFile(path.join(root, p), p);
    }
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('should walk depth first with each directory in byte order of names', async () => {
    expect(await collect(root)).to.deep.equal(['B.wav', 'a.wav', 'b/1.wav', 'b/2.wav', 'c/d/e.txt', 'c/x.wav', 'e.wav', 'é.wav']);
  });

  it('should report size, mtime and absolute path', async () => {
    const [first] = await (async () => {
      const out = [];
      for await (const f of walkFiles(root)) out.push(f);
      return out;
    })();
    expect(first).to.include({ path: 'B.wav', name: 'B.wav', size: 5, absPath: path.join(root, 'B.wav') });
    expect(first.mtimeMs).to.be.a('number').and.above(0);
  });

  it('should match a glob without / against the name at any depth, and one with / against the path', async () => {
    expect(await collect(root, { include: ['*.wav'], exclude: ['b/*'] })).to.deep.equal(['B.wav', 'a.wav', 'c/x.wav', 'e.wav', 'é.wav']);
    expect(await collect(root, { include: ['c/**'] })).to.deep.equal(['c/d/e.txt', 'c/x.wav']);
  });

  it('should not follow symlinks unless asked', async () => {
    const outside = await mkdtemp(path.join(tmpdir(), 'fanout-out-'));
    await writeFile(path.join(outside, 'secret.wav'), 'x');
    await symlink(outside, path.join(root, 'link'));
    try {
      expect(await collect(root)).to.not.include('link/secret.wav');
      expect(await collect(root, { followSymlinks: true })).to.include('link/secret.wav');
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('should skip files younger than minAgeMs', async () => {
    const old = new Date(Date.now() - 3600_000);
    await utimes(path.join(root, 'a.wav'), old, old);
    expect(await collect(root, { minAgeMs: 60_000 })).to.deep.equal(['a.wav']);
  });

  it('should report an unreadable directory and go on', async function () {
    if (process.getuid?.() === 0) this.skip(); // root reads everything
    await chmod(path.join(root, 'b'), 0);
    const errors: string[] = [];
    const files = await collect(root, { onError: (p) => errors.push(p) });
    await chmod(path.join(root, 'b'), 0o755);
    expect(errors).to.deep.equal(['b']);
    expect(files).to.include('c/x.wav');
  });
});

describe('pathMatcher', () => {
  it('should take everything with no globs', () => {
    expect(pathMatcher()('x/y.z')).to.equal(true);
  });
  it('should let exclude win over include', () => {
    const m = pathMatcher(['*.wav'], ['tmp_*']);
    expect(m('a/tmp_1.wav')).to.equal(false);
    expect(m('a/ok.wav')).to.equal(true);
    expect(m('a/ok.mp3')).to.equal(false);
  });
});

describe('byteOrder', () => {
  const sign = (n: number) => Math.sign(n);
  const utf8 = (a: string, b: string) => sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));

  it('should order names as their UTF-8 bytes, surrogate pairs after U+E000-U+FFFF', () => {
    // U+FF21 (3 UTF-8 bytes, EF BC A1) vs U+1F600 (a surrogate pair in UTF-16, 4 bytes F0 9F 98 80):
    // UTF-16 code units say the emoji comes first, UTF-8 bytes say it comes last
    const names = ['a', 'A', 'a-b', 'a/b', 'ab', 'é', 'e\u0301', '\uFF21', '\u{1F600}', '\u{1F600}x', '\uE000', '\uD7FF', '通話', 'z', ''];
    for (const a of names) for (const b of names) expect(sign(byteOrder(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).to.equal(utf8(a, b));
  });

  it('should agree with Buffer.compare on random names mixing every range', () => {
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const points = [0x41, 0x7a, 0xe9, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0x10000, 0x1f600, 0x10ffff];
    const name = () => Array.from({ length: 1 + rnd(4) }, () => String.fromCodePoint(points[rnd(points.length)])).join('');
    for (let i = 0; i < 5000; i++) {
      const [a, b] = [name(), name()];
      expect(sign(byteOrder(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).to.equal(utf8(a, b));
    }
  });
});
