import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { periodic } from '../../src/periodic.js';

describe('periodic', () => {
  it('should run the task again and again, never two at once, and report its errors while running', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const errors: unknown[] = [];
    const p = periodic(async () => {
      runs++;
      most = Math.max(most, ++running);
      await sleep(15);
      running--;
      if (runs === 2) throw new Error('second run failed');
    }, 5, (err) => errors.push(err));
    await sleep(80);
    await p.stop();
    expect(runs).to.be.at.least(3);
    expect(most, 'never two at once').to.equal(1);
    expect(errors.map(String)).to.deep.equal(['Error: second run failed']);
  });

  it('should wait on stop() for a run under way, and drop its error: nothing is reported after stop', async () => {
    let ended = false;
    const errors: unknown[] = [];
    const p = periodic(async () => {
      await sleep(40);
      ended = true;
      throw new Error('the store closed under it');
    }, 5, (err) => errors.push(err));
    await sleep(15); // a run is under way
    await p.stop();
    expect(ended, 'stop waited for the run').to.equal(true);
    expect(errors).to.deep.equal([]);
    await sleep(30);
    expect(errors, 'no run after stop').to.deep.equal([]);
  });
});
