import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cli } from '../helpers/cli.js';
import { startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { makeTree, type Tree } from '../helpers/tree.js';

describe('the CLI behaves like one', () => {
  it('should print its version with --version and -V, exit 0', async () => {
    const { version } = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await cli([flag]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.equal(`${version}\n`);
    }
  });

  for (const argv of [['-h'], ['--help'], ['upload', '-h'], ['serve', '-h'], ['status', '--help']]) {
    it(`should print help for \`fanout ${argv.join(' ')}\` on stdout and exit 0`, async () => {
      const r = await cli(argv);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.equal('');
      expect(r.stdout).to.match(/Options:/);
    });
  }

  it('should tag numeric options [number] in the help, and leave string options [string]', async () => {
    const { stdout } = await cli(['upload', '--help']);
    const tagOf = (opt: string) => {
      const lines = stdout.split('\n');
      const i = lines.findIndex((l) => new RegExp(`^\\s+--${opt}\\s`).test(l));
      expect(i, opt).to.be.at.least(0);
      // the tag ends the option's last line (its description may wrap)
      for (let j = i; j < lines.length; j++) {
        const m = /\[(number|string|boolean)\]/.exec(lines[j]);
        if (m) return m[1];
      }
      return null;
    };
    for (const opt of ['per-target', 'concurrency', 'retries', 'min-age', 'idle-timeout-ms', 'grace-ms', 'db-retry-ms', 'process-id']) expect(tagOf(opt), opt).to.equal('number');
    for (const opt of ['target', 'batch-id', 'db', 'bwlimit', 'token-file']) expect(tagOf(opt), opt).to.equal('string');
  });

  it('should refuse upload-only options on `work` (it takes the send options only)', async () => {
    for (const flag of ['--dry-run', '--resume', '--progress', '--follow-symlinks']) {
      const r = await cli(['work', '--batch-id', 'b', '--root', '/tmp', '--db', 'mysql://u@127.0.0.1:1/x', flag]);
      expect(r.code, flag).to.equal(2);
      expect(r.stderr, flag).to.match(/Unknown argument/i);
    }
  });

  describe('--token-file', () => {
    const TOKEN = 'tok-from-a-file-0123456789';
    let tree: Tree;
    let fleet: ReceiverFleet;
    let work: string;
    before(async () => {
      tree = await makeTree(4);
      fleet = await startReceivers(1, { token: TOKEN });
      work = await mkdtemp(path.join(os.tmpdir(), 'fanout-tokfile-'));
    });
    after(async () => {
      await fleet.close();
      await rm(tree.dir, { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
    });
    const upload = (extra: string[]) => cli(['upload', tree.dir, '--target', fleet.urls[0], '--db', `sqlite:${path.join(work, 'f.sqlite')}`, '--json', ...extra]);

    it('should authenticate with the token read from the file (first line, newline dropped), and never log it', async () => {
      const file = path.join(work, 'token');
      await writeFile(file, `${TOKEN}\n`, { mode: 0o600 });
      const r = await upload(['--token-file', file]);
      expect(r.code, r.stderr).to.equal(0);
      expect(JSON.parse(r.stdout)).to.include({ uploaded: tree.files.size });
      expect(r.stderr).to.not.include(TOKEN);
    });

    it('should refuse a missing or empty token file, or both --token and --token-file, with exit 2 and one line', async () => {
      const empty = path.join(work, 'empty');
      await writeFile(empty, '\n');
      for (const [extra, re] of [
        [['--token-file', path.join(work, 'nope')], /cannot read --token-file .*nope.*ENOENT/],
        [['--token-file', empty], /--token-file .*empty.* is empty/],
        [['--token-file', empty, '--token', 'x'], /not both/],
        [['--token', 'short'], /bad --token: the token must be at least 16 characters/],
        [['--token', 'has a space in it, long enough'], /bad --token: the token may hold only visible ASCII/],
      ] as const) {
        const r = await upload([...extra]);
        expect(r.code, r.stderr).to.equal(2);
        expect(r.stderr.trim().split('\n'), r.stderr).to.have.length(1);
        expect(r.stderr).to.match(re);
        expect(r.stdout).to.equal('');
      }
    });
  });
});
