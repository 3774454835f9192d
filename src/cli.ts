#!/usr/bin/env -S node --max-semi-space-size=4 --max-old-space-size=1024 --liftoff-only
// The V8 flags in the line above keep peak memory near the live set: with Node's defaults
// (16 MiB semi-spaces, a multi-GB old-space limit) the heap grows lazily to ~2x what a
// batch needs (measured: 25,000 files, peak RSS 199 MB by default, 127 MB with them).
// 4 MiB semi-spaces rather than 2: fewer scavenges, 10,000 x 64 KiB batch 5.2-5.7 s -> 4.6-5.3 s
// (interleaved), for ~5 MB more peak RSS (100,000 x 1 KiB: 121 -> 126 MB; 10 x 256 MiB: ~103 MB).
// --liftoff-only: undici parses HTTP with llhttp compiled to WebAssembly, and V8 re-compiles
// it with TurboFan on a background thread; Node waits for that job before it exits, which
// kept every run alive ~180-200 ms after its work was done (and took a core meanwhile).
// Liftoff's code parses the few short response heads a batch gets at no measurable cost.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import yargs from 'yargs';
import { commands } from './commands/index.js';
import { processContext, type CliContext } from './commands/context.js';
import { numberTags } from './commands/options.js';
import { ConfigError, describeError } from './errors.js';
import { fanoutVersion } from './version.js';

/**
 * Parse argv and run one command. Usage errors (yargs' own and ConfigError) print one
 * line on stderr and give exit code 2; nothing goes to stdout.
 */
export async function runCli(argv: readonly string[], ctx: CliContext = processContext()): Promise<number> {
  const parser = yargs([...argv])
    .scriptName('fanout')
    .strict()
    .demandCommand(1, 'name a command: upload, plan, work, serve, report, migrate, status or demo')
    .recommendCommands()
    .parserConfiguration({ 'duplicate-arguments-array': true, 'strip-aliased': true })
    .help()
    .alias('help', 'h')
    .version(fanoutVersion())
    .alias('version', 'V')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      // only parse and validation errors (yargs' own, coerce's ConfigError) get here: handlers catch
      // the rest. Throwing is what keeps yargs from running the handler after a failed validation.
      throw new ConfigError(err ? err.message : msg);
    });
  for (const c of commands(ctx)) parser.command({ ...c, handler: guarded(c.handler, ctx) });
  skipEagerHelp(parser);
  try {
    let helpText = '';
    await parser.parseAsync([...argv], {}, (_err, _argv, output) => {
      helpText = output;
    });
    if (helpText) ctx.stdout.write(numberTags(helpText.endsWith('\n') ? helpText : `${helpText}\n`));
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof ConfigError) return usage(ctx, err.message);
    ctx.stderr.write(`fanout: ${describeError(err)}\n`);
    return ctx.exitCode || 1;
  }
}

/** A handler's own failure (not a ConfigError) is exit 1 with one line, never a usage error. */
function guarded<A>(handler: (argv: A) => void | Promise<void>, ctx: CliContext) {
  return async (argv: A): Promise<void> => {
    try {
      await handler(argv);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      ctx.stderr.write(`fanout: ${describeError(err).split('\n')[0]}\n`);
      ctx.exitCode = 1;
    }
  };
}

/**
 * yargs renders the command's whole help text (cliui, wrap-ansi, string-width) as soon as a
 * handler starts, in case an async handler fails later and help is to be shown with the error.
 * Our fail handler prints one line and never shows help, and `--help` renders its text afresh
 * when it is asked for, so the eager copy is never read: ~60-100 ms of CPU at the start of
 * every batch (profiled on `upload`). The Angular CLI does the same (angular/angular-cli#34087).
 */
function skipEagerHelp(parser: object): void {
  const internal = (parser as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods?.();
  const usageInstance = internal?.getUsageInstance?.();
  if (usageInstance && typeof usageInstance.cacheHelpMessage === 'function') usageInstance.cacheHelpMessage = () => {};
}

function usage(ctx: CliContext, message: string): number {
  // yargs spreads some messages over lines ("Invalid values:\n  Argument: ..."): keep them on one
  ctx.stderr.write(`fanout: ${message.replace(/\s*\n\s*/g, ' ').trim()}\n`);
  ctx.exitCode = 2;
  return 2;
}

/** Run as a program (not imported): `node src/cli.ts`, `dist/src/cli.js`, the bin bundle. */
const isMain = Boolean(process.argv[1]) && typeof import.meta.url === 'string' && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isMain) {
  void runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
