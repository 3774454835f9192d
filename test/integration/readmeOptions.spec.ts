import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { cli } from '../helpers/cli.js';

const README = path.resolve(import.meta.dirname, '../../README.md');

/** The long options a command's --help lists. */
async function helpOptions(command: string): Promise<string[]> {
  const { stdout, code } = await cli([command, '--help']);
  expect(code).to.equal(0);
  return [...stdout.matchAll(/^ {2,8}(?:-\w, )?--([\w-]+)/gm)].map((m) => m[1]).filter((o) => o !== 'help' && o !== 'version');
}

describe('README', () => {
  for (const command of ['upload', 'serve', 'plan', 'work']) {
    it(`should document every option \`fanout ${command} --help\` lists`, async () => {
      // in an option table: a row of a Markdown table
      const text = (await readFile(README, 'utf8')).split('\n').filter((l) => l.startsWith('|')).join('\n');
      const missing = (await helpOptions(command)).filter((o) => !new RegExp(`--${o}(?![\\w-])`).test(text));
      expect(missing, `options of ${command} not in README.md`).to.deep.equal([]);
    });
  }
});
