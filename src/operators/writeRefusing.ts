import { StoreUnavailableError } from '../errors.js';

/**
 * Write `items` in one call; if the database refuses the call, write them one at a time,
 * so only the items it refuses fail. `write` already rides out outages (withDbRetry): an
 * outage that outlasts it (StoreUnavailableError) stops the batch and is thrown; any other
 * error is the statement's own — a value the database will not take. Refusals are rare,
 * so the single writes cost nothing in the common case. Returns each refused item's error.
 *
 *   write([a b c])  -> refused
 *   write([a]) ok, write([b]) refused, write([c]) ok  -> Map { b => error }
 */
export async function writeRefusing<T>(items: readonly T[], write: (items: readonly T[]) => Promise<void>, signal?: AbortSignal): Promise<Map<T, unknown>> {
  // an outage past --db-retry-ms, or the run aborted while it waited: nothing was refused
  const stops = (err: unknown) => err instanceof StoreUnavailableError || signal?.aborted === true;
  const refused = new Map<T, unknown>();
  try {
    await write(items);
    return refused;
  } catch (err) {
    if (stops(err)) throw err;
    if (items.length === 1) return refused.set(items[0], err);
  }
  for (const item of items) {
    try {
      await write([item]);
    } catch (err) {
      if (stops(err)) throw err;
      refused.set(item, err);
    }
  }
  return refused;
}
