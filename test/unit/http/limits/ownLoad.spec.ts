import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventLoopSaturation } from '../../../../src/http/limits/ownLoad.js';

/** keep the event loop busy for `ms` (a hash loop stands for ours: sha256, records) */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) Math.sqrt(Math.random());
}

describe('eventLoopSaturation', () => {
  it('should say saturated after the event loop was busy a whole window, and not after it idled', async () => {
    const saturated = eventLoopSaturation();
    spin(400);
    expect(saturated()).to.equal(true);
    await sleep(400);
    expect(saturated()).to.equal(false);
  });

  it('should keep its reading between windows (one read per 250 ms, cheap per upload)', async () => {
    const saturated = eventLoopSaturation();
    await sleep(300);
    expect(saturated()).to.equal(false);
    spin(100); // busy, but the window is not over: the last reading holds
    expect(saturated()).to.equal(false);
  });
});
