import winston from 'winston';

/** How a logger writes its lines: JSON (machines, files) or short text (a person at a terminal). */
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Fields every line has, or that say nothing to a person watching one batch. */
const QUIET = new Set(['level', 'message', 'timestamp', 'event', 'batchId', 'file', 'target', 'error', 'source', 'component', 'dialect']);

/** A terminal must not be steered by a file name or an error text (escapes, newlines). */
const printable = (s: string) => s.replace(/\p{Cc}/gu, ' ');

const brief = (v: unknown): string => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return JSON.stringify(v) ?? String(v);
};

/**
 * One log record as a short line for people:
 *
 *   14:05:03 warn  file_retry  calls/a.wav -> http://gpu-2:8080  HTTP 503  attempt=2 delayMs=250
 *
 * time, level, event, the file and target it concerns, the error, then the remaining fields
 * as key=value; cut at `width` characters so a line never wraps under the progress bars.
 */
export function textLine(info: Record<string, unknown>, width = 160): string {
  const time = new Date(typeof info.timestamp === 'string' ? info.timestamp : Date.now()).toTimeString().slice(0, 8);
  const parts = [time, String(info.level).padEnd(5), String(info.event ?? info.message)];
  if (info.event && info.message !== info.event) parts.push(String(info.message));
  if (info.file !== undefined) parts.push(info.target ? `${brief(info.file)} -> ${brief(info.target)}` : brief(info.file));
  else if (info.target !== undefined) parts.push(brief(info.target));
  if (info.error !== undefined) parts.push(brief(info.error));
  const rest = Object.entries(info)
    .filter(([k, v]) => !QUIET.has(k) && v !== undefined && typeof k === 'string')
    .map(([k, v]) => `${k}=${brief(v)}`);
  if (rest.length) parts.push(rest.join(' '));
  const line = printable(parts.join('  '));
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

/** winston's format for `textLine` (after redaction and timestamp). */
export const textFormat = (width?: number) => winston.format.printf((info) => textLine(info as Record<string, unknown>, width));
