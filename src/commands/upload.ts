import type { Argv, CommandModule } from 'yargs';
import { DEFAULTS, LOG_LEVELS, MAX_TIMER_MS, normaliseUploadConfig, type RawUploadArgs, type UploadConfig } from '../config.js';
import { dryRun } from '../runs/dryRun.js';
import { ConfigError, describeError } from '../errors.js';
import { LOG_FORMATS, type LogFormat } from '../logText.js';
import { ASSIGN_STRATEGIES } from '../operators/assignTargets.js';
import { LogRouter } from '../progress/logRouter.js';
import { progressIntervalFrom, startProgress, wantsBars } from '../progress/startProgress.js';
import { runBatch } from '../runBatch.js';
import { fillFromBatch } from '../runs/resumeFromBatch.js';
import type { Assignment, Summary } from '../types.js';
import type { CliContext } from './context.js';
import { withSession } from './session.js';
import { autoOr, decimal, int, list, single } from './options.js';
import { formatSummary } from './format.js';
import { formatBytes } from '../units.js';
import { printablePath } from '../pathBytes.js';

/** Which files a walk takes and how they are assigned: the options of every command that walks a tree (upload, plan, watch). */
export function walkOptions(y: Argv) {
  return y
    .option('include', { type: 'string', nargs: 1, coerce: list, describe: 'glob of files to take (repeatable)' })
    .option('exclude', { type: 'string', nargs: 1, coerce: list, describe: 'glob of files to leave (repeatable)' })
    .option('ignore-case', { type: 'boolean', describe: 'globs match without regard to case (*.wav takes CALL.WAV)' })
    .option('min-age', { type: 'string', nargs: 1, coerce: decimal('min-age'), describe: 'skip files modified less than SECONDS ago' })
    .option('assign', { type: 'string', nargs: 1, choices: ASSIGN_STRATEGIES, default: DEFAULTS.assign })
    .option('follow-symlinks', { type: 'boolean', describe: 'follow symbolic links while walking (default: not)' });
}

/** The targets, given on the command line or in a file. */
export function targetOptions(y: Argv) {
  return y
    .option('target', { type: 'string', nargs: 1, coerce: list, describe: 'target base URL (repeat, or a comma-separated list)' })
    .option('targets-file', { type: 'string', nargs: 1, coerce: single('targets-file'), describe: 'file with one target URL a line, # comments' });
}

/** What `upload` adds to the send options: where the files come from, and how a run is shown. */
export function uploadOptions(y: Argv) {
  return walkOptions(sendOptions(y))
    .positional('dir', { type: 'string', describe: 'directory of files to distribute (with --resume: default the batch\'s own)' })
    .option('files-from', { type: 'string', nargs: 1, coerce: single('files-from'), describe: 'take the files this list names (paths relative to <dir>, one a line; - for stdin) instead of walking <dir>' })
    .option('resume', { type: 'boolean', describe: 'skip files already uploaded in --batch-id' })
    .option('dry-run', { type: 'boolean', describe: 'print the plan; upload and record nothing' })
    .option('progress', { type: 'boolean', describe: 'live progress bars on stderr (default: on when stderr is a TTY); without them a "progress" log line every 5 s ($FANOUT_PROGRESS_INTERVAL_MS)' })
    .option('report', { type: 'string', nargs: 1, coerce: single('report'), describe: 'write the timeline report (HTML) when the batch ends' });
}

/**
 * The options of every command that sends files (upload, work): targets, limits, retries,
 * health, the database, the token, logs and metrics.
 */
export function sendOptions(y: Argv) {
  return targetOptions(y)
    .option('per-target', { type: 'string', nargs: 1, coerce: autoOr(int('per-target', 1, 1024)), describe: `uploads in flight per target: auto (each target finds its own, see --per-target-max) or a fixed N (default ${DEFAULTS.perTarget})` })
    .option('per-target-max', { type: 'string', nargs: 1, coerce: int('per-target-max', 1, 1024), describe: `with --per-target auto, the most in flight at one target (default ${DEFAULTS.perTargetMax})` })
    .option('concurrency', { type: 'string', nargs: 1, coerce: int('concurrency', 1, 100_000), describe: 'max uploads in flight overall (default targets x per-target)' })
    .option('retries', { type: 'string', nargs: 1, coerce: int('retries', 0, 100), describe: `extra attempts for transient errors (default ${DEFAULTS.retries})` })
    .option('connect-timeout-ms', { type: 'string', nargs: 1, coerce: int('connect-timeout-ms', 1), describe: `TCP connect timeout (default ${DEFAULTS.connectTimeoutMs})` })
    .option('idle-timeout-ms', { type: 'string', nargs: 1, coerce: int('idle-timeout-ms', 1), describe: `no bytes moving this long fails the attempt; no cap on a whole upload (default ${DEFAULTS.idleTimeoutMs})` })
    .option('down-after', { type: 'string', nargs: 1, coerce: int('down-after', 1), describe: `consecutive failures that mark a target down (default ${DEFAULTS.downAfter})` })
    .option('probe-ms', { type: 'string', nargs: 1, coerce: int('probe-ms', 1), describe: `how often a down target is probed (default ${DEFAULTS.probeMs})` })
    .option('max-wait-ms', { type: 'string', nargs: 1, coerce: int('max-wait-ms', 1, MAX_TIMER_MS), describe: `with no target up, how long to wait (probing) before the run stops, files left pending (default ${DEFAULTS.maxWaitMs})` })
    .option('max-errors', { type: 'string', nargs: 1, coerce: int('max-errors', 1), describe: 'stop taking files once this many have failed (default: never); the rest stay pending' })
    .option('grace-ms', { type: 'string', nargs: 1, coerce: int('grace-ms', 0), describe: `after SIGINT/SIGTERM, how long in-flight uploads may finish; a second signal aborts them (default ${DEFAULTS.graceMs})` })
    .option('db-retry-ms', { type: 'string', nargs: 1, coerce: int('db-retry-ms', 0), describe: `how long record writes are retried while the database is away (default ${DEFAULTS.dbRetryMs})` })
    .option('bwlimit', { type: 'string', nargs: 1, coerce: single('bwlimit'), describe: 'bytes/s overall (k M G = 10^3.., Ki Mi Gi = 2^10..)' })
    .option('bwlimit-per-target', { type: 'string', nargs: 1, coerce: single('bwlimit-per-target'), describe: 'bytes/s per target' })
    .option('batch-id', { type: 'string', nargs: 1, coerce: single('batch-id'), describe: '[A-Za-z0-9._-]{1,64}; default: a new unique id' })
    .option('db', { type: 'string', nargs: 1, coerce: single('db'), describe: 'mysql://user:pass@host:port/db or sqlite:PATH (default $FANOUT_DB, else sqlite:fanout.sqlite)' })
    .option('process-id', { type: 'string', nargs: 1, coerce: int('process-id', 1), describe: 'stamp this process\'s audit form id on the calls records' })
    .option('token', { type: 'string', nargs: 1, coerce: single('token'), describe: 'bearer token (or $FANOUT_TOKEN)' })
    .option('token-file', { type: 'string', nargs: 1, coerce: single('token-file'), describe: 'read the bearer token from this file (its first line), off the command line' })
    .option('json', { type: 'boolean', describe: 'print one JSON summary on stdout' })
    .option('log-level', { type: 'string', nargs: 1, choices: LOG_LEVELS, default: DEFAULTS.logLevel })
    .option('log-format', { type: 'string', nargs: 1, choices: LOG_FORMATS, describe: 'json lines, or short text lines for people (default: text on a terminal without --log-file, else json)' })
    .option('log-file', { type: 'string', nargs: 1, coerce: single('log-file'), describe: 'JSON lines to this file instead of stderr, rotated by size (50 MB, 5 kept)' })
    .option('metrics-port', { type: 'string', nargs: 1, coerce: int('metrics-port', 0, 65535), describe: 'serve /metrics (Prometheus), /healthz and /readyz on this port (127.0.0.1) while the batch runs' });
}

type UploadArgs = Omit<RawUploadArgs, 'dir'> & { dir?: string; targetsFile?: string; logFormat?: LogFormat; metricsPort?: number };

/** Exit code from a summary: 0 all done, 1 any failure or a run that stopped early (`reason`), 130 interrupted. */
export function exitCodeOf(s: Summary): number {
  if (s.status === 'interrupted') return 130;
  return s.status === 'completed' ? 0 : 1;
}

export function uploadCommand(ctx: CliContext): CommandModule<object, UploadArgs> {
  return {
    command: 'upload [dir]',
    describe: 'distribute the files of a directory across the targets',
    builder: (y) => uploadOptions(y) as unknown as Argv<UploadArgs>,
    handler: async (argv) => {
      let config: UploadConfig;
      try {
        config = await normaliseUploadConfig(await fillFromBatch(argv, ctx.env), ctx.env);
      } catch (err) {
        if (err instanceof ConfigError) throw err;
        throw new ConfigError(describeError(err));
      }
      if (config.dryRun) {
        ctx.exitCode = await printDryRun(ctx, config);
        return;
      }
      const intervalMs = progressIntervalFrom(ctx.env);
      // log lines to the terminal go through the router, which prints them above the bars while they show
      const logRouter = config.logFile ? undefined : new LogRouter(ctx.stderr);
      await withSession(ctx, config, { logFormat: argv.logFormat, metricsPort: argv.metricsPort, stream: logRouter }, async (deps) => {
        const progress = startProgress({ bars: wantsBars(config.progress, ctx.isTTY), stream: ctx.stderr, logger: deps.logger, intervalMs, logRouter });
        let summary: Summary;
        try {
          summary = await runBatch(config, {
            ...deps,
            onStart: (run) => {
              progress.onStart(run);
              deps.onStart(run);
            },
            onTally: (t) => {
              progress.onTally(t);
              deps.onTally(t);
            },
          });
        } finally {
          progress.stop(); // before the summary, and on every way out
        }
        ctx.stdout.write(config.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
        ctx.exitCode = exitCodeOf(summary);
      });
    },
  };
}

async function printDryRun(ctx: CliContext, config: UploadConfig): Promise<number> {
  const line = (a: Assignment) =>
    a.skip
      ? `${printablePath(a.file.path)} skipped: uploaded to ${a.target ?? '?'}`
      : `${printablePath(a.file.path)} -> ${a.file.invalidName ? 'none: the name is not valid UTF-8' : a.file.error ? `none: ${a.file.error}` : a.target}`;
  const plan = await dryRun(config, config.json ? undefined : (a) => ctx.stdout.write(`${line(a)}\n`));
  if (config.json) {
    ctx.stdout.write(`${JSON.stringify(plan)}\n`);
    return 0;
  }
  ctx.stdout.write(`\nplan (${config.assign}${config.assign === 'least-loaded' ? ': decided at upload time, even split shown' : ''}): ${plan.total} files, ${formatBytes(plan.bytes)}${plan.skipped === undefined ? '' : `; ${plan.skipped} already uploaded, skipped`}\n`);
  for (const [t, v] of Object.entries(plan.targets)) ctx.stdout.write(`  ${t}  ${v.files} files  ${formatBytes(v.bytes)}\n`);
  return 0;
}
