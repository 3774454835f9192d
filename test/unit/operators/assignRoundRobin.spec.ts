import { expect } from 'chai';
import { TestScheduler } from 'rxjs/testing';
import { assignRoundRobin } from '../../../src/operators/assignRoundRobin.js';
import { assignLeastLoaded } from '../../../src/operators/assignLeastLoaded.js';
import type { SourceFile } from '../../../src/types.js';

const file = (p: string): SourceFile => ({ path: p, absPath: `/x/${p}`, name: p, size: 1, mtimeMs: 0 });

describe('assignRoundRobin', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  it('should tag files with the targets in turn', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const files = { a: file('a'), b: file('b'), c: file('c'), d: file('d') };
      const src = cold('-a-b-c-d|', files);
      expectObservable(src.pipe(assignRoundRobin(['X', 'Y']))).toBe('-a-b-c-d|', {
        a: { file: files.a, target: 'X' },
        b: { file: files.b, target: 'Y' },
        c: { file: files.c, target: 'X' },
        d: { file: files.d, target: 'Y' },
      });
    });
  });

  it('should start from the first target for every subscription', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const files = { a: file('a'), b: file('b') };
      const op = assignRoundRobin(['X', 'Y', 'Z']);
      const src = cold('ab|', files);
      const expected = { a: { file: files.a, target: 'X' }, b: { file: files.b, target: 'Y' } };
      expectObservable(src.pipe(op)).toBe('ab|', expected);
      expectObservable(src.pipe(op)).toBe('ab|', expected);
    });
  });

  it('should refuse an empty target list', () => {
    expect(() => assignRoundRobin([])).to.throw(RangeError);
  });
});

describe('assignLeastLoaded', () => {
  it('should leave the target open for the slot pool to choose', () => {
    new TestScheduler((a, e) => {
      expect(a).to.deep.equal(e);
    }).run(({ cold, expectObservable }) => {
      const f = file('a');
      expectObservable(cold('-a|', { a: f }).pipe(assignLeastLoaded())).toBe('-a|', { a: { file: f, target: null } });
    });
  });
});
