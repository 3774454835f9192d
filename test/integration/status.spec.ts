import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import yargs from 'yargs';
import type { CliContext } from '../../src/commands/context.js';
import { STATUS_LIMITS, statusCommand } from '../../src/commands/status.js';
import { ConfigError } from '../../src/errors.js';
import { createStore } from '../../src/store/createStore.js';
import type { BatchRow, CallRow, FileRow, Store } from '../../src/store/types.js';
import { forEachDatabase } from '../helpers/db.js';
import { fakeContext } from '../helpers/cli.js';

const T0 = 1764384000123;
const A = 'http://gpu-a:8080';
const B = 'http://gpu-b:8080';


const runStatus = (argv: string[], ctx: CliContext) =>
  yargs(['status', ...argv]).command(statusCommand(ctx)).strict().exitProcess(false).fail((msg, err) => {
    throw err ?? new Error(msg);
  }).parseAsync();

function batch(id: string, over: Partial<BatchRow> = {}): BatchRow {
  return {
    id, sourceDir: '/data/calls', targets: [A, B], assign: 'round-robin', status: 'completed',
    total: 0, uploaded: 0, failed: 0, skipped: 0, bytes: 0, startedAt: T0, finishedAt: T0 + 65_000, ...over,
  };
}

function file(batchId: string, filePath: string, target: string | null, over: Partial<FileRow> = {}): FileRow {
  return {
    batchId, filePath, fileName: filePath, target, sizeBytes: 1000, mtimeMs: T0, sha256: null, verified: true,
    status: 'uploaded', attempts: 1, error: null, startedAt: T0 + 10, finishedAt: T0 + 30, ...over,
  };
}

/**
 * "old" (completed, 3 files on A) and, started later, "new": 40 uploaded (A, B alternately),
 * 60 failed on B, the first with a newline and an escape in its error, and 4 pending rows.
 */
async function seed(store: Store): Promise<FileRow[]> {
  await store.createBatch(batch('old', { total: 3, uploaded: 3, bytes: 3000 }));
  const old = [0, 1, 2].map((i) => file('old', `o${i}.wav`, A));
  await store.recordOutcomes(old, old.map(callOf));

  await store.createBatch(batch('new', { status: 'completed_with_failures', startedAt: T0 + 100_000, finishedAt: T0 + 112_500, total: 104, uploaded: 40, failed: 60 }));
  const rows = [
    ...Array.from({ length: 40 }, (_, i) => file('new', `up/${i}.wav`, i % 2 ? B : A, { sizeBytes: 100 + i })),
    ...Array.from({ length: 60 }, (_, i) => file('new', `bad/${String(i).padStart(2, '0')}.wav`, B, {
      status: 'failed', attempts: 4, error: i === 0 ? 'HTTP 503\nline two \u001b[31mred' : `HTTP 503 #${i}`, startedAt: T0 + 1000 + i,
    })),
    ...Array.from({ length: 4 }, (_, i) => file('new', `later/${i}.wav`, i < 2 ? A : null, { status: 'pending', attempts: 0, startedAt: null, finishedAt: null })),
  ];
  await store.recordOutcomes(rows, rows.filter((r) => r.status === 'uploaded').map(callOf));
  // "new" ran twice: 10 s, then a resume of 2.5 s on another host, days later
  const run = { batchId: 'new', host: 'box-1', pid: 4242, status: 'interrupted' as const, total: 64, uploaded: 30, failed: 30, skipped: 0, bytes: 3000 };
  const first = await store.startRun({ ...run, startedAt: T0 + 100_000, finishedAt: null });
  await store.finishRun(first, { ...run, finishedAt: T0 + 110_000 });
  const second = await store.startRun({ ...run, host: 'box-2', pid: 7, startedAt: T0 + 200_000_000, finishedAt: null });
  await store.finishRun(second, { ...run, status: 'completed_with_failures', total: 104, uploaded: 40, failed: 60, bytes: 0, finishedAt: T0 + 200_002_500 });
  return rows;
}

function callOf(r: FileRow): CallRow {
  return { batchId: r.batchId, filePath: r.filePath, fileName: r.fileName, target: r.target!, sha256: r.sha256, processId: null, auditFormId: null, createdAt: T0 };
}

forEachDatabase('fanout status', (db) => {
  let store: Store;
  let rows: FileRow[];

  before(async function () {
    this.timeout(30_000);
    store = await createStore(db.url);
    await store.migrate();
    rows = await seed(store);
  });
  after(() => store?.close());

  it('should list recent batches newest first, from $FANOUT_DB', async () => {
    const ctx = fakeContext({ FANOUT_DB: db.url });
    await runStatus([], ctx);
    const lines = ctx.out().split('\n');
    expect(lines[0]).to.match(/^recent batches .*files counted from each batch's rows over all its runs; run time: the sum of its runs/);
    expect(lines[1].trim().split(/\s{2,}/)).to.deep.equal(['id', 'status', 'started', 'runs', 'run time', 'files', 'uploaded', 'failed', 'pending', 'bytes']);
    // totals from the file rows (not the last run's counts); run time 10 s + 2.5 s, not the days between
    const newBytes = rows.filter((r) => r.status === 'uploaded').reduce((n, r) => n + r.sizeBytes, 0);
    expect(lines[2].trim().split(/\s{2,}/)).to.deep.equal(['new', 'completed_with_failures', new Date(T0 + 100_000).toISOString().replace(/\.\d+Z$/, 'Z'), '2', '12.5 s', '104', '40', '60', '4', `${(newBytes / 1000).toFixed(1)} kB`]);
    // a batch from before runs were kept: its first start to last end
    expect(lines[3].trim().split(/\s{2,}/)).to.deep.equal(['old', 'completed', new Date(T0).toISOString().replace(/\.\d+Z$/, 'Z'), '0', '1 min 5 s', '3', '3', '0', '0', '3.0 kB']);
    expect(lines.slice(4)).to.deep.equal(['']);
    expect(ctx.exitCode).to.equal(0);
  });

  it('should print the batch list as one JSON object with --json', async () => {
    const ctx = fakeContext();
    await runStatus(['--db', db.url, '--json'], ctx);
    expect(ctx.out().endsWith('\n') && ctx.out().indexOf('\n') === ctx.out().length - 1).to.equal(true);
    const { batches } = JSON.parse(ctx.out()) as { batches: Record<string, unknown>[] };
    expect(batches.map((b) => b.id)).to.deep.equal(['new', 'old']);
    expect(batches[1]).to.deep.equal({
      id: 'old', status: 'completed', sourceDir: '/data/calls', targets: [A, B], assign: 'round-robin', startedAt: T0, finishedAt: T0 + 65_000,
      runs: 0, runTimeMs: 65_000, total: 3, uploaded: 3, failed: 0, pending: 0, bytes: 3000, lastRun: { total: 3, uploaded: 3, failed: 0, skipped: 0, bytes: 3000 },
    });
    expect(batches[0]).to.include({ runs: 2, runTimeMs: 12_500, total: 104, uploaded: 40, failed: 60, pending: 4 });
  });

  it('should give one batch counted from its rows with --batch-id --json', async () => {
    const ctx = fakeContext();
    await runStatus(['--db', db.url, '--batch-id', 'new', '--json'], ctx);
    expect(ctx.out().split('\n')).to.have.length(2);
    const s = JSON.parse(ctx.out());
    const count = (f: (r: FileRow) => boolean) => rows.filter(f).length;
    const uploadedBytes = (t: string) => rows.filter((r) => r.status === 'uploaded' && r.target === t).reduce((n, r) => n + r.sizeBytes, 0);
    expect(s).to.deep.include({
      batchId: 'new', status: 'completed_with_failures', runTimeMs: 12_500,
      total: rows.length, uploaded: count((r) => r.status === 'uploaded'), failed: count((r) => r.status === 'failed'),
      pending: count((r) => r.status === 'pending'), bytes: uploadedBytes(A) + uploadedBytes(B), calls: 40,
      lastRun: { total: 104, uploaded: 40, failed: 60, skipped: 0, bytes: 0 },
    });
    expect(s.targets).to.deep.equal({
      [A]: { uploaded: 20, failed: 0, pending: 2, bytes: uploadedBytes(A) },
      [B]: { uploaded: 20, failed: 60, pending: 0, bytes: uploadedBytes(B) },
    });
    expect(s.runs).to.deep.equal([
      { startedAt: T0 + 100_000, finishedAt: T0 + 110_000, durationMs: 10_000, host: 'box-1', pid: 4242, status: 'interrupted', total: 64, uploaded: 30, failed: 30, skipped: 0, bytes: 3000 },
      { startedAt: T0 + 200_000_000, finishedAt: T0 + 200_002_500, durationMs: 2500, host: 'box-2', pid: 7, status: 'completed_with_failures', total: 104, uploaded: 40, failed: 60, skipped: 0, bytes: 0 },
    ]);
    expect(s.failures).to.have.length(STATUS_LIMITS.failures);
    expect(s.failures[0]).to.deep.equal({ filePath: 'bad/00.wav', target: B, attempts: 4, error: 'HTTP 503\nline two \u001b[31mred', finishedAt: T0 + 30 });
  });

  it('should show one batch for people: counts, targets and failed files one a line', async () => {
    const ctx = fakeContext();
    await runStatus(['--db', db.url, '--batch-id', 'new'], ctx);
    const out = ctx.out();
    expect(out).to.match(/^batch new completed_with_failures\n/);
    expect(out).to.include('  files 104: 40 uploaded, 60 failed, 4 pending; ');
    expect(out).to.include('; 40 calls\n');
    expect(out).to.include('(run time 12.5 s, the sum of 2 runs)\n');
    expect(out).to.include("\nruns (each run's own counts):\n");
    expect(out).to.match(/\n {2}1 +\S+ +\S+ +10\.0 s +box-1 +4242 +interrupted +64 +30 +30 +0 +3\.0 kB\n/);
    expect(out).to.match(/\n {2}2 +\S+ +\S+ +2\.5 s +box-2 +7 +completed_with_failures +104 +40 +60 +0 +0 B\n/);
    expect(out).to.match(new RegExp(`\\n  ${A} +20 +0 +2 +\\d`));
    expect(out).to.match(new RegExp(`\\n  ${B} +20 +60 +0 +\\d`));
    expect(out).to.include(`failed files (first ${STATUS_LIMITS.failures} of 60):\n`);
    expect(out).to.match(/\n {2}bad\/00\.wav +http:\/\/gpu-b:8080 +4 +HTTP 503 line two {2}\[31mred\n/);
    expect(out).to.not.include('\u001b');
    expect(out.match(/\n {2}bad\//g)).to.have.length(STATUS_LIMITS.failures);
  });

  it('should refuse an unknown batch with a ConfigError naming it, printing nothing', async () => {
    const ctx = fakeContext();
    const err = await runStatus(['--db', db.url, '--batch-id', 'no-such-batch', '--json'], ctx).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.equal('unknown batch "no-such-batch"');
    expect(ctx.out()).to.equal('');
  });
});

describe('fanout status (empty and unreachable databases)', () => {
  it('should say there are no batches yet', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fanout-status-'));
    try {
      const url = `sqlite:${path.join(dir, 'empty.sqlite')}`;
      const store = await createStore(url);
      await store.migrate();
      await store.close();
      const ctx = fakeContext();
      await runStatus(['--db', url], ctx);
      expect(ctx.out()).to.equal(`no batches in ${url}\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('should turn an unreachable database into a ConfigError without its password', async () => {
    const ctx = fakeContext();
    const err = await runStatus(['--db', 'mysql://u:s3cret@127.0.0.1:1/x'], ctx).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.match(/^cannot use database /).and.not.include('s3cret');
    expect(ctx.out()).to.equal('');
  });
});
