import { setTimeout as sleep } from 'node:timers/promises';
import { StoreUnavailableError, describeError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface DbRetryOptions {
  /** how long to keep trying while the database is away */
  retryMs: number;
  logger?: Logger;
  what?: string;
  /** ends a wait between attempts at once: the attempt is not retried, `signal.reason` is thrown */
  signal?: AbortSignal;
}

/**
 * Run a database write, retrying with capped exponential backoff while it fails, for at
 * most `retryMs`; then give up with StoreUnavailableError (the run stops, exit 1). An
 * aborted `signal` gives up at once with its reason (the run was interrupted, exit 130).
 */
export async function withDbRetry<T>(fn: () => Promise<T>, { retryMs, logger, what = 'write', signal }: DbRetryOptions): Promise<T> {
  const deadline = Date.now() + retryMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new StoreUnavailableError(`database ${what} failed for ${retryMs} ms: ${describeError(err)}`, { cause: err });
      }
      const delay = Math.min(left, 100 * 2 ** Math.min(attempt, 5));
      logger?.warn('db_retry', { event: 'db_retry', what, attempt, delayMs: delay, error: describeError(err) });
      // a write under way is not cut short (it may land): only the wait between attempts is
      await sleep(delay, undefined, { signal }).catch(() => undefined);
      signal?.throwIfAborted();
    }
  }
}
