import { randomBytes } from 'node:crypto';
import { access, constants, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from './errors.js';
import { weakToken } from './http/bearer.js';
import { parseBytes } from './http/parseBytes.js';
import { ASSIGN_STRATEGIES, type AssignStrategy } from './operators/assignTargets.js';

/** Defaults of `fanout upload`, in one place (DESIGN.md, Command line). */
export const DEFAULTS = {
  assign: 'round-robin' as AssignStrategy,
  /** each target finds its own limit (src/http/limits/vegasLimit.ts), up to perTargetMax */
  perTarget: 'auto' as number | 'auto',
  perTargetMax: 32,
  retries: 3,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  downAfter: 5,
  probeMs: 5_000,
  maxWaitMs: 600_000,
  graceMs: 10_000,
  dbRetryMs: 60_000,
  db: 'sqlite:fanout.sqlite',
  logLevel: 'info',
} as const;

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
const BATCH_ID = /^[A-Za-z0-9._-]{1,64}$/;
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the CLI (or an embedding service) hands in, before checks. */
export interface RawUploadArgs {
  dir: string;
  target?: readonly string[];
  targetsFile?: string;
  /** a list of files under dir to take in place of a walk: a path, or '-' for stdin */
  filesFrom?: string;
  include?: readonly string[];
  exclude?: readonly string[];
  minAge?: number;
  assign?: string;
  perTarget?: number | 'auto';
  perTargetMax?: number;
  concurrency?: number;
  retries?: number;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  downAfter?: number;
  probeMs?: number;
  maxWaitMs?: number;
  maxErrors?: number;
  graceMs?: number;
  dbRetryMs?: number;
  bwlimit?: string;
  bwlimitPerTarget?: string;
  batchId?: string;
  resume?: boolean;
  db?: string;
  processId?: number;
  token?: string;
  tokenFile?: string;
  dryRun?: boolean;
  json?: boolean;
  logLevel?: string;
  logFile?: string;
  progress?: boolean;
  report?: string;
  followSymlinks?: boolean;
  ignoreCase?: boolean;
}

export interface UploadConfig {
  dir: string;
  /** take the files this list names (a path, or '-' for stdin) instead of walking dir */
  filesFrom?: string;
  targets: string[];
  include: string[];
  exclude: string[];
  minAgeMs: number;
  followSymlinks: boolean;
  /** globs match without regard to case */
  ignoreCase: boolean;
  assign: AssignStrategy;
  /** max uploads in flight per target: the fixed limit, or with `adaptive` the cap (--per-target-max) */
  perTarget: number;
  /** --per-target auto: each target's limit adapts to what it shows, up to perTarget */
  adaptive: boolean;
  /** effective overall limit: the smaller of --concurrency and targets x per-target */
  concurrency: number;
  retries: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  downAfter: number;
  probeMs: number;
  /** with no target up this long, the run stops (files not sent stay pending) */
  maxWaitMs: number;
  /** stop taking files once this many have failed in this run */
  maxErrors?: number;
  graceMs: number;
  dbRetryMs: number;
  bwlimit?: number;
  bwlimitPerTarget?: number;
  batchId: string;
  resume: boolean;
  db: string;
  processId?: number;
  token?: string;
  dryRun: boolean;
  json: boolean;
  logLevel: string;
  logFile?: string;
  progress?: boolean;
  report?: string;
}

/** A new unique batch id: sortable by start time, random suffix (Node's crypto, no dependency needed). */
export function newBatchId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

/** Normalise one target URL: http(s) only, no credentials, query or fragment; trailing / dropped. */
export function normaliseTarget(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(`malformed target URL: "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`target URL must be http or https: "${raw}"`);
  if (url.username || url.password) throw new ConfigError(`target URL must not carry credentials (use --token): "${url.host}${url.pathname}"`);
  if (url.search || url.hash) throw new ConfigError(`target URL must not have a query or fragment: "${raw}"`);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

function positiveInt(name: string, v: number | undefined, fallback: number, min = 1): number {
  const x = v ?? fallback;
  if (!Number.isInteger(x) || x < min) throw new ConfigError(`--${name} must be an integer >= ${min}, got ${v}`);
  return x;
}

async function readTargetsFile(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new ConfigError(`cannot read --targets-file "${file}": ${err.code ?? err.message}`);
  });
  return text.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
}

/** The token from a file (first line, surrounding whitespace dropped), so it never sits on a command line. */
async function readTokenFile(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new ConfigError(`cannot read --token-file "${file}": ${err.code ?? err.message}`);
  });
  const token = text.split('\n')[0].trim();
  if (!token) throw new ConfigError(`--token-file "${file}" is empty`);
  return token;
}

/** `-` (stdin) or a regular file we can read. */
async function checkFileList(file: string): Promise<string> {
  if (file === '-') return file;
  const st = await stat(file).catch(() => null);
  if (!st) throw new ConfigError(`--files-from: file not found: "${file}"`);
  if (!st.isFile()) throw new ConfigError(`--files-from: not a file: "${file}"`);
  try {
    await access(file, constants.R_OK);
  } catch {
    throw new ConfigError(`--files-from: file not readable: "${file}"`);
  }
  return file;
}

async function checkDir(dir: string): Promise<string> {
  const abs = path.resolve(dir);
  const st = await stat(abs).catch(() => null);
  if (!st) throw new ConfigError(`directory not found: "${dir}"`);
  if (!st.isDirectory()) throw new ConfigError(`not a directory: "${dir}"`);
  await access(abs, constants.R_OK | constants.X_OK).catch(() => {
    throw new ConfigError(`directory not readable: "${dir}"`);
  });
  return abs;
}

/** Check every option before anything runs; a problem is a ConfigError naming the bad value. */
export async function normaliseUploadConfig(raw: RawUploadArgs, env: NodeJS.ProcessEnv = process.env): Promise<UploadConfig> {
  if (raw.resume && !raw.batchId) throw new ConfigError('--resume needs --batch-id (the batch to resume)');
  if (raw.batchId !== undefined && !BATCH_ID.test(raw.batchId)) throw new ConfigError(`bad --batch-id "${raw.batchId}": use 1-64 of A-Z a-z 0-9 . _ -`);
  const assign = (raw.assign ?? DEFAULTS.assign) as AssignStrategy;
  if (!ASSIGN_STRATEGIES.includes(assign)) throw new ConfigError(`unknown --assign "${raw.assign}" (round-robin or least-loaded)`);
  const logLevel = raw.logLevel ?? DEFAULTS.logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new ConfigError(`unknown --log-level "${logLevel}" (${LOG_LEVELS.join(', ')})`);
  if (raw.minAge !== undefined && !(raw.minAge >= 0)) throw new ConfigError(`--min-age must be >= 0, got ${raw.minAge}`);

  const wanted = raw.perTarget ?? DEFAULTS.perTarget;
  const adaptive = wanted === 'auto';
  if (!adaptive && raw.perTargetMax !== undefined) throw new ConfigError(`--per-target-max goes with --per-target auto, not --per-target ${wanted}`);
  const perTarget = adaptive ? positiveInt('per-target-max', raw.perTargetMax, DEFAULTS.perTargetMax) : positiveInt('per-target', wanted, 4);
  const retries = positiveInt('retries', raw.retries, DEFAULTS.retries, 0);
  const connectTimeoutMs = positiveInt('connect-timeout-ms', raw.connectTimeoutMs, DEFAULTS.connectTimeoutMs);
  const idleTimeoutMs = positiveInt('idle-timeout-ms', raw.idleTimeoutMs, DEFAULTS.idleTimeoutMs);
  const downAfter = positiveInt('down-after', raw.downAfter, DEFAULTS.downAfter);
  const probeMs = positiveInt('probe-ms', raw.probeMs, DEFAULTS.probeMs);
  const maxWaitMs = positiveInt('max-wait-ms', raw.maxWaitMs, DEFAULTS.maxWaitMs);
  // a timer takes at most 2^31-1 ms (about 24.8 days); a longer one would fire at once
  if (maxWaitMs > MAX_TIMER_MS) throw new ConfigError(`--max-wait-ms must be at most ${MAX_TIMER_MS}, got ${maxWaitMs}`);
  const maxErrors = raw.maxErrors === undefined ? undefined : positiveInt('max-errors', raw.maxErrors, 1);
  const graceMs = positiveInt('grace-ms', raw.graceMs, DEFAULTS.graceMs, 0);
  const dbRetryMs = positiveInt('db-retry-ms', raw.dbRetryMs, DEFAULTS.dbRetryMs, 0);
  const bwlimit = raw.bwlimit === undefined ? undefined : parseRate('bwlimit', raw.bwlimit);
  const bwlimitPerTarget = raw.bwlimitPerTarget === undefined ? undefined : parseRate('bwlimit-per-target', raw.bwlimitPerTarget);

  const listed = (raw.target ?? []).flatMap((t) => String(t).split(',')).map((t) => t.trim()).filter(Boolean);
  if (raw.targetsFile) listed.push(...(await readTargetsFile(raw.targetsFile)));
  const targets = [...new Set(listed.map(normaliseTarget))];
  if (targets.length === 0) throw new ConfigError('no targets: give --target URL (repeatable) or --targets-file FILE');

  const concurrencyGiven = raw.concurrency === undefined ? undefined : positiveInt('concurrency', raw.concurrency, 1);
  const dir = await checkDir(raw.dir);
  const filesFrom = raw.filesFrom === undefined ? undefined : await checkFileList(raw.filesFrom);
  if (raw.token !== undefined && raw.tokenFile !== undefined) throw new ConfigError('give --token or --token-file, not both');
  const token = raw.tokenFile !== undefined ? await readTokenFile(raw.tokenFile) : (raw.token ?? env.FANOUT_TOKEN);
  // the receiver refuses such a token (fanout serve): a client holding one could never be let in
  const weak = token ? weakToken(token) : undefined;
  if (weak) throw new ConfigError(`bad ${raw.tokenFile !== undefined ? `--token-file "${raw.tokenFile}"` : raw.token !== undefined ? '--token' : '$FANOUT_TOKEN'}: the token ${weak}`);
  return {
    dir, filesFrom, targets, assign, perTarget, adaptive, retries, connectTimeoutMs, idleTimeoutMs, downAfter, probeMs, maxWaitMs, maxErrors, graceMs, dbRetryMs,
    bwlimit, bwlimitPerTarget, logLevel,
    include: [...(raw.include ?? [])].map(String),
    exclude: [...(raw.exclude ?? [])].map(String),
    minAgeMs: Math.round((raw.minAge ?? 0) * 1000),
    followSymlinks: raw.followSymlinks ?? false,
    ignoreCase: raw.ignoreCase ?? false,
    concurrency: Math.min(concurrencyGiven ?? Infinity, targets.length * perTarget),
    batchId: raw.batchId ?? newBatchId(),
    resume: raw.resume ?? false,
    db: raw.db ?? env.FANOUT_DB ?? DEFAULTS.db,
    processId: raw.processId,
    token: token || undefined,
    dryRun: raw.dryRun ?? false,
    json: raw.json ?? false,
    logFile: raw.logFile,
    progress: raw.progress,
    report: raw.report,
  };
}

function parseRate(name: string, value: string): number {
  try {
    const n = parseBytes(String(value));
    if (n <= 0) throw new Error();
    return n;
  } catch {
    throw new ConfigError(`bad --${name} "${value}": bytes per second, e.g. 50M or 100Mi`);
  }
}
