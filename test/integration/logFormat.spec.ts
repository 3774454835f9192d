import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli.js';
import { fakeContext } from '../helpers/cli.js';
import { startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { makeTree, type Tree } from '../helpers/tree.js';

/** The CLI with stderr taken for a terminal (as a person runs it), bars off so only log lines show. */
async function onTerminal(argv: string[]): Promise<{ code: number; stderr: string }> {
  const ctx = fakeContext();
  ctx.isTTY = true;
  const code = await runCli(argv, ctx);
  await new Promise((r) => setImmediate(r));
  return { code, stderr: ctx.err() };
}

describe('log format on a terminal', () => {
  let tree: Tree;
  let fleet: ReceiverFleet;
  let work: string;
  before(async () => {
    tree = await makeTree(6);
    fleet = await startReceivers(1);
    work = await mkdtemp(path.join(os.tmpdir(), 'fanout-logfmt-'));
  });
  after(async () => {
    await fleet.close();
    await rm(tree.dir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  const args = (db: string, extra: string[] = []) => ['upload', tree.dir, '--target', fleet.urls[0], '--db', `sqlite:${path.join(work, db)}`, '--no-progress', '--json', ...extra];

  it('should write short text lines, not JSON, when stderr is a terminal', async () => {
    const r = await onTerminal(args('a.sqlite'));
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines.some((l) => / info {3}batch_start\b/.test(l)), r.stderr).to.equal(true);
    expect(lines.some((l) => / info {3}batch_complete\b/.test(l)), r.stderr).to.equal(true);
    for (const l of lines) {
      expect(l.startsWith('{'), l).to.equal(false);
      expect(l.length).to.be.at.most(160);
    }
  });

  it('should keep JSON lines on a terminal with --log-format json', async () => {
    const r = await onTerminal(args('b.sqlite', ['--log-format', 'json']));
    expect(r.code, r.stderr).to.equal(0);
    const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l).event);
    expect(events).to.include.members(['batch_start', 'batch_complete']);
  });

  it('should refuse an unknown --log-format with exit 2', async () => {
    const r = await onTerminal(args('c.sqlite', ['--log-format', 'xml']));
    expect(r.code).to.equal(2);
    // the option's own choices refuse it (not yargs' "unknown argument", which any bad flag gets)
    expect(r.stderr).to.match(/log-format/).and.to.match(/Choices: "json", "text"/);
  });
});
