/** Give back a slot; calling it twice is harmless. */
export type Release = () => void;

export interface Slots {
  /** Resolves with a release function once a slot is free; waiters are served first come, first served. */
  acquire(signal?: AbortSignal): Promise<Release>;
  /** holders right now */
  readonly active: number;
  /** waiters right now */
  readonly waiting: number;
}

/**
 * A FIFO semaphore: at most `limit` holders at once; `limit` 0 (or less) means unlimited.
 * A waiter whose signal aborts leaves the queue and rejects with the signal's reason.
 */
export function createSlots(limit = 0): Slots {
  let active = 0;
  const queue: Array<() => void> = [];

  const grant = (): Release => {
    active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      active--;
      queue.shift()?.();
    };
  };

  return {
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (limit <= 0 || (active < limit && queue.length === 0)) return Promise.resolve(grant());
      return new Promise<Release>((resolve, reject) => {
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(grant());
        };
        const onAbort = () => {
          const at = queue.indexOf(wake);
          if (at >= 0) queue.splice(at, 1);
          reject(signal?.reason);
        };
        queue.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}
