import { expect } from 'chai';
import { chooseByFinish, slotsFreeIn, type TargetPlan } from '../../../../src/http/limits/chooseByFinish.js';

const plan = (target: string, p: Partial<TargetPlan> & Pick<TargetPlan, 'slotsFreeInMs'>): TargetPlan => ({ target, queuedMs: 0, fileMs: 10, ...p });

describe('slotsFreeIn', () => {
  it('should give a free slot 0, a running upload what is left of its estimate, and an overdue one as long again as it has run', () => {
    const rows: Array<[string, number, Array<{ startMs: number; estimateMs: number }>, number, number[]]> = [
      // what,                  limit, running,                                                      now,  slots free in (ms)
      ['all free',                  2, [],                                                           100, [0, 0]],
      ['one running, one free',     2, [{ startMs: 100, estimateMs: 50 }],                           120, [0, 30]],
      ['full',                      2, [{ startMs: 100, estimateMs: 50 }, { startMs: 0, estimateMs: 500 }], 120, [30, 380]],
      ['overdue: no end in sight',  1, [{ startMs: 0, estimateMs: 50 }],                             200, [200]],
      ['limit shrank below running', 1, [{ startMs: 0, estimateMs: 100 }, { startMs: 0, estimateMs: 300 }], 50, [250]],
    ];
    for (const [what, limit, running, now, want] of rows) expect(slotsFreeIn(limit, running, now), what).to.deep.equal(want);
  });
});

describe('chooseByFinish', () => {
  // a fast host (4 slots, 50 ms a big file) and a slow one (1 slot, 2 s a big file)
  const fast = (slotsFreeInMs: number[], more: Partial<TargetPlan> = {}) => plan('fast', { slotsFreeInMs, fileMs: 50, ...more });
  const slow = (slotsFreeInMs: number[], more: Partial<TargetPlan> = {}) => plan('slow', { slotsFreeInMs, fileMs: 2000, ...more });

  it('should decide by when the file would be done, waiting for a busy host only when it is clearly sooner there', () => {
    const rows: Array<[string, TargetPlan[], { target: string; wait: boolean } | undefined]> = [
      ['the last big file: the fast host is about to be idle, the slow one free', [slow([0]), fast([5, 10, 20, 30])], { target: 'fast', wait: true }],
      ['both free: the sooner one', [slow([0]), fast([0, 10, 20, 30])], { target: 'fast', wait: false }],
      ['a deep queue on the fast host: the slow one takes it', [slow([0]), fast([20, 20, 20, 20], { queuedMs: 8000 })], { target: 'slow', wait: false }],
      ['as good as: the free host takes it (a quarter better is needed to wait)', [plan('a', { slotsFreeInMs: [0], fileMs: 100 }), plan('b', { slotsFreeInMs: [15], fileMs: 80 })], { target: 'a', wait: false }],
      ['nothing free: wait for the one that finishes first', [slow([1500]), fast([40, 40, 40, 40])], { target: 'fast', wait: true }],
      ['a host not measured yet: no estimate (the caller falls back to least-loaded)', [slow([0]), fast([5, 10, 20, 30], { fileMs: undefined })], undefined],
      ['no host', [], undefined],
    ];
    for (const [what, plans, want] of rows) {
      const got = chooseByFinish(plans);
      expect(got && { target: got.target, wait: got.wait }, what).to.deep.equal(want);
    }
  });

  it('should spread files waiting together: each one aimed at a host adds to its queue', () => {
    // files of 50 ms on the fast host (4 slots busy for 20 ms), 2 s on the slow one, offered in turn
    const aimed = { fast: 0 };
    const picks: string[] = [];
    for (let i = 0; i < 200; i++) {
      const got = chooseByFinish([slow([0]), fast([20, 20, 20, 20], { queuedMs: aimed.fast })]);
      picks.push(got?.target ?? '?');
      if (got?.target !== 'fast') break;
      aimed.fast += 50;
    }
    // the fast host takes files until its queue would finish them later than the idle slow host (2 s)
    expect(picks.slice(0, -1).every((t) => t === 'fast')).to.equal(true);
    expect(picks[picks.length - 1]).to.equal('slow');
    // waits while 1.25 x (20 + 50 k / 4 + 50) < 2000: k up to 122, then the slow host
    expect(picks.length).to.equal(124);
  });
});
