import type { Writable } from 'node:stream';
import type { UploadConfig } from '../config.js';
import { ConfigError, describeError } from '../errors.js';
import { createLogger, flushLogger, type Logger } from '../logger.js';
import type { RunMetrics } from '../metrics/runMetrics.js';
import type { LogFormat } from '../logText.js';
import type { CliContext } from './context.js';

/**
 * What the commands that send files (upload, work, watch) set up at their edge, in one
 * place: the logger, the metrics server when asked for, and SIGINT/SIGTERM as a first
 * (stop taking files) and a second (abort in-flight uploads) signal.
 */

/** Text for a person at a terminal; JSON for files, pipes and log collectors. */
function logFormatFor(flag: LogFormat | undefined, isTTY: boolean, logFile: string | undefined): LogFormat {
  return flag ?? (isTTY && !logFile ? 'text' : 'json');
}

/** The password of a database URL, to keep it out of logs. */
function dbSecret(db: string): string[] {
  try {
    const u = new URL(db);
    return u.password ? [u.password, decodeURIComponent(u.password)] : [];
  } catch {
    return [];
  }
}

/** The run's logger: never the token or the database password, text on a terminal unless told. */
function commandLogger(
  ctx: CliContext,
  config: Pick<UploadConfig, 'logLevel' | 'logFile' | 'token' | 'db'>,
  logFormat: LogFormat | undefined,
  stream: Writable = ctx.stderr,
): Logger {
  return createLogger({
    level: config.logLevel, file: config.logFile, stream, secrets: [config.token ?? '', ...dbSecret(config.db)],
    format: logFormatFor(logFormat, ctx.isTTY, config.logFile), width: (ctx.stderr as { columns?: number }).columns,
  });
}

/** `--metrics-port`: the run's metrics served until closed; prom-client is loaded only then. A port that cannot be had is a ConfigError. */
async function serveMetricsIfAsked(port: number | undefined, logger: Logger) {
  if (port === undefined) return undefined;
  const { serveRunMetrics } = await import('../metrics/runMetrics.js');
  const metrics = await serveRunMetrics(port).catch((err: unknown) => {
    throw new ConfigError(`cannot serve metrics on port ${port}: ${describeError(err)}`, { cause: err });
  });
  logger.info('metrics_listening', { event: 'metrics_listening', url: `${metrics.url}/metrics` });
  return metrics;
}

/** SIGINT/SIGTERM: the first aborts `stop`, the second `abort`. */
function stopSignals(ctx: CliContext): { stop: AbortSignal; abort: AbortSignal; release(): void } {
  const stop = new AbortController();
  const abort = new AbortController();
  const onSignal = () => (stop.signal.aborted ? abort.abort() : stop.abort());
  ctx.signals.on('SIGINT', onSignal);
  ctx.signals.on('SIGTERM', onSignal);
  return {
    stop: stop.signal,
    abort: abort.signal,
    release() {
      // once interrupted, a further signal while the summary is written must not kill the
      // process (its exit code would be lost): the handler stays, and is a no-op by now
      if (stop.signal.aborted) return;
      ctx.signals.off('SIGINT', onSignal);
      ctx.signals.off('SIGTERM', onSignal);
    },
  };
}

/** What a run of upload, work or watch takes from its command: the logger, the two signals, and the metrics' hooks. */
export interface SessionDeps {
  logger: Logger;
  stop: AbortSignal;
  abort: AbortSignal;
  onStart: RunMetrics['onStart'];
  onTally: RunMetrics['onTally'];
  onResult: RunMetrics['onResult'];
}

/**
 * A command's run between its edges: the logger, `--metrics-port` and the signals set up,
 * `run` given them, and all of it taken down on every way out (the metrics closed, the
 * signals released, the log flushed). `stream`: where log lines go (upload's progress
 * display routes them above its bars).
 */
export async function withSession<T>(
  ctx: CliContext,
  config: Pick<UploadConfig, 'logLevel' | 'logFile' | 'token' | 'db'>,
  opts: { logFormat?: LogFormat; metricsPort?: number; stream?: Writable },
  run: (deps: SessionDeps) => Promise<T>,
): Promise<T> {
  const logger = commandLogger(ctx, config, opts.logFormat, opts.stream);
  const metrics = await serveMetricsIfAsked(opts.metricsPort, logger);
  const signals = stopSignals(ctx);
  try {
    return await run({
      logger, stop: signals.stop, abort: signals.abort,
      onStart: (r) => metrics?.onStart(r), onTally: (t) => metrics?.onTally(t), onResult: (r) => metrics?.onResult(r),
    });
  } finally {
    await metrics?.close();
    signals.release();
    await flushLogger(logger);
  }
}
