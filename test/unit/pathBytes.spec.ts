import { expect } from 'chai';
import { decodeName, hasEscapedBytes, pathBytes, printablePath } from '../../src/pathBytes.js';

describe('pathBytes', () => {
  const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

  it('should leave valid UTF-8 names alone, U+FFFD and astral characters included', () => {
    for (const name of ['a.wav', 'café.wav', 'caf\uFFFD.wav', '通話 \u{1F600}.wav', '\u{10080}']) {
      expect(decodeName(Buffer.from(name))).to.deep.equal({ name, valid: true });
      expect(pathBytes(name)).to.deep.equal(Buffer.from(name));
      expect(printablePath(name)).to.equal(name);
      expect(hasEscapedBytes(name)).to.equal(false);
    }
  });

  it('should escape each invalid byte as U+DC80..U+DCFF and give the same bytes back', () => {
    const cases: [string, string][] = [
      ['63 61 66 e9 2e 77 61 76', 'caf\uDCE9.wav'], // Latin-1 é
      ['64 ff', 'd\uDCFF'],
      ['c3', '\uDCC3'], // a lead byte with nothing after it
      ['e2 82 41', '\uDCE2\uDC82A'], // a sequence cut short
      ['c0 af', '\uDCC0\uDCAF'], // overlong "/"
      ['ed a0 80', '\uDCED\uDCA0\uDC80'], // an encoded surrogate
      ['f4 90 80 80', '\uDCF4\uDC90\uDC80\uDC80'], // past U+10FFFF
      ['ef bf bd e9 f0 9f 98 80', '\uFFFD\uDCE9\u{1F600}'], // valid, invalid, valid
    ];
    for (const [bytes, name] of cases) {
      expect(decodeName(hex(bytes)), bytes).to.deep.equal({ name, valid: false });
      expect(pathBytes(name), bytes).to.deep.equal(hex(bytes));
      expect(hasEscapedBytes(name), bytes).to.equal(true);
    }
  });

  it('should print escaped bytes as \\xHH, and any other lone surrogate as U+FFFD', () => {
    expect(printablePath('d\uDCFF/caf\uDCE9.wav')).to.equal('d\\xFF/caf\\xE9.wav');
    expect(printablePath('x\uD800y')).to.equal('x\uFFFDy');
    expect(printablePath('\u{10080}\uDC80')).to.equal('\u{10080}\\x80'); // a pair, then an escaped byte
  });
});
