import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A token bucket of `rate` bytes/s with one second of burst. `take(n)` resolves when n
 * bytes may be sent; callers that share a bucket share its rate.
 */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly rate: number, readonly burst = rate) {
    if (!(rate > 0)) throw new RangeError(`rate must be positive, got ${rate}`);
    this.tokens = burst;
  }

  /** Wait until n bytes may go (callers are served in order). */
  take(n: number, signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.wait(n, signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async wait(n: number, signal?: AbortSignal): Promise<void> {
    this.refill();
    this.tokens -= n; // may go negative: a chunk larger than the burst waits for its debt
    if (this.tokens < 0) await sleep((-this.tokens / this.rate) * 1000, undefined, { signal });
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }
}
