/**
 * Exponential backoff with full jitter (a random wait between 0 and base x 2^(n-1),
 * capped), or the server's Retry-After when it gave one.
 */
export function backoffMs(attempt: number, opts: { baseMs?: number; capMs?: number; retryAfterMs?: number; random?: () => number } = {}): number {
  const { baseMs = 200, capMs = 10_000, retryAfterMs, random = Math.random } = opts;
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, 5 * 60_000);
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1)));
}
