import type { OperatorFunction } from 'rxjs';

const HOLDS_EACH_FILE = Symbol.for('fanout.holdsEachFile');

/**
 * Marks a stage that may hold a file for a while (a buffer, an upload, an API call) and
 * always lets it out again, once: `windowed` keeps such a file's credit until it comes
 * out. An unmarked stage that does not pass a file on at once is taken to have dropped
 * it (a `filter`), and the file's credit goes back. Returns the operator itself.
 */
export function holdsEachFile<T, R>(op: OperatorFunction<T, R>): OperatorFunction<T, R> {
  return Object.assign(op, { [HOLDS_EACH_FILE]: true });
}

export function isHolding(op: OperatorFunction<never, unknown>): boolean {
  return (op as unknown as Record<symbol, unknown>)[HOLDS_EACH_FILE] === true;
}
