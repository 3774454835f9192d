import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SmallReads, readSmallFile, readSmallFileAsync } from '../../../src/http/readSmallFile.js';

describe('readSmallFile', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fanout-read-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('should read the whole file, into a reused buffer when given one', async () => {
    const body = randomBytes(70_000);
    await writeFile(path.join(dir, 'a'), body);
    expect(readSmallFile(path.join(dir, 'a'), body.length).equals(body)).to.equal(true);
    const into = Buffer.alloc(1 << 17, 7);
    const got = readSmallFile(path.join(dir, 'a'), body.length, into);
    expect(got.equals(body)).to.equal(true);
    expect(got.buffer).to.equal(into.buffer);
  });

  it('should show a file that grew or shrank since it was listed by its length', async () => {
    await writeFile(path.join(dir, 'b'), Buffer.alloc(100));
    expect(readSmallFile(path.join(dir, 'b'), 90).length).to.equal(91); // grew: one byte past the expected size
    expect(readSmallFile(path.join(dir, 'b'), 120).length).to.equal(100); // shrank
  });

  it('should throw for a file that is gone', () => {
    expect(() => readSmallFile(path.join(dir, 'missing'), 1)).to.throw(/ENOENT/);
  });

  it('should read the same bytes through the thread pool, and see a file that grew', async () => {
    const body = randomBytes(70_000);
    await writeFile(path.join(dir, 'b'), body);
    expect((await readSmallFileAsync(path.join(dir, 'b'), body.length)).equals(body)).to.equal(true);
    expect((await readSmallFileAsync(path.join(dir, 'b'), body.length - 10)).length).to.equal(body.length - 9);
  });

  it('should read through the thread pool for a spell once sync reads are slow, and stay sync while they are fast', async () => {
    const body = randomBytes(1000);
    await writeFile(path.join(dir, 'c'), body);
    let t = 0;
    let step = 0.01; // each sync read seems to take `step` ms
    const reads = new SmallReads(() => (t += step)); // two readings a read: it takes `step`
    for (let i = 0; i < 50; i++) expect((await reads.read(path.join(dir, 'c'), body.length)).equals(body)).to.equal(true);
    expect(reads.mode).to.equal('sync'); // the page cache: 10 us a read
    step = 2; // a cold disk or NFS: 2 ms a read
    let n = 0;
    while (reads.mode === 'sync' && n < 20) {
      await reads.read(path.join(dir, 'c'), body.length);
      n++;
    }
    expect(reads.mode).to.equal('async');
    expect(n).to.be.at.most(3); // within a few slow reads
    for (let i = 0; i < 256; i++) expect((await reads.read(path.join(dir, 'c'), body.length)).equals(body)).to.equal(true);
    expect(reads.mode).to.equal('sync'); // the spell is over: a sync read is tried again
  });
});
