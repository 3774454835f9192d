import { expect } from 'chai';
import { TestScheduler } from 'rxjs/testing';
import { addResult, emptyTally, tallyResults, withTargetLoads } from '../../../src/operators/tallyResults.js';
import type { UploadResult } from '../../../src/types.js';

const result = (status: UploadResult['status'], target: string | null, size = 10): UploadResult => ({
  file: { path: `${status}-${size}`, absPath: '/x', name: 'x', size, mtimeMs: 0 },
  target, status, sha256: null, verified: false, attempts: 1, error: null, startedAt: 0, finishedAt: 1,
});

describe('tallyResults', () => {
  it('should emit running counts, starting from the empty tally', () => {
    new TestScheduler((a, e) => {
      expect(a).to.deep.equal(e);
    }).run(({ cold, expectObservable }) => {
      const u = result('uploaded', 'X', 10);
      const f = result('failed', 'Y', 5);
      const s = result('skipped', 'X', 7);
      const t0 = emptyTally(['X', 'Y']);
      const t1 = addResult(t0, u);
      const t2 = addResult(t1, f);
      const t3 = addResult(t2, s);
      expectObservable(cold('-u--f--s-|', { u, f, s }).pipe(tallyResults(['X', 'Y']))).toBe('0u--f--s-|', { 0: t0, u: t1, f: t2, s: t3 });
      expect(t3).to.deep.include({ total: 3, uploaded: 1, failed: 1, skipped: 1, bytes: 10 });
      expect(t3.targets).to.deep.equal({ X: { uploaded: 1, failed: 0, bytes: 10 }, Y: { uploaded: 0, failed: 1, bytes: 0 } });
    });
  });

  it('should count an interrupted (pending) result in total only', () => {
    const t = addResult(emptyTally(['X']), result('pending', 'X'));
    expect(t).to.deep.include({ total: 1, uploaded: 0, failed: 0, skipped: 0 });
  });

  it('should count a file that failed before any target was tried, with no "(none)" target key', () => {
    const t = addResult(emptyTally(['X']), result('failed', null));
    expect(t).to.deep.include({ total: 1, failed: 1 });
    expect(t.targets).to.deep.equal({ X: { uploaded: 0, failed: 0, bytes: 0 } });
  });

  it('should not mutate the tally it was given', () => {
    const t0 = emptyTally(['X']);
    addResult(t0, result('uploaded', 'X'));
    expect(t0).to.deep.equal(emptyTally(['X']));
  });

  it('should add each target\'s final limit, bytes/s over its run and median latency to its counts, leaving the counts as they are', () => {
    const targets = { X: { uploaded: 3, failed: 0, bytes: 30 }, Y: { uploaded: 0, failed: 1, bytes: 0 } };
    const out = withTargetLoads(targets, [
      { target: 'X', limit: 6, runBytesPerSec: 1234.56, medianLatencyMs: 41.66, bytesPerSec: 999 },
      { target: 'Y', limit: 1 },
      { target: 'Z', limit: 2, runBytesPerSec: 5 },
    ]);
    expect(out).to.deep.equal({
      X: { uploaded: 3, failed: 0, bytes: 30, limit: 6, bytesPerSec: 1235, medianLatencyMs: 41.7 },
      Y: { uploaded: 0, failed: 1, bytes: 0, limit: 1 }, // nothing measured: no rate, no latency
    });
    expect(targets.X, 'the tally is not changed').to.deep.equal({ uploaded: 3, failed: 0, bytes: 30 });
  });
});
