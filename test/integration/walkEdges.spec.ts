import { expect } from 'chai';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createStore } from '../../src/store/createStore.js';
import type { Store } from '../../src/store/types.js';
import type { Summary } from '../../src/types.js';
import { cli, type CliRun } from '../helpers/cli.js';
import { forEachDatabase } from '../helpers/db.js';
import { assertInvariants } from '../helpers/invariants.js';
import { readTree, startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { sha256, type Tree } from '../helpers/tree.js';

type WalkSummary = Summary & { loops: number };

const summaryOf = (r: CliRun): WalkSummary => JSON.parse(r.stdout.trim().split('\n').pop() as string) as WalkSummary;
/** Every log line parses as JSON (a name no terminal can show must not break one). */
const eventsOf = (r: CliRun) => r.stderr.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

/** A path under `dir` made of raw bytes: strings as UTF-8, number arrays as they are. */
const rawPath = (dir: string, ...parts: (string | number[])[]) =>
  Buffer.concat([Buffer.from(`${dir}/`), ...parts.map((p) => Buffer.from(p as string))]);

forEachDatabase('walking awkward trees through the CLI', (db) => {
  let fleet: ReceiverFleet;
  let store: Store;
  let src: string;
  const targets = () => new Map(fleet.urls.map((u, i) => [u, fleet.dirs[i]]));
  /** every file the receivers hold, with the number of copies */
  const held = async () => {
    const copies = new Map<string, number>();
    for (const dir of fleet.dirs) for (const p of (await readTree(dir)).keys()) copies.set(p, (copies.get(p) ?? 0) + 1);
    return copies;
  };
  const upload = (batchId: string, ...extra: string[]) =>
    cli(['upload', src, '--target', fleet.urls.join(','), '--db', db.url, '--json', '--batch-id', batchId, ...extra]);

  before(async () => {
    store = await createStore(db.url);
    await store.migrate();
  });
  after(() => store?.close());
  beforeEach(async () => {
    src = await mkdtemp(path.join(os.tmpdir(), 'fanout-edges-'));
    fleet = await startReceivers(2);
  });
  afterEach(async () => {
    await fleet.close();
    await rm(src, { recursive: true, force: true });
  });

  it('should upload a file once through a symlink loop, and count the loop', async function () {
    this.timeout(30_000);
    await mkdir(path.join(src, 'd'));
    await writeFile(path.join(src, 'd/f.wav'), 'hi');
    await symlink('..', path.join(src, 'd/up'));
    const r = await upload(`loop-${db.dialect}`, '--follow-symlinks');
    expect(r.code, r.stderr).to.equal(0);
    const s = summaryOf(r);
    expect(s).to.include({ status: 'completed', total: 1, uploaded: 1, failed: 0, pending: 0, loops: 1 });
    expect([...(await held())]).to.deep.equal([['d/f.wav', 1]]);
    expect(eventsOf(r).filter((e) => e.event === 'walk_loop').map((e) => e.dir)).to.deep.equal(['d/up']);
    const tree: Tree = { dir: src, files: new Map([['d/f.wav', sha256(Buffer.from('hi'))]]) };
    await assertInvariants(store, s.batchId, tree, targets(), { complete: true, summaries: [s] });
    // the human summary says so too
    const human = await cli(['upload', src, '--target', fleet.urls[0], '--db', db.url, '--follow-symlinks', '--batch-id', `loop-h-${db.dialect}`]);
    expect(human.stdout).to.contain('left out by the walk, not counted above: loops 1\n');
  });

  it('should finish a dry run through two loops, listing each file once', async function () {
    this.timeout(30_000);
    await writeFile(path.join(src, 'f.wav'), 'hi');
    await mkdir(path.join(src, 'sub'));
    await writeFile(path.join(src, 'sub/g.wav'), 'hi');
    await symlink('.', path.join(src, 'a'));
    await symlink('.', path.join(src, 'b'));
    const r = await cli(['upload', src, '--target', fleet.urls[0], '--db', db.url, '--dry-run', '--follow-symlinks']);
    expect(r.code, r.stderr).to.equal(0);
    const planned = r.stdout.split('\n').filter((l) => l.includes(' -> ')).map((l) => l.split(' -> ')[0]);
    expect(planned).to.deep.equal(['f.wav', 'sub/g.wav']);
  });

  it('should record each file whose name is not valid UTF-8 as failed (exit 1), and upload a real U+FFFD name once', async function () {
    this.timeout(30_000);
    await writeFile(rawPath(src, 'caf', [0xe9], '.wav'), 'latin-1');
    await mkdir(rawPath(src, 'd', [0xff]));
    await writeFile(rawPath(src, 'd', [0xff], '/x.wav'), 'inside');
    await writeFile(path.join(src, 'caf\uFFFD.wav'), 'replacement');
    await writeFile(path.join(src, 'ok.wav'), 'fine');
    const plan = await cli(['upload', src, '--target', fleet.urls[0], '--db', db.url, '--dry-run']);
    expect(plan.stdout).to.contain('caf\\xE9.wav -> none: the name is not valid UTF-8\n').and.contain('d\\xFF/x.wav -> none');
    const batchId = `bytes-${db.dialect}`;
    const r = await upload(batchId);
    expect(r.code, r.stderr).to.equal(1);
    const s = summaryOf(r);
    expect(s).to.include({ status: 'completed_with_failures', total: 4, uploaded: 2, failed: 2, pending: 0 });

    const rows = await store.listFiles(batchId);
    expect(rows, 'a row for every file, as many as total').to.have.length(s.total);
    const failed = rows.filter((x) => x.status === 'failed').map((x) => [x.filePath, x.error]);
    expect(failed).to.have.deep.members([
      ['caf\\xE9.wav', 'file name is not valid UTF-8: caf\\xE9.wav (rename it)'],
      ['d\\xFF/x.wav', 'file name is not valid UTF-8: d\\xFF/x.wav (rename it)'],
    ]);
    expect([...(await held())]).to.have.deep.members([['caf\uFFFD.wav', 1], ['ok.wav', 1]]);
    const errors = eventsOf(r).filter((e) => e.event === 'file_error' || e.event === 'walk_error');
    expect(errors.map((e) => e.file)).to.have.members(['caf\\xE9.wav', 'd\\xFF/x.wav']);

    const tree: Tree = {
      dir: src,
      files: new Map([
        ['caf\\xE9.wav', ''],
        ['d\\xFF/x.wav', ''],
        ['caf\uFFFD.wav', sha256(Buffer.from('replacement'))],
        ['ok.wav', sha256(Buffer.from('fine'))],
      ]),
    };
    await assertInvariants(store, batchId, tree, targets(), { complete: true, summaries: [s] });

    // --resume finds those rows by the walker's paths, not by their printable form, and adds none
    const found = await store.findFiles(batchId, ['caf\uDCE9.wav', 'd\uDCFF/x.wav']);
    expect([...found.keys()]).to.have.members(['caf\uDCE9.wav', 'd\uDCFF/x.wav']);
    const again = await upload(batchId, '--resume');
    expect(again.code, again.stderr).to.equal(1);
    expect(summaryOf(again)).to.include({ total: 4, skipped: 2, failed: 2 });
    expect(await store.listFiles(batchId)).to.have.length(4);
  });
});
