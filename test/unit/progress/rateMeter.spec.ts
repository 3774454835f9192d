import { expect } from 'chai';
import { rateMeter } from '../../../src/progress/rateMeter.js';

describe('rateMeter', () => {
  it('should give files/s and bytes/s over the samples so far', () => {
    const m = rateMeter(10_000);
    m.sample(0, 0, 0);
    const r = m.sample(2000, 400, 6_400_000);
    expect(r).to.deep.equal({ filesPerSec: 200, bytesPerSec: 3_200_000 });
  });

  it('should follow the recent pace once the window has passed', () => {
    const m = rateMeter(1000);
    m.sample(0, 0, 0);
    m.sample(500, 500, 0); // a fast start...
    m.sample(1000, 1000, 0);
    m.sample(1500, 1010, 0); // ...then 10 files in each half second
    const r = m.sample(2000, 1020, 0);
    expect(r.filesPerSec).to.be.closeTo(20, 0.001);
  });

  it('should say 0 before a quarter second of samples', () => {
    const m = rateMeter();
    m.sample(0, 0, 0);
    expect(m.sample(100, 50, 1000)).to.deep.equal({ filesPerSec: 0, bytesPerSec: 0 });
  });

  it('should reject a window that is not positive', () => {
    expect(() => rateMeter(0)).to.throw(RangeError, /windowMs.*0/);
  });
});
