import { expect } from 'chai';
import { formatOffset, niceStep, timeScale } from '../../../src/report/timeScale.js';

describe('timeScale', () => {
  it('should choose the smallest nice step that keeps the parts under the limit', () => {
    expect(niceStep(10_000, 12)).to.equal(1000);
    expect(niceStep(6_800, 240, 100)).to.equal(100);
    expect(niceStep(3_600_000, 12)).to.equal(300_000);
    expect(niceStep(50, 240, 100)).to.equal(100);
    expect(niceStep(40 * 86_400_000, 10)).to.equal(4 * 86_400_000);
  });

  it('should label offsets in seconds with the decimals the step needs', () => {
    expect(formatOffset(2500, 500)).to.equal('2.5 s');
    expect(formatOffset(120_000, 30_000)).to.equal('120 s');
    expect(formatOffset(30, 10)).to.equal('0.03 s');
  });

  it('should map the span onto the plot and tick it from 0', () => {
    const s = timeScale(1000, 10_000, 200, 1000);
    expect(s.x(1000)).to.equal(200);
    expect(s.x(11_000)).to.equal(1200);
    expect(s.ticks.map((t) => t.label)).to.deep.equal(['0 s', '1 s', '2 s', '3 s', '4 s', '5 s', '6 s', '7 s', '8 s', '9 s', '10 s']);
  });

  it('should survive an empty span', () => {
    const s = timeScale(5, 0, 0, 100);
    expect(s.x(5)).to.equal(0);
    expect(s.ticks[0].ms).to.equal(0);
  });
});
