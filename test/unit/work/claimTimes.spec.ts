import { expect } from 'chai';
import { ClaimTimes } from '../../../src/work/claimTimes.js';

describe('ClaimTimes (claim latency for worker_complete)', () => {
  it('should sum every claim and its rows, and take percentiles and the max from the claims it saw', () => {
    const t = new ClaimTimes();
    for (let i = 1; i <= 100; i++) t.add(i, i % 2 === 0 ? 4 : 0);
    expect(t.summary()).to.deep.equal({ claims: 100, rows: 200, totalMs: 5050, p50Ms: 51, p95Ms: 96, maxMs: 100 });
  });

  it('should keep percentiles over the last 4096 claims only (bounded memory), counts and max over all', () => {
    const t = new ClaimTimes();
    for (let i = 0; i < 4096; i++) t.add(1000, 1);
    for (let i = 0; i < 4096; i++) t.add(2, 1);
    expect(t.summary()).to.include({ claims: 8192, rows: 8192, p50Ms: 2, p95Ms: 2, maxMs: 1000 });
  });

  it('should report row locks only once some were added', () => {
    const t = new ClaimTimes();
    expect(t.summary()).to.not.have.property('rowsLocked');
    t.addLocked(5);
    t.addLocked(3);
    expect(t.summary()).to.include({ rowsLocked: 8, claims: 0, p50Ms: 0 });
  });
});
