import { Observable } from 'rxjs';
import { StoreUnavailableError } from '../errors.js';

/** Emits once the signal is aborted, at once if it already is when subscribed: a stop that came before the pipeline subscribed still stops it. */
export function whenAborted(signal: AbortSignal): Observable<void> {
  return new Observable<void>((subscriber) => {
    const onAbort = () => subscriber.next();
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  });
}

export interface RunStop {
  /** aborted once no new file may be taken (a first signal, or halt()) */
  readonly stopped: AbortSignal;
  /** aborted when uploads in flight must end now (a second signal, the grace run out, or cancel()) */
  readonly abort: AbortSignal;
  /** a first signal came: the run ends `interrupted` */
  readonly interrupted: boolean;
  /** take no new file, but not as an interruption (the run stops early for a reason of its own) */
  halt(): void;
  /**
   * Stop early for `reason` (no target answered, --max-errors): halt, once. False when the
   * run is already stopping (interrupted, or an earlier reason): then nothing more to do.
   */
  stopEarly(reason: string): boolean;
  /** the reason given to stopEarly, if it took */
  readonly reason: string | undefined;
  /** end the uploads in flight now, not as an interruption (nothing more can be recorded) */
  cancel(): void;
  /** `err` is only the abort itself: a wait (for the database, say) that the second signal or the grace cut short */
  cutShort(err: unknown): boolean;
  /**
   * How a run's pipeline ended in error: the database stayed away (returned: the run ends
   * failed), or a wait the second signal cut short (undefined: an interruption); anything
   * else is thrown on.
   */
  storeGone(err: unknown): StoreUnavailableError | undefined;
  /** the grace timer and the listeners on the caller's signals go */
  dispose(): void;
}

/**
 * The two-step stop every way of running a batch shares (upload, work, watch): the first
 * `stop` signal (or `lost`, another process took the batch over) stops taking files and
 * gives uploads in flight `graceMs` to finish; the second (`abort`) ends them at once.
 * `onStop` runs once, at the first (log it, release the fleet's waiters).
 */
export function runStop(opts: { graceMs: number; onStop: () => void; stop?: AbortSignal; abort?: AbortSignal; lost?: AbortSignal }): RunStop {
  const stopped = new AbortController();
  const abort = new AbortController();
  let interrupted = false;
  let reason: string | undefined;
  let grace: NodeJS.Timeout | undefined;
  const onStop = () => {
    if (interrupted) return;
    interrupted = true;
    stopped.abort();
    opts.onStop();
    grace = setTimeout(() => abort.abort(), opts.graceMs);
  };
  const onAbort = () => {
    onStop();
    abort.abort();
  };
  const listening: [AbortSignal, () => void][] = [];
  const listen = (signal: AbortSignal | undefined, fn: () => void) => {
    if (!signal) return;
    if (signal.aborted) return fn();
    signal.addEventListener('abort', fn, { once: true });
    listening.push([signal, fn]);
  };
  listen(opts.stop, onStop);
  listen(opts.abort, onAbort);
  listen(opts.lost, onStop);
  return {
    stopped: stopped.signal,
    abort: abort.signal,
    get interrupted() {
      return interrupted;
    },
    halt: () => stopped.abort(),
    stopEarly(why) {
      if (reason !== undefined || interrupted) return false;
      reason = why;
      stopped.abort();
      return true;
    },
    get reason() {
      return reason;
    },
    cancel: () => abort.abort(),
    cutShort: (err) => abort.signal.aborted && err === abort.signal.reason,
    storeGone(err) {
      if (err instanceof StoreUnavailableError) return err;
      if (this.cutShort(err)) return undefined;
      throw err;
    },
    dispose() {
      clearTimeout(grace);
      for (const [signal, fn] of listening) signal.removeEventListener('abort', fn);
    },
  };
}
