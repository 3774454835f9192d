import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathMatcher } from '../../src/sources/walkFiles.js';
import { cli } from '../helpers/cli.js';
import { readTree, startReceivers, type ReceiverFleet } from '../helpers/receivers.js';

describe('--ignore-case', () => {
  let dir: string;
  let work: string;
  let fleet: ReceiverFleet;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fanout-case-'));
    work = await mkdtemp(path.join(os.tmpdir(), 'fanout-case-db-'));
    for (const name of ['call-0001.wav', 'CALL-0004.WAV', 'notes.TXT']) await writeFile(path.join(dir, name), name);
    fleet = await startReceivers(1);
  });
  after(async () => {
    await fleet.close();
    await rm(dir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it('should match globs without regard to case only when asked', () => {
    expect(pathMatcher(['*.wav'])('CALL-0004.WAV')).to.equal(false);
    expect(pathMatcher(['*.wav'], [], { ignoreCase: true })('CALL-0004.WAV')).to.equal(true);
    expect(pathMatcher(['calls/*.wav'], [], { ignoreCase: true })('Calls/A.Wav')).to.equal(true);
    expect(pathMatcher([], ['*.txt'], { ignoreCase: true })('notes.TXT')).to.equal(false);
  });

  it('should take CALL-0004.WAV for --include "*.wav" with --ignore-case, and count it excluded without', async () => {
    const run = async (db: string, extra: string[]) => {
      const r = await cli(['upload', dir, '--target', fleet.urls[0], '--db', `sqlite:${path.join(work, db)}`, '--include', '*.wav', '--json', ...extra]);
      expect(r.code, r.stderr).to.equal(0);
      return JSON.parse(r.stdout) as { uploaded: number; excluded: number };
    };
    expect(await run('a.sqlite', [])).to.include({ uploaded: 1, excluded: 2 });
    expect(await run('b.sqlite', ['--ignore-case'])).to.include({ uploaded: 2, excluded: 1 });
    expect([...(await readTree(fleet.dirs[0])).keys()].sort()).to.deep.equal(['CALL-0004.WAV', 'call-0001.wav']);
  });
});
