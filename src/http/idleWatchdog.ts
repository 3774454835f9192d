import { UploadError } from '../errors.js';

/** Aborts the attempt when no bytes moved for `ms`; also follows an outer abort signal. */
export class IdleWatchdog {
  private readonly ac = new AbortController();
  private timer?: NodeJS.Timeout;
  private fired = false;
  private stopped = false;
  readonly signal = this.ac.signal;
  // a listener, not AbortSignal.any: on Node 20 every signal that makes stays alive with its source
  private readonly onOuterAbort = () => this.ac.abort(this.outer?.reason);

  constructor(private readonly ms: number, private readonly outer?: AbortSignal) {
    if (outer?.aborted) this.ac.abort(outer.reason);
    else outer?.addEventListener('abort', this.onOuterAbort, { once: true });
  }

  /** Bytes moved (or the request went out): the clock starts again. */
  touch(): void {
    if (this.stopped) return;
    if (this.timer) this.timer.refresh();
    else this.arm(this.ms);
  }

  /** Not our idleness (waiting for --bwlimit tokens): stop the clock until the next touch. */
  pause(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The whole body is handed over: the answer may take `extraMs` longer than the idle timeout. */
  awaitAnswer(extraMs: number): void {
    if (this.stopped) return;
    this.pause();
    this.arm(this.ms + extraMs);
  }

  /** The answer is in (or the attempt is over): for good. */
  stop(): void {
    this.stopped = true;
    this.pause();
    this.outer?.removeEventListener('abort', this.onOuterAbort);
  }

  reason(err: unknown): unknown {
    if (!this.fired) return err;
    return new UploadError(`no bytes moved for ${this.ms} ms`, true, undefined, undefined, { cause: err, code: 'FANOUT_IDLE_TIMEOUT' });
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      this.fired = true;
      this.ac.abort();
    }, ms);
  }
}
