import { bufferTime, concatMap, filter, from, mergeMap, type OperatorFunction } from 'rxjs';
import { holdsEachFile } from './holdsEachFile.js';

/**
 * Gather values into batches of at most `size`, or whatever arrived within `ms`, run
 * `write` on each batch one at a time, and pass the batch's values on (as `write`
 * returns them) only once it has resolved: a value flows on once durable.
 *
 *   values:  -a-b-c----d-|
 *   write:   ------[abc]---[d]|
 *   result:  ------abc-----d|
 *
 * Marked `holdsEachFile`: `write` is to return each value of its batch (plan and record do).
 */
export function writeInBatches<T, R>(write: (batch: T[]) => Promise<R[]>, size: number, ms: number): OperatorFunction<T, R> {
  return holdsEachFile((source) =>
    source.pipe(
      bufferTime(ms, null, size),
      filter((batch) => batch.length > 0),
      concatMap((batch) => from(write(batch))),
      mergeMap((batch) => batch),
    ),
  );
}
