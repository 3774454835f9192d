import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(import.meta.dirname, '../..');

describe('README example (examples/audit-flow.ts)', () => {
  it('should run as written and upload its 50 files through the exported operators', async function () {
    this.timeout(60_000);
    // it imports the package by name, i.e. the build that `npm install` makes
    if (!existsSync(path.join(root, 'dist/src/index.js'))) await promisify(execFile)('npm', ['run', 'build'], { cwd: root });
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/audit-flow.ts'], { cwd: root });
    expect(stdout).to.match(/^uploaded 50 files, 204800 bytes/);
  });
});
