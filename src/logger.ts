import winston from 'winston';
import type { Writable } from 'node:stream';

export type Logger = winston.Logger;

export interface LoggerOptions {
  level?: string;
  /** JSON lines go here instead of stderr; rotated by size */
  file?: string;
  /** where lines go without a file (injected so tests can read them) */
  stream?: Writable;
  /** strings that must never appear in a log line (tokens, passwords) */
  secrets?: readonly string[];
  maxSizeBytes?: number;
  maxFiles?: number;
}

/** Replace every occurrence of a secret, wherever it hides in the line. */
const redact = (secrets: readonly string[]) =>
  winston.format((info) => {
    if (secrets.length === 0) return info;
    const scrub = (v: unknown): unknown => {
      if (typeof v === 'string') return secrets.reduce((s, x) => s.split(x).join('***'), v);
      if (Array.isArray(v)) return v.map(scrub);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrub(x)]));
      return v;
    };
    for (const key of Object.keys(info)) (info as Record<string, unknown>)[key] = scrub(info[key]);
    if (typeof info.message === 'string') info.message = scrub(info.message) as string;
    return info;
  })();

/** One logger made at the edge: JSON lines to stderr (never stdout) or a size-rotated file. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const { level = 'info', file, stream = process.stderr, secrets = [], maxSizeBytes = 50 * 2 ** 20, maxFiles = 5 } = opts;
  const transport = file
    ? new winston.transports.File({ filename: file, maxsize: maxSizeBytes, maxFiles, tailable: true })
    : new winston.transports.Stream({ stream });
  return winston.createLogger({
    level,
    format: winston.format.combine(
      redact(secrets.filter((s) => s.length > 0)),
      winston.format.timestamp(),
      winston.format.json(),
    ),
    transports: [transport],
  });
}

/** A logger that drops everything (library use without a logger). */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}

/** Resolve once every transport has written what it holds. */
export async function flushLogger(logger: Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    logger.on('finish', done);
    logger.end();
    setTimeout(done, 2000).unref();
  });
}
