import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ProgressTracker } from '../../../src/progress/progressTracker.js';
import type { Tally } from '../../../src/types.js';

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('ProgressTracker', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fanout-track-'));
    for (let i = 0; i < 20; i++) await writeFile(path.join(dir, `f${i}.wav`), 'x');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const fleet = (inFlight: number, upB = true) => ({
    snapshot: () => [
      { target: 'A', up: true, inFlight, uploaded: 0, failed: 0, consecutiveFailures: 0, limit: 4, bytesPerSec: 2e6, latencyMs: 12 },
      { target: 'B', up: upB, inFlight: 0, uploaded: 0, failed: 0, consecutiveFailures: 0 },
    ],
  });
  const config = (d: string) => ({ dir: d, include: [], exclude: [], minAgeMs: 0, followSymlinks: false });
  const tally = (uploaded: number, failed: number, bytes: number): Tally => ({
    total: uploaded + failed, uploaded, failed, skipped: 0, bytes,
    targets: { A: { uploaded, failed, bytes } },
  });

  it('should show an empty view before the run starts', () => {
    const v = new ProgressTracker().view();
    expect(v).to.include({ batchId: null, done: 0, total: 0, totalExact: false, etaSec: null });
    expect(v.targets).to.deep.equal([]);
  });

  it('should merge the running tally with the fleet, count the files in the background, and give an ETA once the total is known', async () => {
    let now = 0;
    const t = new ProgressTracker(() => now);
    t.onStart({ fleet: fleet(2, false), batchId: 'b1', config: config(dir) });
    t.onTally(tally(4, 1, 4000));
    expect(t.view().done).to.equal(5);
    await until(() => t.view().totalExact);
    now = 1000;
    t.onTally(tally(9, 1, 9000));
    const v = t.view();
    expect(v).to.include({ batchId: 'b1', done: 10, total: 20, totalExact: true, uploaded: 9, failed: 1, bytes: 9000 });
    expect(v.filesPerSec).to.equal(10); // 0 -> 10 files in the first second
    expect(v.etaSec).to.equal(1);
    expect(v.targets).to.deep.equal([
      { target: 'A', up: true, inFlight: 2, limit: 4, uploaded: 9, failed: 1, bytes: 9000, bytesPerSec: 2e6, latencyMs: 12 },
      { target: 'B', up: false, inFlight: 0, limit: undefined, uploaded: 0, failed: 0, bytes: 0, bytesPerSec: undefined, latencyMs: undefined },
    ]);
    t.close();
  });

  it('should measure a real rate in the first view after the start (the first progress line)', () => {
    let now = 0;
    const t = new ProgressTracker(() => now);
    t.onStart({ fleet: fleet(0), batchId: 'b3', config: config(path.join(dir, 'missing')) });
    now = 5000;
    t.onTally(tally(100, 0, 5_000_000));
    expect(t.view()).to.include({ filesPerSec: 20, bytesPerSec: 1_000_000 });
    t.close();
  });

  it('should keep a lower bound (never below the files done) while the count is unfinished or failed', () => {
    const t = new ProgressTracker();
    t.onStart({ fleet: fleet(0), batchId: 'b2', config: config(path.join(dir, 'missing')) });
    t.onTally(tally(3, 0, 3));
    expect(t.view()).to.include({ total: 3, totalExact: false, etaSec: null });
    t.close();
  });
});
