import { expect } from 'chai';
import { SizeBaseline } from '../../../../src/http/limits/sizeBaseline.js';

describe('SizeBaseline', () => {
  it('should give small uploads (up to 64 KiB) one baseline: their bytes are noise', () => {
    const b = new SizeBaseline();
    b.add(1000, 22);
    b.add(3000, 47); // queued: a 1-slot host may never serve a 3000-byte file alone
    expect(b.baseMs(3000)).to.equal(22);
    expect(b.baseMs(60_000)).to.equal(22);
  });

  it('should be the fastest sample when every upload has one size (Vegas baseRTT)', () => {
    const b = new SizeBaseline();
    expect(b.baseMs(1000)).to.equal(undefined);
    for (const ms of [30, 20, 25]) b.add(1000, ms);
    expect(b.baseMs(1000)).to.equal(20);
  });

  it('should interpolate the fixed + per-byte line between sizes seen', () => {
    // base(b) = 10 ms + 1 ms per 100 KB
    const b = new SizeBaseline();
    b.add(100_000, 11);
    b.add(1_600_000, 26);
    b.add(400_000, 30); // slower than the line: a queued sample, not on the hull
    expect(b.baseMs(800_000)).to.be.closeTo(18, 1e-9);
    expect(b.baseMs(3_200_000)).to.be.closeTo(42, 1e-9); // extrapolated along the last slope
  });

  it('should estimate upwards outside the sizes seen (never invent a queue)', () => {
    const b = new SizeBaseline();
    b.add(1_000_000, 100);
    expect(b.baseMs(10)).to.equal(100); // a smaller upload takes no longer
    expect(b.baseMs(2_000_000)).to.equal(200); // proportional: an upper bound when the fixed part is unknown
  });

  it('should forget everything on reset', () => {
    const b = new SizeBaseline();
    b.add(1000, 5);
    b.reset();
    expect(b.empty).to.equal(true);
    expect(b.baseMs(1000)).to.equal(undefined);
  });
});
