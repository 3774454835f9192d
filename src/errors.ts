/** Base class: every fanout error has a stable `code`. */
export class FanoutError extends Error {
  readonly code: string = 'FANOUT_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A usage or configuration problem found before anything runs: exit 2, one line, nothing written. */
export class ConfigError extends FanoutError {
  override readonly code = 'FANOUT_CONFIG';
}

/** One attempt of one upload failed. `transient` says whether retrying can help. */
export class UploadError extends FanoutError {
  override readonly code: string;
  constructor(
    message: string,
    readonly transient: boolean,
    readonly statusCode?: number,
    /** ms to wait before the next attempt, from a Retry-After header */
    readonly retryAfterMs?: number,
    /** `code` names the kind of failure (default FANOUT_UPLOAD), e.g. FANOUT_IDLE_TIMEOUT */
    options?: { cause?: unknown; code?: string },
  ) {
    super(message, options);
    this.code = options?.code ?? 'FANOUT_UPLOAD';
  }
}

/** Every target is down: remaining files fail fast rather than wait forever. */
export class AllTargetsDownError extends UploadError {
  override readonly code = 'FANOUT_ALL_TARGETS_DOWN';
  constructor() {
    super('every target is down', false);
  }
}

/** The database stayed unreachable past --db-retry-ms: the run stops (exit 1). */
export class StoreUnavailableError extends FanoutError {
  override readonly code = 'FANOUT_STORE_UNAVAILABLE';
}

/** Short, single-line text of any error, for logs and records. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const base = err.message || String(code ?? err.name);
    return typeof code === 'string' && !base.includes(code) && !code.startsWith('FANOUT') ? `${code}: ${base}` : base;
  }
  return String(err);
}
