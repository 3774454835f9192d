import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const json = async (file: string) => JSON.parse(await readFile(path.join(root, file), 'utf8')) as Record<string, unknown>;

describe('package-lock.json', () => {
  // npm install rewrites the lock's root entry when it differs from package.json, leaving a
  // modified file in every fresh checkout (it did: a stale "bin")
  it('should hold the root package exactly as package.json declares it, so npm install leaves it as it is', async () => {
    const pkg = await json('package.json');
    const lock = await json('package-lock.json');
    const rootEntry = (lock.packages as Record<string, Record<string, unknown>>)[''];
    expect(lock).to.include({ name: pkg.name, version: pkg.version });
    for (const key of ['name', 'version', 'license', 'bin', 'dependencies', 'devDependencies', 'engines']) {
      expect(rootEntry[key], key).to.deep.equal(pkg[key]);
    }
  });
});
