import path from 'node:path';
import type { Writable } from 'node:stream';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';
import winston from 'winston';
import { textFormat, type LogFormat } from './logText.js';

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
  /** JSON lines (default), or short text lines for a person at a terminal */
  format?: LogFormat;
  /** text lines are cut to this many characters */
  width?: number;
}

/** A secret this long cannot turn up inside a word by chance. */
const LONG_SECRET = 16;
const WORD_CHAR = /[\p{L}\p{N}]/u;

/**
 * Whether `value` holds `secret`: anywhere for a long one; for a short one (a database
 * password, say) only where it stands as a word of its own, so a one-letter secret does
 * not hit every word that contains that letter.
 */
function holds(value: string, secret: string): boolean {
  if (secret.length >= LONG_SECRET) return value.includes(secret);
  for (let at = value.indexOf(secret); at >= 0; at = value.indexOf(secret, at + 1)) {
    const before = value[at - 1] ?? '';
    const after = value[at + secret.length] ?? '';
    if (!WORD_CHAR.test(before) && !WORD_CHAR.test(after)) return true;
  }
  return false;
}

/** Replace every field that equals or holds a secret with "***", whole: never letters inside it. */
const redact = (secrets: readonly string[]) =>
  winston.format((info) => {
    if (secrets.length === 0) return info;
    const scrub = (v: unknown): unknown => {
      if (typeof v === 'string') return secrets.some((x) => holds(v, x)) ? '***' : v;
      if (Array.isArray(v)) return v.map(scrub);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrub(x)]));
      return v;
    };
    for (const key of Object.keys(info)) (info as Record<string, unknown>)[key] = scrub(info[key]);
    if (typeof info.message === 'string') info.message = scrub(info.message) as string;
    return info;
  })();

/** One logger made at the edge: JSON (or text) lines to stderr (never stdout) or a size-rotated file. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const { level = 'info', file, stream = process.stderr, secrets = [], maxSizeBytes = 50 * 2 ** 20, maxFiles = 5, format = 'json', width } = opts;
  // winston's own File transport loses lines when it rotates under a burst and never
  // reports 'finish' (seen with winston 3.19); rotating-file-stream rotates safely
  const fileStream = file ? rotatingFile(file, maxSizeBytes, maxFiles) : undefined;
  const transport = new winston.transports.Stream({ stream: fileStream ?? stream });
  const logger = winston.createLogger({
    level,
    format: winston.format.combine(
      redact(secrets.filter((s) => s.length > 0)),
      winston.format.timestamp(),
      format === 'text' ? textFormat(width) : winston.format.json(),
    ),
    transports: [transport],
  });
  if (fileStream) fileStreams.set(logger, fileStream);
  return logger;
}

const fileStreams = new WeakMap<Logger, RotatingFileStream>();

/** `file` is the live log; rotated ones are `file.1` (newest) ... `file.N`. */
function rotatingFile(file: string, maxSizeBytes: number, maxFiles: number): RotatingFileStream {
  const name = path.basename(file);
  // classical (logrotate-style) rotation calls the generator with the rotation index alone
  return createStream((index: number | Date | null) => (index ? `${name}.${Number(index)}` : name), {
    path: path.dirname(path.resolve(file)),
    size: `${Math.max(1, Math.ceil(maxSizeBytes / 1024))}K`,
    rotate: maxFiles,
  });
}

/** A logger that drops everything (library use without a logger). */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}

/** Resolve once every transport has written what it holds. */
export async function flushLogger(logger: Logger): Promise<void> {
  const ended = (emitter: NodeJS.EventEmitter, end: () => void) =>
    new Promise<void>((resolve) => {
      emitter.once('finish', () => resolve());
      end();
      setTimeout(resolve, 2000).unref(); // never hang an exit on a log
    });
  await ended(logger, () => logger.end());
  const fileStream = fileStreams.get(logger);
  if (fileStream) await ended(fileStream, () => fileStream.end());
}
