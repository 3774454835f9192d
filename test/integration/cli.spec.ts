import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createStore } from '../../src/store/createStore.js';
import { cli, spawnCli } from '../helpers/cli.js';
import { readTree, startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { makeTree, type Tree } from '../helpers/tree.js';

describe('fanout upload (CLI)', () => {
  let tree: Tree;
  let fleet: ReceiverFleet;
  let work: string;
  let db: string;

  before(async () => {
    tree = await makeTree(30);
    fleet = await startReceivers(2);
  });
  beforeEach(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'fanout-cli-'));
    db = `sqlite:${path.join(work, 'f.sqlite')}`;
  });
  afterEach(() => rm(work, { recursive: true, force: true }));
  after(async () => {
    await fleet.close();
    await rm(tree.dir, { recursive: true, force: true });
  });

  it('should exit 0 and print exactly one JSON summary of the documented shape', async () => {
    const r = await cli(['upload', tree.dir, '--target', fleet.urls.join(','), '--db', db, '--json', '--batch-id', 'cli-ok']);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).to.have.length(1);
    const s = JSON.parse(lines[0]);
    expect(Object.keys(s)).to.have.members(['batchId', 'status', 'total', 'uploaded', 'failed', 'skipped', 'pending', 'bytes', 'durationMs', 'targets', 'loops', 'excluded', 'tooYoung', 'notRegular']);
    expect(s).to.include({ batchId: 'cli-ok', status: 'completed', total: tree.files.size, uploaded: tree.files.size, failed: 0, skipped: 0, pending: 0 });
    expect(Object.keys(s.targets)).to.have.members(fleet.urls);
    expect(s.targets[fleet.urls[0]]).to.have.keys(['uploaded', 'failed', 'bytes', 'limit', 'bytesPerSec', 'medianLatencyMs']);
    // logs went to stderr as JSON lines, with the documented events
    const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l).event);
    expect(events).to.include.members(['batch_start', 'batch_complete']);
  });

  it('should drop a trailing / from targets and key the summary by the normalised URL', async () => {
    const r = await cli(['upload', tree.dir, '--target', `${fleet.urls[0]}/`, '--db', db, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(Object.keys(JSON.parse(r.stdout).targets)).to.deep.equal([fleet.urls[0]]);
  });

  it('should exit 1 when a file fails, and count it', async () => {
    const small = await startReceivers(1, { maxBytes: 50_000 }); // 413 for the larger files: permanent
    try {
      const r = await cli(['upload', tree.dir, '--target', small.urls[0], '--db', db, '--json']);
      expect(r.code).to.equal(1);
      const s = JSON.parse(r.stdout);
      expect(s.status).to.equal('completed_with_failures');
      expect(s.failed).to.be.above(0);
      expect(s.uploaded + s.failed).to.equal(tree.files.size);
      const store = await createStore(db);
      const counts = await store.countFiles(s.batchId);
      await store.close();
      expect(counts).to.include({ failed: s.failed, uploaded: s.uploaded, pending: 0 });
    } finally {
      await small.close();
    }
  });

  describe('bad input: one line naming the value, exit 2, nothing written', () => {
    const cases: [string, (t: { dir: string; url: string; db: string; file: string }) => string[], RegExp][] = [
      ['a missing dir', (t) => ['upload', `${t.dir}-nope`, '--target', t.url, '--db', t.db], /directory not found: ".*-nope"/],
      ['a file instead of a dir', (t) => ['upload', t.file, '--target', t.url, '--db', t.db], /not a directory: ".*"/],
      ['no targets', (t) => ['upload', t.dir, '--db', t.db], /no targets/],
      ['a malformed target URL', (t) => ['upload', t.dir, '--target', 'htp:/x y', '--db', t.db], /malformed target URL: "htp:\/x y"|must be http/],
      ['an ftp target', (t) => ['upload', t.dir, '--target', 'ftp://h/x', '--db', t.db], /"ftp:\/\/h\/x"/],
      ['an unknown option', (t) => ['upload', t.dir, '--target', t.url, '--db', t.db, '--frobnicate'], /frobnicate/],
      ['a non-numeric --per-target', (t) => ['upload', t.dir, '--target', t.url, '--db', t.db, '--per-target', 'lots'], /--per-target "lots"/],
      ['an out-of-range --concurrency', (t) => ['upload', t.dir, '--target', t.url, '--db', t.db, '--concurrency', '0'], /--concurrency "0"/],
      ['--resume without --batch-id', (t) => ['upload', t.dir, '--target', t.url, '--db', t.db, '--resume'], /--resume needs --batch-id/],
      ['a bad --batch-id', (t) => ['upload', t.dir, '--target', t.url, '--db', t.db, '--batch-id', 'a/b'], /"a\/b"/],
      ['an unknown --assign', (t) => ['upload', t.dir, '--target', t.url, '--db', t.db, '--assign', 'random'], /random/],
      ['a bad --bwlimit', (t) => ['upload', t.dir, '--target', t.url, '--db', t.db, '--bwlimit', 'fast'], /"fast"/],
      ['an unreachable database, password hidden', () => ['upload', tree.dir, '--target', fleet.urls[0], '--db', 'mysql://root:hunter2@127.0.0.1:1/x'], /mysql:\/\/root:\*\*\*@127\.0\.0\.1:1\/x/],
      ['a bad database URL', (t) => ['upload', t.dir, '--target', t.url, '--db', 'postgres://u:hunter2@h/d'], /postgres:\/\/u:\*\*\*@h\/d/],
      ['an unknown --process-id', (t) => ['upload', t.dir, '--target', t.url, '--db', t.db, '--process-id', '424242'], /424242/],
      ['--resume of an unknown batch', (t) => ['upload', t.dir, '--target', t.url, '--db', t.db, '--resume', '--batch-id', 'ghost'], /"ghost"/],
    ];
    for (const [name, argv, message] of cases) {
      it(`should refuse ${name}`, async () => {
        const file = path.join(work, 'plain.txt');
        await writeFile(file, 'x');
        const before = (await readTree(fleet.dirs[0])).size;
        const r = await cli(argv({ dir: tree.dir, url: fleet.urls[0], db, file }));
        expect(r.code, r.stderr).to.equal(2);
        expect(r.stdout).to.equal('');
        expect(r.stderr.trim().split('\n'), r.stderr).to.have.length(1);
        expect(r.stderr).to.match(message);
        expect(r.stderr).to.not.contain('hunter2');
        expect(r.stderr).to.not.match(/\n\s+at /); // no stack trace
        expect((await readTree(fleet.dirs[0])).size, 'nothing uploaded').to.equal(before);
        if (!/process-id|unknown batch/.test(name)) expect(existsSync(db.slice('sqlite:'.length)), 'no database written').to.equal(false);
      });
    }
    it('should write no batch row for an unknown --process-id', async () => {
      const r = await cli(['upload', tree.dir, '--target', fleet.urls[0], '--db', db, '--process-id', '7', '--batch-id', 'pid']);
      expect(r.code).to.equal(2);
      const store = await createStore(db);
      expect(await store.getBatch('pid')).to.equal(undefined);
      expect(await store.countFiles('pid')).to.include({ total: 0 });
      await store.close();
    });
  });

  for (const cmd of ['status', 'migrate', 'report --batch-id b --out REPORT']) {
    it(`should refuse an unreachable database for "${cmd.split(' ')[0]}" in one line, password hidden`, async () => {
      const argv = [...cmd.replace('REPORT', path.join(work, 'r.html')).split(' '), '--db', 'mysql://u:hunter2@127.0.0.1:1/x'];
      const r = await cli(argv);
      expect(r.code).to.equal(2);
      expect(r.stdout).to.equal('');
      expect(r.stderr.trim().split('\n')).to.have.length(1);
      expect(r.stderr).to.contain('mysql://u:***@127.0.0.1:1/x').and.not.contain('hunter2');
    });
  }

  it('should give exit code 2 and 0 from the real process', async function () {
    this.timeout(30_000);
    const bad = await spawnCli(['upload', '/nonexistent/dir', '--target', fleet.urls[0], '--db', db]).done;
    expect(bad.code).to.equal(2);
    expect(bad.stdout).to.equal('');
    expect(bad.stderr).to.match(/directory not found: "\/nonexistent\/dir"/);
    const ok = await spawnCli(['upload', tree.dir, '--target', fleet.urls.join(','), '--db', db, '--json']).done;
    expect(ok.code, ok.stderr).to.equal(0);
    expect(JSON.parse(ok.stdout).uploaded).to.equal(tree.files.size);
  });

  it('should write the timeline report with --report, and refuse a report path in a missing directory', async () => {
    const out = path.join(work, 'r.html');
    const r = await cli(['upload', tree.dir, '--target', fleet.urls.join(','), '--db', db, '--json', '--report', out, '--batch-id', 'rep1']);
    expect(r.code, r.stderr).to.equal(0);
    const html = await readFile(out, 'utf8');
    expect(html).to.contain('rep1');
    expect(html).to.contain(fleet.urls[0]);
    const bad = await cli(['upload', tree.dir, '--target', fleet.urls[0], '--db', `sqlite:${path.join(work, 'x.sqlite')}`, '--report', path.join(work, 'nope', 'r.html')]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/bad --report ".*nope\/r\.html"/);
    expect(existsSync(path.join(work, 'x.sqlite'))).to.equal(false);
  });

  it('should print the plan and write nothing with --dry-run', async () => {
    const r = await cli(['upload', tree.dir, '--target', fleet.urls.join(','), '--db', db, '--dry-run', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const plan = JSON.parse(r.stdout);
    expect(plan).to.include({ dryRun: true, total: tree.files.size });
    expect(plan.targets[fleet.urls[0]].files + plan.targets[fleet.urls[1]].files).to.equal(tree.files.size);
    expect(existsSync(db.slice('sqlite:'.length))).to.equal(false);
    const human = await cli(['upload', tree.dir, '--target', fleet.urls.join(','), '--db', db, '--dry-run']);
    expect(human.stdout).to.match(/^call 1\.wav -> http:\/\/127\.0\.0\.1:\d+$/m);
    expect(human.stdout).to.match(/plan \(round-robin\): \d+ files/);
  });
});

describe('fanout --help', () => {
  // yargs' eager help copy is switched off (src/cli.ts, skipEagerHelp): --help renders its own
  it('should print the upload command\'s options for `upload --help` and exit 0', async () => {
    const r = await cli(['upload', '--help']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^fanout upload \[dir\]/);
    expect(r.stdout).to.include('--assign').and.include('--bwlimit').and.include('--resume');
    expect(r.stderr).to.equal('');
  });

  it('should list every command for a bare `--help`', async () => {
    const r = await cli(['--help']);
    expect(r.code, r.stderr).to.equal(0);
    for (const c of ['upload', 'serve', 'report', 'migrate', 'status', 'demo']) expect(r.stdout).to.match(new RegExp(`fanout ${c}\\b`));
  });
});
