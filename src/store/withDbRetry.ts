import { setTimeout as sleep } from 'node:timers/promises';
import { StoreUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import { describeDbError } from './describeDbError.js';
import { isDbUnavailable } from './isDbUnavailable.js';

export interface DbRetryOptions {
  /** how long to keep trying while the database is away */
  retryMs: number;
  logger?: Logger;
  what?: string;
  /** ends a wait between attempts at once: the attempt is not retried, `signal.reason` is thrown */
  signal?: AbortSignal;
}

/**
 * Run a database call, retrying with capped exponential backoff while the database is
 * away or busy (isDbUnavailable), for at most `retryMs`; then give up with
 * StoreUnavailableError (the run stops, exit 1). Any other error is the statement's own
 * (a value the database refuses): it is thrown at once, as it came, for the caller to
 * turn into per-file failures. Log lines carry the driver's message, never the SQL.
 * An aborted `signal` gives up at once with its reason (the run was interrupted, exit 130).
 */
export async function withDbRetry<T>(fn: () => Promise<T>, { retryMs, logger, what = 'write', signal }: DbRetryOptions): Promise<T> {
  const deadline = Date.now() + retryMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isDbUnavailable(err)) throw err;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new StoreUnavailableError(`database ${what} failed for ${retryMs} ms: ${describeDbError(err)}`, { cause: err });
      }
      const delay = Math.min(left, 100 * 2 ** Math.min(attempt, 5));
      logger?.warn('db_retry', { event: 'db_retry', what, attempt, delayMs: delay, error: describeDbError(err) });
      // a write under way is not cut short (it may land): only the wait between attempts is
      await sleep(delay, undefined, { signal }).catch(() => undefined);
      signal?.throwIfAborted();
    }
  }
}
