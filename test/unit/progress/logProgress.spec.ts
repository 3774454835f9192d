import { expect } from 'chai';
import { progressLine } from '../../../src/progress/logProgress.js';
import type { ProgressView } from '../../../src/progress/progressTracker.js';

const view = (targets: ProgressView['targets']): ProgressView => ({
  batchId: 'b', done: 3, total: 5, totalExact: true, uploaded: 2, failed: 1, skipped: 0, bytes: 2048,
  filesPerSec: 1.26, bytesPerSec: 1000.4, etaSec: 2, elapsedMs: 1000, targets,
});

describe('progressLine', () => {
  it('should give each target its limit, in flight, throughput and latency (rounded), and leave out what is not measured yet', () => {
    const line = progressLine(view([
      { target: 'http://a', up: true, inFlight: 3, limit: 6, uploaded: 2, failed: 0, bytes: 2048, bytesPerSec: 1_234_567.8, latencyMs: 41.66 },
      { target: 'http://b', up: false, inFlight: 0, limit: 1, uploaded: 0, failed: 1, bytes: 0 },
    ]));
    expect(line.rate).to.deep.equal({ filesPerSec: 1.3, bytesPerSec: 1000 });
    expect(line.targets).to.deep.equal({
      'http://a': { inFlight: 3, up: true, limit: 6, bytesPerSec: 1_234_568, latencyMs: 41.7 },
      'http://b': { inFlight: 0, up: false, limit: 1 },
    });
  });
});
