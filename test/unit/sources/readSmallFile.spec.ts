import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readSmallFile } from '../../../src/sources/readSmallFile.js';

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
});
