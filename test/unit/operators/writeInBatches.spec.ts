import { expect } from 'chai';
import { Subject, lastValueFrom, range, toArray } from 'rxjs';
import { writeInBatches } from '../../../src/operators/writeInBatches.js';

describe('writeInBatches', () => {
  it('should write batches of at most `size` and pass every value on, in order', async () => {
    const batches: number[][] = [];
    const out = await lastValueFrom(
      range(0, 23).pipe(
        writeInBatches(async (b: number[]) => {
          batches.push(b);
          return b;
        }, 10, 1000),
        toArray(),
      ),
    );
    expect(out).to.deep.equal([...Array(23).keys()]);
    expect(batches.map((b) => b.length)).to.deep.equal([10, 10, 3]);
  });

  it('should let a value flow on only once its batch is written', async () => {
    const src = new Subject<number>();
    const seen: number[] = [];
    let release!: () => void;
    const written = new Promise<void>((r) => (release = r));
    const sub = src
      .pipe(
        writeInBatches(async (b: number[]) => {
          await written;
          return b;
        }, 5, 10),
      )
      .subscribe((v) => seen.push(v));
    src.next(1);
    src.next(2);
    await new Promise((r) => setTimeout(r, 40)); // the 10 ms window closed: the write is under way
    expect(seen).to.deep.equal([]);
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).to.deep.equal([1, 2]);
    sub.unsubscribe();
  });

  it('should close a batch after `ms` even when it is not full', async () => {
    const batches: number[][] = [];
    const src = new Subject<number>();
    const sub = src
      .pipe(
        writeInBatches(async (b: number[]) => {
          batches.push(b);
          return b;
        }, 100, 20),
      )
      .subscribe();
    src.next(1);
    await new Promise((r) => setTimeout(r, 60));
    expect(batches).to.deep.equal([[1]]);
    sub.unsubscribe();
  });

  it('should fail the stream when a write fails (the infrastructure failed)', async () => {
    let err: unknown;
    await lastValueFrom(range(0, 3).pipe(writeInBatches(async () => Promise.reject(new Error('db gone')), 10, 10))).catch((e) => (err = e));
    expect((err as Error).message).to.equal('db gone');
  });
});
