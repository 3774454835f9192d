import { expect } from 'chai';
import { Subject, lastValueFrom, mergeMap, tap, timer, map, count } from 'rxjs';
import { pullWithCredits } from '../../../src/sources/pullWithCredits.js';

async function* numbers(n: number, onPull: () => void): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) {
    onPull();
    yield i;
  }
}

describe('pullWithCredits', () => {
  it('should never run more than the window ahead over a million entries', async function () {
    this.timeout(60_000);
    const window = 64;
    const credits = new Subject<number>();
    let pulled = 0;
    let released = 0;
    let maxAhead = 0;
    const n = await lastValueFrom(
      pullWithCredits(numbers(1_000_000, () => pulled++), window, credits).pipe(
        tap(() => (maxAhead = Math.max(maxAhead, pulled - released))),
        // a slow consumer: finished items come back later, a few at a time
        mergeMap((x) => (x % 1000 === 0 ? timer(1).pipe(map(() => x)) : Promise.resolve(x)), 16),
        tap(() => {
          released++;
          credits.next(1);
        }),
        count(),
      ),
    );
    expect(n).to.equal(1_000_000);
    expect(maxAhead).to.be.at.most(window);
    expect(maxAhead).to.equal(window); // the window is used, not just respected
  });

  it('should stop pulling when no credit comes back', async () => {
    const credits = new Subject<number>();
    let pulled = 0;
    const seen: number[] = [];
    const sub = pullWithCredits(numbers(100, () => pulled++), 5, credits).subscribe((x) => seen.push(x));
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).to.deep.equal([0, 1, 2, 3, 4]);
    expect(pulled).to.be.at.most(6);
    credits.next(2);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).to.have.length(7);
    sub.unsubscribe();
  });

  it('should close the iterator when unsubscribed early', async () => {
    let closed = false;
    async function* gen() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    const sub = pullWithCredits(gen(), 3, new Subject<number>()).subscribe();
    await new Promise((r) => setTimeout(r, 10));
    sub.unsubscribe();
    await new Promise((r) => setTimeout(r, 10));
    expect(closed).to.equal(true);
  });

  it('should pass on an error of the iterable', async () => {
    async function* bad() {
      yield 1;
      throw new Error('disk gone');
    }
    const credits = new Subject<number>();
    const p = lastValueFrom(pullWithCredits(bad(), 2, credits));
    let err: unknown;
    await p.catch((e) => (err = e));
    expect((err as Error).message).to.equal('disk gone');
  });
});
