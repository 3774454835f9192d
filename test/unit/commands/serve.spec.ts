import { expect } from 'chai';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import yargs from 'yargs';
import { serveCommand } from '../../../src/commands/serve.js';
import type { CliContext } from '../../../src/commands/context.js';
import { ConfigError } from '../../../src/errors.js';
import { parseBytes } from '../../../src/http/parseBytes.js';
import { runCli } from '../../../src/cli.js';
import { readTree } from '../../helpers/receivers.js';
import { fakeContext as sharedFakeContext, spawnCli } from '../../helpers/cli.js';
import { trickle, until } from '../http/rawClient.js';

type FakeContext = ReturnType<typeof fakeContext>;
/** exitCode starts at -1, so a test sees the handler set it */
const fakeContext = (env: NodeJS.ProcessEnv = {}) => sharedFakeContext(env, -1);

const runServe = (argv: string[], ctx: CliContext) =>
  yargs(argv)
    .command(serveCommand(ctx))
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    })
    .parseAsync();

/** The URL from the one `listening on …` line, once it is printed. */
async function listeningUrl(ctx: FakeContext, run: Promise<unknown>): Promise<string> {
  const line = await Promise.race([
    new Promise<string>((resolve) => {
      const check = () => (ctx.out().includes('\n') ? resolve(ctx.out()) : setTimeout(check, 5));
      check();
    }),
    run.then(() => Promise.reject(new Error('serve ended before listening'))),
  ]);
  const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(line);
  expect(match, line).to.not.equal(null);
  return match![1];
}

/** `fanout serve` through the whole CLI; stopped with SIGINT if it starts, so a refusal shows as exit 2. */
async function serveOnce(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const ctx = sharedFakeContext(env);
  const run = runCli(['serve', '--port', '0', ...argv], ctx);
  const stopper = setInterval(() => ctx.out().includes('listening on') && ctx.signals.emit('SIGINT'), 10);
  const code = await run.finally(() => clearInterval(stopper));
  return { code, out: ctx.out(), err: ctx.err() };
}

describe('serveCommand', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fanout-serve-spec-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('should print the bound URL, store an upload and stop on SIGINT', async () => {
    const ctx = fakeContext();
    const token = 'serve-t0ken-abcdef';
    const run = runServe(['serve', '--port', '0', '--dir', dir, '--token', token, '--max-bytes', '1Mi'], ctx);
    const url = await listeningUrl(ctx, run);
    const res = await request(`${url}/files/${encodeURIComponent('a b.txt')}`, { method: 'PUT', body: 'hello', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).to.equal(201);
    await res.body.dump();
    expect((await readTree(dir)).get('a b.txt')?.toString()).to.equal('hello');
    ctx.signals.emit('SIGINT');
    await run;
    expect(ctx.exitCode).to.equal(0);
    expect(ctx.out()).to.equal(`listening on ${url}\n`);
    expect(ctx.err()).to.include('receiver_listening').and.include('receive_stored');
    expect(ctx.err()).not.to.include(token);
    expect(ctx.signals.listenerCount('SIGINT') + ctx.signals.listenerCount('SIGTERM')).to.equal(0);
  });

  it('should take the token from FANOUT_TOKEN and stop on SIGTERM', async () => {
    const ctx = fakeContext({ FANOUT_TOKEN: 'from-env-0123456789' });
    const run = runServe(['serve', '--port', '0', '--dir', dir, '--slots', '1', '--delay-ms', '5'], ctx);
    const url = await listeningUrl(ctx, run);
    const without = await request(`${url}/files/x`, { method: 'PUT', body: 'x' });
    const withToken = await request(`${url}/files/x`, { method: 'PUT', body: 'x', headers: { authorization: 'Bearer from-env-0123456789' } });
    expect([without.statusCode, withToken.statusCode]).to.deep.equal([401, 201]);
    ctx.signals.emit('SIGTERM');
    await run;
    expect(ctx.exitCode).to.equal(0);
  });

  const refusals: Array<[string, Record<string, string>, string]> = [
    ['a bad --max-bytes', { 'max-bytes': '12Q' }, '"12Q"'],
    ['a non-numeric --port', { port: 'abc' }, '"abc"'],
    ['an out-of-range --port', { port: '70000' }, '"70000"'],
    ['a negative --slots', { slots: '-1' }, '"-1"'],
    ['a fractional --delay-ms', { 'delay-ms': '2.5' }, '"2.5"'],
    ['a zero --max-connections', { 'max-connections': '0' }, '"0"'],
    ['a zero --idle-timeout-ms', { 'idle-timeout-ms': '0' }, '"0"'],
  ];
  for (const [what, options, named] of refusals) {
    it(`should refuse ${what} with a ConfigError naming ${named}`, async () => {
      const ctx = fakeContext();
      const argv = ['serve', ...Object.entries({ port: '0', dir, ...options }).flatMap(([k, v]) => [`--${k}`, v])];
      const err = await runServe(argv, ctx).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.include(named);
      expect(ctx.out()).to.equal('');
    });
  }

  it('should refuse a --dir that is a file, naming it', async () => {
    const file = path.join(dir, 'not-a-dir');
    await writeFile(file, 'x');
    const err = await runServe(['serve', '--port', '0', '--dir', file], fakeContext()).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.include(file);
  });

  it('should drop a stalled body after --idle-timeout-ms', async () => {
    const ctx = fakeContext();
    const run = runServe(['serve', '--port', '0', '--dir', dir, '--idle-timeout-ms', '200'], ctx);
    const url = await listeningUrl(ctx, run);
    const stalled = trickle(Number(new URL(url).port), '/files/stalled.bin', 1000, {}, 0);
    try {
      await until(() => stalled.closed(), 10_000);
      expect(stalled.answer()).to.match(/^HTTP\/1\.1 408 /);
      expect(await readdir(path.join(dir, '.tmp'))).to.deep.equal([]);
    } finally {
      stalled.stop();
      ctx.signals.emit('SIGINT');
      await run;
    }
    expect(ctx.err()).to.include('receive_timed_out');
  });

  it('should refuse a short token, or one with a space or non-ASCII character, with exit 2 and never print it', async () => {
    const bad = ['x', 'fifteen-chars-x', 'has a space 0123456789', 'ünicode-token-0123456789', 'tab\ttoken-0123456789'];
    for (const token of bad) {
      const r = await serveOnce(['--dir', dir, '--token', token]);
      expect(r, token).to.include({ code: 2, out: '' });
      expect(r.err.trim().split('\n'), token).to.have.length(1);
      expect(r.err, token).to.include('--token').and.not.include(token);
    }
    const fromEnv = await serveOnce(['--dir', dir], { FANOUT_TOKEN: 'short' });
    expect(fromEnv).to.include({ code: 2, out: '' });
    expect(fromEnv.err).to.include('FANOUT_TOKEN').and.not.include('short');
  });

  it('should refuse with exit 2 a --dir that others may write, saying why in one line', async () => {
    await chmod(dir, 0o777);
    const r = await serveOnce(['--dir', dir]);
    expect(r).to.include({ code: 2, out: '' });
    expect(r.err.trim().split('\n')).to.have.length(1);
    expect(r.err).to.include(dir).and.include('writable by');
  });

  it('should clear the temp file a kill -9 left mid-upload when it starts again', async function () {
    this.timeout(60_000);
    const tmp = path.join(dir, '.tmp');
    const first = spawnCli(['serve', '--port', '0', '--dir', dir]);
    const url = await spawnedUrl(first);
    const stalled = trickle(Number(new URL(url).port), '/files/half.bin', 1000, {}, 0);
    try {
      await until(async () => (await readdir(tmp)).length === 1, 10_000);
      first.kill('SIGKILL');
      await first.done;
    } finally {
      stalled.stop();
    }
    expect(await readdir(tmp)).to.have.length(1);
    const second = spawnCli(['serve', '--port', '0', '--dir', dir]);
    await spawnedUrl(second);
    second.kill('SIGTERM');
    const { code, stderr } = await second.done;
    expect(code).to.equal(0);
    expect(await readdir(tmp)).to.deep.equal([]);
    const line = stderr.split('\n').find((l) => l.includes('receiver_tmp_cleared'));
    expect(JSON.parse(line ?? '{}')).to.include({ count: 1 });
  });

  it('should refuse a port already in use with a ConfigError', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as net.AddressInfo;
    try {
      const ctx = fakeContext();
      const err = await runServe(['serve', '--port', String(port), '--dir', dir], ctx).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.include(`127.0.0.1:${port}`);
      expect(ctx.out()).to.equal('');
    } finally {
      busy.close();
    }
  });
});

describe('parseBytes', () => {
  it('should read plain integers and decimal and binary suffixes', () => {
    const cases: Array<[string, number]> = [
      ['0', 0], ['1048576', 1048576], ['500k', 500_000], ['10M', 10_000_000], ['2G', 2e9],
      ['1Ki', 1024], ['1.5Mi', 1.5 * 2 ** 20], ['10Gi', 10 * 2 ** 30], ['10GiB', 10 * 2 ** 30], [' 3 Mi ', 3 * 2 ** 20],
    ];
    for (const [text, bytes] of cases) expect(parseBytes(text), text).to.equal(bytes);
  });

  it('should throw a ConfigError naming the bad value', () => {
    for (const bad of ['12Q', '', '-1', '1.5', 'ten', '1e3', '10 gigs', '0.1k'.repeat(2)]) {
      expect(() => parseBytes(bad), bad).to.throw(ConfigError).with.property('message').that.includes(`"${bad}"`);
    }
  });
});

/** The URL a spawned `fanout serve` prints once it listens. */
async function spawnedUrl(child: ReturnType<typeof spawnCli>): Promise<string> {
  let out = '';
  return new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const match = /listening on (\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    void child.done.then((r) => reject(new Error(`serve ended first: ${r.stderr}`)));
  });
}
