import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
/** the build that `npm install` makes (prepare): library in dist/src, the bundled bin dist/fanout.mjs */
async function built(): Promise<void> {
  if (!existsSync(path.join(root, 'dist/src/index.js')) || !existsSync(path.join(root, 'dist/fanout.mjs'))) await run('npm', ['run', 'build'], { cwd: root });
}

describe('README example (examples/audit-flow.ts)', () => {
  it('should run as written and upload its 50 files through the exported operators', async function () {
    this.timeout(60_000);
    await built(); // it imports the package by name
    const { readdir } = await import('node:fs/promises');
    const os = await import('node:os');
    const leftovers = async () => new Set((await readdir(os.tmpdir())).filter((n) => n.startsWith('fanout-example-')));
    const before = await leftovers();
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/audit-flow.ts'], { cwd: root });
    expect(stdout).to.match(/^uploaded 50 files, 204800 bytes/);
    // it cleans up after itself: a reader who runs it twice finds no temp folder left behind
    expect([...(await leftovers())].filter((n) => !before.has(n))).to.deep.equal([]);
  });
});

describe('the bundled bin (dist/fanout.mjs)', () => {
  it('should run as an executable and upload a directory', async function () {
    this.timeout(60_000);
    await built();
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const os = await import('node:os');
    const { startReceivers } = await import('../helpers/receivers.js');
    const work = await mkdtemp(path.join(os.tmpdir(), 'fanout-bin-'));
    const hosts = await startReceivers(2);
    try {
      for (let i = 0; i < 5; i++) await writeFile(path.join(work, `f${i}.wav`), `file ${i}`);
      const { stdout } = await run(path.join(root, 'dist/fanout.mjs'), ['upload', work, '--target', hosts.urls.join(','), '--db', `sqlite:${work}/x.sqlite`, '--json', '--exclude', '*.sqlite*']);
      expect(JSON.parse(stdout)).to.include({ status: 'completed', uploaded: 5 });
    } finally {
      await hosts.close();
      await rm(work, { recursive: true, force: true });
    }
  });
});
