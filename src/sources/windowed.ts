import { Observable, Subject, defer, finalize, type OperatorFunction } from 'rxjs';
import { isHolding } from '../operators/holdsEachFile.js';
import { pullWithCredits } from './pullWithCredits.js';

/** A value stands for the file it carries (`value.file`: assignments, results) or for itself (a SourceFile). */
function fileOf(value: unknown): unknown {
  return value !== null && typeof value === 'object' && 'file' in value ? (value as { file: unknown }).file : value;
}

type Op = OperatorFunction<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The source pulled against credits, through `stages`, where each file owns its credit:
 * it goes back when the file leaves the stages by any path, so no stage placed anywhere
 * can stall the flow. At most `window` files are inside the stages at once.
 *
 *   source:  a b c d ...          window = 2, stages: plan, filter(not b), upload
 *   pulled:  ab-c------d          (b's credit back as the filter drops it; a's once out)
 *   result:  ----a-----c---
 *
 * Why not one credit per emitted result (a `tap` at the end): a `filter` anywhere (or a
 * stage that maps a file to nothing) would keep its credit forever, and after `window`
 * such files the walk stops with nothing in flight and no error. Why not one inner
 * observable per file (`mergeMap`): planUploads and recordResults batch rows across
 * files, and assignTargets keeps its turn across files; they must see one stream.
 *
 * So `windowed` keeps one pipeline and watches it: between every two stages it notes the
 * deepest point each file reached (a file is its `value.file`, or the value itself). When
 * a stage does not pass a file on within the call that handed it the file, either it
 * dropped the file or it holds it for later; stages marked `holdsEachFile` (fanout's
 * plan, upload and record) hold it, and the credit waits until it comes out; any other
 * stage dropped it, and the credit goes back. A file that comes out of the last stage
 * gives its credit back too. A per-file failure is a value and flows out like any other;
 * an error on the stream ends the whole flow (and the walk) at once.
 *
 * What it asks of your stages: a stage that holds files asynchronously is either marked
 * `holdsEachFile` (it then must let each file out once, keeping `.file` on what it emits)
 * or, unmarked, has a bound of its own (e.g. mergeMap's concurrency): its files are then
 * out of the window while it holds them.
 */
export function windowed<T, A>(source: AsyncIterable<T>, window: number, s1: OperatorFunction<T, A>): Observable<A>;
export function windowed<T, A, B>(source: AsyncIterable<T>, window: number, s1: OperatorFunction<T, A>, s2: OperatorFunction<A, B>): Observable<B>;
export function windowed<T, A, B, C>(
  source: AsyncIterable<T>, window: number, s1: OperatorFunction<T, A>, s2: OperatorFunction<A, B>, s3: OperatorFunction<B, C>,
): Observable<C>;
export function windowed<T, A, B, C, D>(
  source: AsyncIterable<T>, window: number, s1: OperatorFunction<T, A>, s2: OperatorFunction<A, B>, s3: OperatorFunction<B, C>, s4: OperatorFunction<C, D>,
): Observable<D>;
export function windowed<T, A, B, C, D, E>(
  source: AsyncIterable<T>, window: number, s1: OperatorFunction<T, A>, s2: OperatorFunction<A, B>, s3: OperatorFunction<B, C>, s4: OperatorFunction<C, D>,
  s5: OperatorFunction<D, E>,
): Observable<E>;
export function windowed<T, A, B, C, D, E, F>(
  source: AsyncIterable<T>, window: number, s1: OperatorFunction<T, A>, s2: OperatorFunction<A, B>, s3: OperatorFunction<B, C>, s4: OperatorFunction<C, D>,
  s5: OperatorFunction<D, E>, s6: OperatorFunction<E, F>,
): Observable<F>;
export function windowed<T, A, B, C, D, E, F, G>(
  source: AsyncIterable<T>, window: number, s1: OperatorFunction<T, A>, s2: OperatorFunction<A, B>, s3: OperatorFunction<B, C>, s4: OperatorFunction<C, D>,
  s5: OperatorFunction<D, E>, s6: OperatorFunction<E, F>, s7: OperatorFunction<F, G>,
): Observable<G>;
export function windowed<T, A, B, C, D, E, F, G, H>(
  source: AsyncIterable<T>, window: number, s1: OperatorFunction<T, A>, s2: OperatorFunction<A, B>, s3: OperatorFunction<B, C>, s4: OperatorFunction<C, D>,
  s5: OperatorFunction<D, E>, s6: OperatorFunction<E, F>, s7: OperatorFunction<F, G>, s8: OperatorFunction<G, H>,
): Observable<H>;
export function windowed<T>(source: AsyncIterable<T>, window: number, ...stages: Op[]): Observable<unknown>;
export function windowed<T>(source: AsyncIterable<T>, window: number, ...stages: Op[]): Observable<unknown> {
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`window must be a positive integer, got ${window}`);
  return defer(() => {
    const credits = new Subject<number>();
    /** file -> index of the deepest watch point it reached; absent once its credit is back */
    const reached = new Map<unknown, number>();
    const release = (file: unknown) => {
      if (reached.delete(file)) credits.next(1);
    };
    const watch = (at: number): Op => (values) =>
      new Observable((subscriber) =>
        values.subscribe({
          next: (value) => {
            const file = fileOf(value);
            if (at === 0) reached.set(file, 0);
            else if (reached.has(file)) reached.set(file, at);
            if (at === stages.length) {
              release(file); // out of the stages: done with, whatever comes after
              subscriber.next(value);
              return;
            }
            subscriber.next(value);
            // the next stage neither passed it on nor holds it: it dropped it
            if (reached.get(file) === at && !isHolding(stages[at])) release(file);
          },
          error: (err) => subscriber.error(err),
          complete: () => subscriber.complete(),
        }),
      );
    const watched = stages.flatMap((stage, i) => [stage, watch(i + 1)]);
    return (pullWithCredits(source, window, credits).pipe(watch(0), ...(watched as [])) as Observable<unknown>).pipe(
      finalize(() => credits.complete()),
    );
  });
}
