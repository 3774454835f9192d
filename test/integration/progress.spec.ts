import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli.js';
import { CLI_ENTRY, cli, fakeContext } from '../helpers/cli.js';
import { startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { makeTree, type Tree } from '../helpers/tree.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Run a command under a real pseudo-terminal (util-linux `script`), and give back all it printed. */
function inPty(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  // a terminal as wide as an operator's (script's pty starts at 80 columns: the per-target lines would be cut)
  const cmd = `stty cols 140; exec ${[process.execPath, '--import', 'tsx', CLI_ENTRY, ...argv].map(quote).join(' ')}`;
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('fanout upload: progress', function () {
  this.timeout(60_000);
  let tree: Tree;
  let fleet: ReceiverFleet;
  let work: string;

  before(async () => {
    // 60 files (+ the awkward names) to 2 hosts taking 40 ms each, one at a time: about 1.5 s
    tree = await makeTree(60, { sizes: [100, 4096] });
    fleet = await startReceivers(2, { delayMs: 40, slots: 1 });
  });
  beforeEach(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'fanout-progress-'));
  });
  afterEach(() => rm(work, { recursive: true, force: true }));
  after(async () => {
    await fleet.close();
    await rm(tree.dir, { recursive: true, force: true });
  });

  const args = (...more: string[]) => ['upload', tree.dir, '--target', fleet.urls.join(','), '--db', `sqlite:${path.join(work, 'f.sqlite')}`, '--per-target', '2', ...more];

  describe('without a terminal', () => {
    it('should log progress lines as JSON on stderr, leaving stdout to the summary alone', async () => {
      const t0 = Date.now();
      const r = await cli(args('--json'), { FANOUT_PROGRESS_INTERVAL_MS: '200' });
      expect(r.code, r.stderr).to.equal(0);
      expect(Date.now() - t0).to.be.above(1000);
      const lines = r.stdout.trim().split('\n');
      expect(lines).to.have.length(1);
      expect(JSON.parse(lines[0])).to.include({ status: 'completed', uploaded: tree.files.size });

      const logs = r.stderr.trim().split('\n').map((l) => JSON.parse(l));
      const progress = logs.filter((l) => l.event === 'progress');
      expect(progress.length).to.be.at.least(3);
      for (const p of progress) {
        expect(p).to.include({ level: 'info', message: 'progress' });
        expect(p).to.include.keys(['done', 'total', 'uploaded', 'failed', 'bytes', 'rate', 'targets']);
        expect(Object.keys(p.targets)).to.have.members(fleet.urls);
        // throughput and latency join once the target has finished an upload
        expect(p.targets[fleet.urls[0]]).to.include.keys(['inFlight', 'up', 'limit']);
        expect(p.targets[fleet.urls[0]].limit).to.be.a('number').and.at.least(1);
        expect(p.done).to.be.at.most(p.total);
      }
      // counts only go up, and the background count finds every file early
      const done = progress.map((p) => p.done);
      expect(done).to.deep.equal([...done].sort((a, b) => a - b));
      expect(progress[progress.length - 1]).to.include({ total: tree.files.size, totalExact: true });
      expect(progress.some((p) => p.rate.filesPerSec > 0)).to.equal(true);
    });

    it('should stop its timer when the batch ends', async () => {
      const ctx = fakeContext({ FANOUT_PROGRESS_INTERVAL_MS: '50' });
      const code = await runCli(args(), ctx);
      expect(code, ctx.err()).to.equal(0);
      const err = ctx.err();
      expect(err).to.include('"event":"progress"');
      await sleep(300);
      expect(ctx.err()).to.equal(err);
      expect(ctx.out()).to.match(/^batch \S+ completed: /);
    });

    it('should refuse a bad FANOUT_PROGRESS_INTERVAL_MS before anything runs (exit 2)', async () => {
      const r = await cli(args(), { FANOUT_PROGRESS_INTERVAL_MS: 'often' });
      expect(r.code).to.equal(2);
      expect(r.stderr.trim()).to.match(/^fanout: bad FANOUT_PROGRESS_INTERVAL_MS "often"/);
      expect(r.stdout).to.equal('');
    });
  });

  describe('under a pseudo-terminal', () => {
    before(function () {
      if (!hasScript) this.skip();
    });

    it('should draw the bars on the terminal, and still print a parseable JSON summary with --json', async () => {
      const r = await inPty(args('--json'));
      expect(r.code, r.out).to.equal(0);
      const text = r.out.replace(/\r/g, '');
      expect(text).to.include('\x1B[?25l'); // the cursor hidden while the bars show...
      expect(text).to.include('\x1B[?25h'); // ...and back after
      expect(text).to.match(/files \[[█░]+\] +\d+\/≥?\d+ /);
      expect(text).to.match(new RegExp(`files \\[█+\\] ${tree.files.size}/${tree.files.size} `)); // the last frame
      for (const url of fleet.urls) expect(text).to.match(new RegExp(`${url.replace(/[.:/]/g, '\\$&')}\\s+up\\s+in flight\\s+\\d+/\\d+\\s+done\\s+\\d+\\s+failed\\s+0\\s+.+ MB/s\\s+(\\d+|-) ms`));
      const summary = text.split('\n').find((l) => l.startsWith('{"batchId"'));
      expect(summary, text).to.not.equal(undefined);
      expect(JSON.parse(summary!)).to.include({ status: 'completed', uploaded: tree.files.size });
      // no progress log lines with bars: the bars are the progress (logs on a terminal are text lines)
      expect(text).to.not.match(/ info {3}progress /);
      expect(text).to.not.include('"event":"progress"');
    });

    it('should show no bars with --no-progress, and log progress lines instead', async () => {
      const r = await inPty(args('--no-progress'), { FANOUT_PROGRESS_INTERVAL_MS: '200' });
      expect(r.code, r.out).to.equal(0);
      expect(r.out).to.not.include('files [');
      expect(r.out).to.not.include('\x1B[?25l');
      // on a terminal the progress lines are short text, with a real rate from the first one on
      expect(r.out).to.match(/ info {3}progress {2}done=\d+ total=\d+ /);
      expect(r.out).to.not.include('"event":"progress"');
      expect(r.out).to.match(/batch \S+ completed: /);
    });
  });
});
