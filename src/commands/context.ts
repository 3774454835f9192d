import type { Writable } from 'node:stream';

/** What a command may touch of the process: injected so commands run in tests without spawning. */
export interface CliContext {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** set by the command; cli.ts exits with it */
  exitCode: number;
  /** signals the long-running commands listen to (process by default; an EventEmitter in tests) */
  signals: NodeJS.EventEmitter;
  /** whether stderr is a terminal (progress bars) */
  isTTY: boolean;
}

export function processContext(): CliContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    exitCode: 0,
    signals: process,
    isTTY: Boolean(process.stderr.isTTY),
  };
}
