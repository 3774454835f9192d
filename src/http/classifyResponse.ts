import { UploadError } from '../errors.js';

/** 408, 422 (checksum mismatch), 429 and 5xx are worth retrying; other 4xx are not. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 422 || status === 429 || status >= 500;
}

/** Retry-After as ms: delta-seconds or an HTTP date; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  // V8's Date.parse takes "-5" or "1.5" for dates; an HTTP date names its day and month
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const LOCAL_CODES = new Set(['ENOENT', 'EACCES', 'EISDIR', 'EPERM', 'ELOOP', 'FANOUT_FILE_CHANGED']);

/**
 * Turn whatever an attempt threw into an UploadError that says whether to retry.
 * Network trouble (refused, reset, timeouts) is transient; a local file problem
 * (unreadable, vanished, changed while read) is not: retrying will not heal it.
 */
export function classifyError(err: unknown): UploadError {
  if (err instanceof UploadError) return err;
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code ?? 'UNKNOWN';
  const text = e?.message ?? String(err);
  const message = text.includes(code) ? text : `${code}: ${text}`;
  return new UploadError(message, !LOCAL_CODES.has(code), undefined, undefined, { cause: err });
}

/** Whether a failed attempt says something about the host's health (not about the file). */
export function isHostFault(err: UploadError): boolean {
  if (err.statusCode === undefined) return err.transient;
  return err.statusCode === 408 || err.statusCode === 429 || err.statusCode >= 500;
}

/** 401/403 from a target: it does not take our credentials (a wrong --token), for any file. */
export function isCredentialsRefused(err: UploadError): boolean {
  return err.statusCode === 401 || err.statusCode === 403;
}
