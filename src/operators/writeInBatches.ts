import { bufferTime, concatMap, filter, from, mergeMap, type OperatorFunction } from 'rxjs';

/**
 * Gather values into batches of at most `size`, or whatever arrived within `ms`, run
 * `write` on each batch one at a time, and pass the batch's values on (as `write`
 * returns them) only once it has resolved: a value flows on once durable.
 *
 *   values:  -a-b-c----d-|
 *   write:   ------[abc]---[d]|
 *   result:  ------abc-----d|
 */
export function writeInBatches<T, R>(write: (batch: T[]) => Promise<R[]>, size: number, ms: number): OperatorFunction<T, R> {
  return (source) =>
    source.pipe(
      bufferTime(ms, null, size),
      filter((batch) => batch.length > 0),
      concatMap((batch) => from(write(batch))),
      mergeMap((batch) => batch),
    );
}
