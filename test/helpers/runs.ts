import { setTimeout as sleep } from 'node:timers/promises';
import { createStore } from '../../src/store/createStore.js';
import type { Summary } from '../../src/types.js';
import type { CliRun } from './cli.js';

/** Wait until the database holds at least n finished rows for the batch (the run is under way). */
export async function untilRecorded(db: string, batchId: string, n: number, timeoutMs = 20_000): Promise<void> {
  const store = await createStore(db);
  try {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const c = await store.countFiles(batchId).catch(() => ({ uploaded: 0, failed: 0 }));
      if (c.uploaded + c.failed >= n) return;
      await sleep(50);
    }
    throw new Error(`batch ${batchId} did not reach ${n} recorded files`);
  } finally {
    await store.close();
  }
}

/** The JSON summary a `--json` run printed last on stdout. */
export const summaryOf = (r: CliRun): Summary => JSON.parse(r.stdout.trim().split('\n').pop() as string);

/** Wait until `check()` holds, polling; fail with `what` after timeoutMs. */
export async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
