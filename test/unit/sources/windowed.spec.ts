import { expect } from 'chai';
import { filter, lastValueFrom, map, mergeMap, tap, timer, toArray, type OperatorFunction } from 'rxjs';
import { holdsEachFile } from '../../../src/operators/holdsEachFile.js';
import { windowed } from '../../../src/sources/windowed.js';

interface File { path: number }
interface Done { file: File; ok: boolean }

/** Files 0..n-1, counting how many were pulled. */
function files(n: number, counter: { pulled: number }): AsyncIterable<File> {
  return (async function* () {
    for (let i = 0; i < n; i++) {
      counter.pulled++;
      yield { path: i };
    }
  })();
}

/** A stage that holds each file a moment (as an upload does), marked so windowed waits for it. */
function holdAWhile<T>(inside: { now: number; max: number }): OperatorFunction<T, T> {
  return holdsEachFile(mergeMap((v: T) => {
    inside.now++;
    inside.max = Math.max(inside.max, inside.now);
    return timer(2).pipe(map(() => v), tap(() => inside.now--));
  }));
}

const toDone = map((f: File): Done => ({ file: f, ok: f.path % 3 !== 0 }));

describe('windowed', () => {
  it('should finish when a filter after the holding stage drops results (where the credit tap stalled)', async function () {
    this.timeout(20_000);
    const counter = { pulled: 0 };
    const inside = { now: 0, max: 0 };
    const out = await lastValueFrom(windowed(files(46, counter), 4, toDone, holdAWhile<Done>(inside), filter((d) => d.ok), toArray()));
    expect(out.map((d) => d.file.path)).to.have.length(30);
    expect(counter.pulled).to.equal(46);
    expect(inside.max).to.be.at.most(4);
  });

  it('should finish with a filter before every stage and between holding stages', async function () {
    this.timeout(20_000);
    const counter = { pulled: 0 };
    const a = { now: 0, max: 0 };
    const b = { now: 0, max: 0 };
    const out = await lastValueFrom(windowed(
      files(100, counter), 3,
      filter((f: File) => f.path % 2 === 0), holdAWhile<File>(a), filter((f) => f.path % 4 === 0), toDone, holdAWhile<Done>(b), toArray(),
    ));
    expect(out.map((d) => d.file.path)).to.deep.equal(Array.from({ length: 25 }, (_, i) => i * 4));
    expect(counter.pulled).to.equal(100);
    expect(a.max + b.max).to.be.at.most(6);
    expect(Math.max(a.max, b.max)).to.be.at.most(3);
  });

  it('should keep at most the window inside holding stages, and use it', async function () {
    this.timeout(20_000);
    const counter = { pulled: 0 };
    const inside = { now: 0, max: 0 };
    let maxAhead = 0;
    let out = 0;
    await lastValueFrom(windowed(files(200, counter), 8, holdAWhile<File>(inside), holdAWhile<File>(inside), tap(() => {
      out++;
      maxAhead = Math.max(maxAhead, counter.pulled - out);
    }), toArray()));
    expect(out).to.equal(200);
    expect(inside.max).to.equal(8);
    expect(maxAhead).to.be.at.most(8);
  });

  it('should end the flow and stop the walk when a stage errors the stream', async function () {
    this.timeout(20_000);
    const counter = { pulled: 0 };
    const err = await lastValueFrom(windowed(files(1000, counter), 4, holdAWhile<File>({ now: 0, max: 0 }), map((f: File) => {
      if (f.path === 10) throw new Error('boom');
      return f;
    }))).catch((e: unknown) => e);
    expect((err as Error).message).to.equal('boom');
    expect(counter.pulled).to.be.below(20);
  });

  it('should refuse a window that is not a positive integer', () => {
    expect(() => windowed(files(1, { pulled: 0 }), 0, toDone)).to.throw(RangeError, 'window must be a positive integer, got 0');
  });
});
