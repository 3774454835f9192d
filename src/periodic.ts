/** A repeated background task (a lease renewal, a heartbeat) that can be stopped cleanly. */
export interface Periodic {
  /** no further runs; resolves once a run under way has ended (its error, if any, dropped) */
  stop(): Promise<void>;
}

/**
 * Run `task` every `ms`, never two at once. A failed run goes to `onError` while running;
 * once stop() is called nothing more is reported, so a run still out when the store and
 * the logger close cannot write to either after them.
 */
export function periodic(task: () => Promise<unknown>, ms: number, onError: (err: unknown) => void, opts: { unref?: boolean } = {}): Periodic {
  let running: Promise<void> | undefined;
  let stopped = false;
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = task().then(
      () => undefined,
      (err: unknown) => {
        if (!stopped) onError(err);
      },
    ).finally(() => {
      running = undefined;
    });
  }, ms);
  if (opts.unref) timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
