import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { pathKey } from '../../../src/store/rows.js';

describe('pathKey', () => {
  it('should be the hex of the first 32 UTF-8 bytes, a dot, and the hex sha256 of the whole path', () => {
    const p = `${'d'.repeat(30)}/é.wav`; // the 32-byte cut falls inside 'é' (2 bytes)
    const bytes = Buffer.from(p, 'utf8');
    expect(pathKey(p)).to.equal(`${bytes.subarray(0, 32).toString('hex')}.${createHash('sha256').update(bytes).digest('hex')}`);
    expect(pathKey('a')).to.equal(`61.${createHash('sha256').update('a').digest('hex')}`);
    expect(pathKey(`${'x'.repeat(200)}.wav`)).to.have.length(64 + 1 + 64);
  });

  it('should tell apart paths that differ only in case, normalisation form, trailing spaces or after byte 32', () => {
    const long = 'y'.repeat(40);
    const twins = ['Café.wav', 'Cafe\u0301.wav', 'café.wav', 'Café.wav ', `${long}1`, `${long}2`];
    expect(new Set(twins.map(pathKey)).size).to.equal(twins.length);
  });

  it('should key a name that is not UTF-8 by its real bytes, apart from the U+FFFD a plain decode gives', () => {
    const latin1 = Buffer.from('636166e92e776176', 'hex'); // caf\xE9.wav
    expect(pathKey('caf\uDCE9.wav')).to.equal(`${latin1.toString('hex')}.${createHash('sha256').update(latin1).digest('hex')}`);
    expect(pathKey('caf\uDCE9.wav')).to.not.equal(pathKey('caf\uFFFD.wav'));
  });

  it('should sort keys in the byte order of their paths when they differ within the first 32 bytes', () => {
    const paths = ['a', 'a/b/c.wav', 'a-b.wav', 'a/b', 'b', 'Z.wav', 'été/1.wav', 'a/b/c.wav2'];
    const byBytes = [...paths].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    const byKey = [...paths].sort((x, y) => (pathKey(x) < pathKey(y) ? -1 : 1));
    expect(byKey).to.deep.equal(byBytes);
  });
});
