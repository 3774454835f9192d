import { expect } from 'chai';
import { backoffMs } from '../../../src/operators/backoff.js';

describe('backoffMs', () => {
  it('should wait a random time in [0, base x 2^(n-1)) on attempt n (full jitter)', () => {
    for (let n = 1; n <= 6; n++) {
      const ceiling = 200 * 2 ** (n - 1);
      expect(backoffMs(n, { random: () => 0 })).to.equal(0);
      expect(backoffMs(n, { random: () => 0.5 })).to.equal(ceiling / 2);
      expect(backoffMs(n, { random: () => 0.999_999 })).to.be.below(ceiling).and.at.least(ceiling - 1);
    }
  });

  it('should stay inside [0, min(cap, base x 2^(n-1))) with a real random source', () => {
    for (let n = 1; n <= 12; n++) {
      const ceiling = Math.min(10_000, 200 * 2 ** (n - 1));
      const waits = Array.from({ length: 500 }, () => backoffMs(n));
      expect(Math.min(...waits), `n=${n}`).to.be.at.least(0);
      expect(Math.max(...waits), `n=${n}`).to.be.below(ceiling);
      expect(waits.every(Number.isInteger)).to.equal(true);
      // jittered, not a constant
      expect(new Set(waits).size, `n=${n}`).to.be.above(1);
    }
  });

  it('should cap the ceiling', () => {
    expect(backoffMs(30, { random: () => 0.999_999, capMs: 1000 })).to.be.below(1000);
    expect(backoffMs(30, { random: () => 0.999_999 })).to.be.below(10_000);
    expect(backoffMs(3, { baseMs: 50, random: () => 0.999_999 })).to.be.below(200);
  });

  it('should treat attempt 0 or less as the first', () => {
    expect(backoffMs(0, { random: () => 0.999_999 })).to.be.below(200);
  });

  it("should honour the server's Retry-After instead of the jittered wait", () => {
    expect(backoffMs(1, { retryAfterMs: 1000, random: () => 0 })).to.equal(1000);
    expect(backoffMs(5, { retryAfterMs: 0, random: () => 0.9 })).to.equal(0);
    expect(backoffMs(1, { retryAfterMs: 30_000 })).to.equal(30_000);
  });

  it('should not let a Retry-After hold a file for more than five minutes', () => {
    expect(backoffMs(1, { retryAfterMs: 3600_000 })).to.equal(5 * 60_000);
  });
});
