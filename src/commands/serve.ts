import { stat } from 'node:fs/promises';
import type { CommandModule } from 'yargs';
import { ConfigError, describeError } from '../errors.js';
import { createLogger, flushLogger } from '../logger.js';
import { weakToken } from '../http/bearer.js';
import { parseBytes } from '../http/parseBytes.js';
import { makeDir } from '../http/receiverDir.js';
import { RECEIVER_DEFAULTS, startReceiver, type Receiver, type ReceiverOptions } from '../http/server.js';

import type { CliContext } from './context.js';

/** As yargs hands them over: strings, validated here so a bad value is named in the error. */
export interface ServeArgs {
  port?: unknown;
  dir?: unknown;
  host?: unknown;
  token?: unknown;
  maxBytes?: unknown;
  delayMs?: unknown;
  slots?: unknown;
  idleTimeoutMs?: unknown;
  maxConnections?: unknown;
  metricsPort?: unknown;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** `fanout serve`: the reference receiver of a GPU host, until SIGINT or SIGTERM. */
export function serveCommand(ctx: CliContext): CommandModule<object, ServeArgs> {
  return {
    command: 'serve',
    describe: 'run a receiver (a simulated GPU host) that stores uploads under --dir',
    builder: {
      port: { type: 'string', demandOption: true, requiresArg: true, describe: 'port to listen on; 0 picks a free one' },
      dir: { type: 'string', demandOption: true, requiresArg: true, describe: 'where files land (created if missing)' },
      host: { type: 'string', requiresArg: true, default: RECEIVER_DEFAULTS.host, describe: 'address to bind' },
      token: { type: 'string', requiresArg: true, describe: 'require "authorization: Bearer T" (or $FANOUT_TOKEN)' },
      'max-bytes': { type: 'string', requiresArg: true, default: '10Gi', describe: 'largest body accepted (k, M, G, Ki, Mi, Gi)' },
      'delay-ms': { type: 'string', requiresArg: true, default: '0', describe: 'simulated service time per upload' },
      slots: { type: 'string', requiresArg: true, default: '0', describe: 'uploads served at once (0 = unlimited)' },
      'idle-timeout-ms': {
        type: 'string',
        requiresArg: true,
        default: String(RECEIVER_DEFAULTS.idleTimeoutMs),
        describe: 'drop an upload whose body sends nothing for this long',
      },
      'metrics-port': { type: 'string', requiresArg: true, describe: 'serve /metrics (Prometheus), /healthz and /readyz on this port (127.0.0.1)' },
      'max-connections': {
        type: 'string',
        requiresArg: true,
        default: String(RECEIVER_DEFAULTS.maxConnections),
        describe: 'connections open at once; more are closed on arrival (keep it under the descriptor limit)',
      },
    },
    handler: async (argv) => {
      const stop = waitForStop(ctx.signals); // listen first: a signal during start-up is not lost
      try {
        const opts = await serveOptions(argv, ctx.env);
        const metricsPort = argv.metricsPort === undefined ? undefined : wholeNumber('metrics-port', argv.metricsPort, 65535);
        const logger = createLogger({ stream: ctx.stderr, secrets: opts.token === undefined ? [] : [opts.token] });
        const receiver = await startReceiver({ ...opts, logger }).catch(async (err: unknown) => {
          await flushLogger(logger);
          if (err instanceof ConfigError) throw err;
          throw new ConfigError(`cannot listen on ${opts.host}:${opts.port}: ${describeError(err)}`, { cause: err });
        });
        ctx.stdout.write(`listening on ${receiver.url}\n`);
        const metrics = metricsPort === undefined ? undefined : await serveMetrics(metricsPort, receiver, opts.host).catch(async (err: unknown) => {
          await receiver.close();
          throw new ConfigError(`cannot serve metrics on port ${metricsPort}: ${describeError(err)}`, { cause: err });
        });
        if (metrics) ctx.stdout.write(`metrics on ${metrics.url}/metrics\n`);
        const signal = await stop.promise;
        logger.info('receiver_stopping', { signal });
        await metrics?.close();
        await receiver.close();
        await flushLogger(logger);
        ctx.exitCode = 0;
      } finally {
        stop.dispose();
      }
    },
  };
}

/** The receiver's metrics and probes on a port of their own (prom-client is loaded only then). */
async function serveMetrics(port: number, receiver: Receiver, host: string) {
  const [{ Registry }, { startMetricsServer }, { registerReceiverMetrics }] = await Promise.all([
    import('prom-client'), import('../metrics/metricsServer.js'), import('../metrics/receiverMetrics.js'),
  ]);
  const registry = new Registry();
  registerReceiverMetrics(registry, () => receiver.stats());
  return startMetricsServer({
    registry, port, host,
    ready: async () => ((await receiver.healthy()) ? { ok: true } : { ok: false, reason: 'cannot write to the dir' }),
  });
}

/** Check every option before anything starts; each error names the bad value. */
export async function serveOptions(argv: ServeArgs, env: NodeJS.ProcessEnv): Promise<ReceiverOptions & { host: string; port: number }> {
  const port = wholeNumber('port', argv.port, 65535);
  const dir = text('dir', argv.dir);
  const host = text('host', argv.host ?? RECEIVER_DEFAULTS.host);
  const token = argv.token === undefined ? env.FANOUT_TOKEN || undefined : text('token', argv.token);
  const weak = token === undefined ? undefined : weakToken(token);
  if (weak) throw new ConfigError(`${argv.token === undefined ? '$FANOUT_TOKEN' : '--token'} ${weak}`);
  let maxBytes: number;
  try {
    maxBytes = parseBytes(text('max-bytes', argv.maxBytes ?? '10Gi'));
  } catch (err) {
    throw err instanceof ConfigError ? new ConfigError(`--max-bytes: ${err.message}`, { cause: err }) : err;
  }
  const delayMs = wholeNumber('delay-ms', argv.delayMs ?? '0', Number.MAX_SAFE_INTEGER);
  const slots = wholeNumber('slots', argv.slots ?? '0', Number.MAX_SAFE_INTEGER);
  const idleTimeoutMs = wholeNumber('idle-timeout-ms', argv.idleTimeoutMs ?? String(RECEIVER_DEFAULTS.idleTimeoutMs), Number.MAX_SAFE_INTEGER, 1);
  const maxConnections = wholeNumber('max-connections', argv.maxConnections ?? String(RECEIVER_DEFAULTS.maxConnections), Number.MAX_SAFE_INTEGER, 1);
  await usableDir(dir);
  return { dir, host, port, token, maxBytes, delayMs, slots, idleTimeoutMs, maxConnections };
}

function text(name: string, raw: unknown): string {
  if (Array.isArray(raw)) throw new ConfigError(`--${name} given more than once`);
  const s = String(raw ?? '');
  if (s.trim() === '') throw new ConfigError(`--${name} needs a value`);
  return s;
}

function wholeNumber(name: string, raw: unknown, max: number, min = 0): number {
  const s = text(name, raw).trim();
  if (!/^\d+$/.test(s) || Number(s) > max || Number(s) < min) throw new ConfigError(`--${name}: "${s}" is not a whole number ${min}..${max}`);
  return Number(s);
}

async function usableDir(dir: string): Promise<void> {
  try {
    await makeDir(dir); // 0755 whatever the umask: the receiver refuses a dir others may write
    if (!(await stat(dir)).isDirectory()) throw new Error('not a folder');
  } catch (err) {
    throw new ConfigError(`--dir "${dir}" cannot be used: ${describeError(err)}`, { cause: err });
  }
}

/** The first SIGINT or SIGTERM on `signals`; dispose() removes the listeners. */
function waitForStop(signals: NodeJS.EventEmitter): { promise: Promise<string>; dispose(): void } {
  let onSignal: (signal: string) => void = () => undefined;
  const listeners = STOP_SIGNALS.map((name) => [name, () => onSignal(name)] as const);
  const promise = new Promise<string>((resolve) => {
    onSignal = resolve;
  });
  for (const [name, listener] of listeners) signals.on(name, listener);
  return { promise, dispose: () => listeners.forEach(([name, listener]) => signals.off(name, listener)) };
}
