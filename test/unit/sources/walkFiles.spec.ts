import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile, chmod } from 'node:fs/promises';
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

  it('should report each file it leaves out on purpose, with why', async () => {
    const old = new Date(Date.now() - 3600_000);
    for (const p of ['B.wav', 'a.wav', 'b/1.wav', 'b/2.wav', 'c/x.wav', 'e.wav', 'é.wav']) await utimes(path.join(root, p), old, old);
    await symlink('a.wav', path.join(root, 'link.wav'));
    const skips: [string, string][] = [];
    const files = await collect(root, { include: ['*.wav'], exclude: ['b/2.wav'], minAgeMs: 60_000, onSkip: (reason, rel) => skips.push([reason, rel]) });
    expect(files).to.deep.equal(['B.wav', 'a.wav', 'b/1.wav', 'c/x.wav', 'e.wav', 'é.wav']);
    // c/d/e.txt is excluded by the include glob; link.wav is not followed, so not a regular file
    expect(skips).to.deep.equal([['excluded', 'b/2.wav'], ['excluded', 'c/d/e.txt'], ['notRegular', 'link.wav']]);
    await writeFile(path.join(root, 'new.wav'), 'fresh');
    const young: [string, string][] = [];
    await collect(root, { minAgeMs: 60_000, followSymlinks: true, onSkip: (reason, rel) => young.push([reason, rel]) });
    expect(young).to.deep.equal([['tooYoung', 'c/d/e.txt'], ['tooYoung', 'new.wav']]);
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

describe('walkFiles with symlink loops', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'fanout-loop-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const walk = async (opts: Parameters<typeof walkFiles>[1] = {}) => {
    const skips: [string, string][] = [];
    const files = await collect(root, { followSymlinks: true, onSkip: (reason, rel) => skips.push([reason, rel]), ...opts });
    return { files, skips };
  };

  it('should not enter a directory twice: a link to the parent is skipped as a loop, once', async () => {
    await mkdir(path.join(root, 'd'));
    await writeFile(path.join(root, 'd/f.wav'), 'hi');
    await symlink('..', path.join(root, 'd/up'));
    expect(await walk()).to.deep.equal({ files: ['d/f.wav'], skips: [['loop', 'd/up']] });
  });

  it('should end with two loops side by side, each file once', async () => {
    await writeFile(path.join(root, 'f.wav'), 'hi');
    await mkdir(path.join(root, 'sub'));
    await writeFile(path.join(root, 'sub/g.wav'), 'hi');
    await symlink('.', path.join(root, 'a'));
    await symlink('.', path.join(root, 'b'));
    expect(await walk()).to.deep.equal({ files: ['f.wav', 'sub/g.wav'], skips: [['loop', 'a'], ['loop', 'b']] });
  });

  it('should enter a directory reached through a link only once, through the name that sorts first', async () => {
    await mkdir(path.join(root, 'real'));
    await writeFile(path.join(root, 'real/f.wav'), 'hi');
    await symlink('real', path.join(root, 'alias'));
    expect(await walk()).to.deep.equal({ files: ['alias/f.wav'], skips: [['loop', 'real']] });
  });
});

describe('walkFiles with names that are not valid UTF-8', () => {
  let root: string;
  const raw = (...parts: (string | number[])[]) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'fanout-bytes-'));
    const at = (name: Buffer) => Buffer.concat([Buffer.from(`${root}/`), name]);
    await writeFile(at(raw('caf', [0xe9], '.wav')), 'latin-1');
    await writeFile(path.join(root, 'caf\uFFFD.wav'), 'replacement char');
    await mkdir(at(raw('d', [0xff])));
    await writeFile(at(raw('d', [0xff], '/x.wav')), 'inside');
    await writeFile(path.join(root, 'ok.wav'), 'fine');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('should yield each such file flagged, with a path of its own and a Buffer absPath that reads it', async () => {
    const errors: string[] = [];
    const files = [];
    for await (const f of walkFiles(root, { onError: (p) => errors.push(p) })) files.push(f);
    expect(errors).to.deep.equal([]);
    const byPath = new Map(files.map((f) => [f.path, f]));
    expect(byPath.size, 'unique paths').to.equal(4);
    expect(byPath.get('ok.wav')?.invalidName).to.equal(undefined);
    expect(byPath.get('caf\uFFFD.wav')).to.include({ size: 'replacement char'.length }).and.not.have.property('invalidName');
    const latin1 = byPath.get('caf\uDCE9.wav');
    expect(latin1).to.include({ size: 'latin-1'.length, invalidName: true, name: 'caf\uDCE9.wav' });
    expect(await readFile(latin1!.absPath)).to.deep.equal(Buffer.from('latin-1'));
    const inside = byPath.get('d\uDCFF/x.wav');
    expect(inside).to.include({ size: 'inside'.length, invalidName: true, name: 'x.wav' });
    expect(await readFile(inside!.absPath)).to.deep.equal(Buffer.from('inside'));
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
