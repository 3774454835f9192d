import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli.js';
import type { CliContext } from '../../src/commands/context.js';

export interface CliRun {
  code: number;
  /** the signal that ended the process, if one did */
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A context whose streams are collected, and whose signals are an emitter the test drives. */
export function fakeContext(env: NodeJS.ProcessEnv = {}, exitCode = 0): CliContext & { signals: EventEmitter; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  return { stdout, stderr, env, exitCode, signals: new EventEmitter(), isTTY: false, out: () => out, err: () => err };
}

/** Run the CLI in this process (argv strings, no spawn). */
export async function cli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const ctx = fakeContext(env);
  const code = await runCli(argv, ctx);
  await new Promise((r) => setImmediate(r));
  return { code, stdout: ctx.out(), stderr: ctx.err() };
}

export const CLI_ENTRY = path.resolve(import.meta.dirname, '../../src/cli.ts');

/** The real CLI as a child process (for signals and exit codes at the process level); `stdin` is piped in when given. */
export function spawnCli(argv: string[], env: NodeJS.ProcessEnv = {}, opts: { stdin?: string } = {}): ChildProcess & { done: Promise<CliRun> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...argv], {
    env: { ...process.env, ...env },
    stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  const done = new Promise<CliRun>((resolve) => {
    child.on('close', (code, signal) => resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : -1), signal, stdout, stderr }));
  });
  return Object.assign(child, { done });
}
