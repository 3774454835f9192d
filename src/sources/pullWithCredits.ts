import { Observable } from 'rxjs';

/**
 * Pull-based backpressure for RxJS: emit values of an async iterable only against
 * credits. Starts with `window` credits; every number `credits$` emits hands back that
 * many. So at most `window` values are out (emitted, not yet handed back) at any time,
 * however fast the iterable is.
 *
 *   iterable:  a b c d e f ...      window = 2
 *   credits$:  ----1-----1---
 *   result:    ab--c-----d---
 */
export function pullWithCredits<T>(iterable: AsyncIterable<T>, window: number, credits$: Observable<number>): Observable<T> {
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`window must be a positive integer, got ${window}`);
  return new Observable<T>((subscriber) => {
    const it = iterable[Symbol.asyncIterator]();
    let available = window;
    let pulling = false;
    let done = false;

    const pump = async () => {
      if (pulling) return;
      pulling = true;
      try {
        while (available > 0 && !done && !subscriber.closed) {
          const r = await it.next();
          if (r.done) {
            done = true;
            subscriber.complete();
            break;
          }
          available--;
          subscriber.next(r.value);
        }
      } catch (err) {
        done = true;
        subscriber.error(err);
      } finally {
        pulling = false;
      }
    };

    const sub = credits$.subscribe((n) => {
      available += n;
      void pump();
    });
    void pump();
    return () => {
      sub.unsubscribe();
      if (!done) {
        done = true;
        void it.return?.(undefined)?.catch(() => undefined);
      }
    };
  });
}
