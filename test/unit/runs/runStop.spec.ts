import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { firstValueFrom, timeout } from 'rxjs';
import { runStop, whenAborted } from '../../../src/runs/runStop.js';
import { StoreUnavailableError } from '../../../src/errors.js';

describe('runStop', () => {
  it('should stop taking files at the first signal, run onStop once, and abort in-flight uploads when the grace runs out', async () => {
    const first = new AbortController();
    let onStops = 0;
    const s = runStop({ graceMs: 30, stop: first.signal, onStop: () => onStops++ });
    expect([s.stopped.aborted, s.interrupted, s.abort.aborted]).to.deep.equal([false, false, false]);
    first.abort();
    expect([s.stopped.aborted, s.interrupted, s.abort.aborted]).to.deep.equal([true, true, false]);
    await sleep(60);
    expect(s.abort.aborted, 'grace over').to.equal(true);
    expect(onStops).to.equal(1);
    s.dispose();
  });

  it('should stop early once, keeping the first reason, not as an interruption, and not once interrupted', () => {
    const s = runStop({ graceMs: 60_000, onStop: () => undefined });
    expect(s.stopEarly('no target answered')).to.equal(true);
    expect(s.stopEarly('--max-errors')).to.equal(false);
    expect([s.stopped.aborted, s.interrupted, s.abort.aborted, s.reason]).to.deep.equal([true, false, false, 'no target answered']);
    s.dispose();
    const stop = AbortSignal.abort();
    const late = runStop({ graceMs: 60_000, stop, onStop: () => undefined });
    expect(late.stopEarly('--max-errors'), 'already interrupted').to.equal(false);
    expect(late.reason).to.equal(undefined);
    late.dispose();
  });

  it('should abort at once on the second signal, and honour signals already aborted when it starts', () => {
    const stop = AbortSignal.abort();
    const abort = new AbortController();
    const s = runStop({ graceMs: 60_000, stop, abort: abort.signal, onStop: () => undefined });
    expect(s.interrupted, 'a stop that came first').to.equal(true);
    expect(s.cutShort(s.abort.reason), 'nothing aborted yet').to.equal(false);
    abort.abort();
    expect(s.abort.aborted).to.equal(true);
    expect(s.cutShort(s.abort.reason)).to.equal(true);
    expect(s.cutShort(new Error('the database refused it'))).to.equal(false);
    // how a pipeline that ended in error ends the run
    expect(s.storeGone(s.abort.reason), 'a wait cut short: an interruption').to.equal(undefined);
    const gone = new StoreUnavailableError('the database stayed away');
    expect(s.storeGone(gone)).to.equal(gone);
    expect(() => s.storeGone(new Error('the database refused it'))).to.throw('the database refused it');
    s.dispose();
  });

  it('should halt and cancel without counting as an interruption, and leave no timer or listener after dispose', async () => {
    const lost = new AbortController();
    let onStops = 0;
    const s = runStop({ graceMs: 20, lost: lost.signal, onStop: () => onStops++ });
    s.halt();
    s.cancel();
    expect([s.stopped.aborted, s.abort.aborted, s.interrupted]).to.deep.equal([true, true, false]);
    s.dispose();
    lost.abort();
    expect(onStops, 'no listener left').to.equal(0);
  });

  it('should make whenAborted emit for a signal aborted before the subscription', async () => {
    await firstValueFrom(whenAborted(AbortSignal.abort()).pipe(timeout(100)));
  });
});
