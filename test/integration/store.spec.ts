import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createStore } from '../../src/store/createStore.js';
import type { BatchRow, CallRow, FileRow, Store } from '../../src/store/types.js';
import { forEachDatabase } from '../helpers/db.js';

const T0 = 1764384000123; // a time with milliseconds

const newBatchId = () => `b-${randomBytes(6).toString('hex')}`;

function fileRow(batchId: string, filePath: string, over: Partial<FileRow> = {}): FileRow {
  return {
    batchId, filePath, fileName: filePath.split('/').pop() ?? filePath, target: 'http://gpu-1:8080',
    sizeBytes: 100, mtimeMs: T0, sha256: null, verified: false, status: 'pending', attempts: 0,
    error: null, startedAt: null, finishedAt: null, ...over,
  };
}

function uploaded(row: FileRow, over: Partial<FileRow> = {}): FileRow {
  return { ...row, status: 'uploaded', sha256: 'a'.repeat(64), verified: true, attempts: 1, startedAt: T0, finishedAt: T0 + 20, ...over };
}

function callOf(row: FileRow): CallRow {
  return { batchId: row.batchId, filePath: row.filePath, fileName: row.fileName, target: row.target ?? '', sha256: row.sha256, processId: 7, auditFormId: null, createdAt: T0 + 21 };
}

function batchRow(id: string, over: Partial<BatchRow> = {}): BatchRow {
  return {
    id, sourceDir: '/data/ünïcode src', targets: ['http://gpu-1:8080', 'http://gpu-2:8080/äöü'], assign: 'round-robin',
    status: 'running', total: 0, uploaded: 0, failed: 0, skipped: 0, bytes: 0, startedAt: T0, finishedAt: null, ...over,
  };
}

/** SQL of the statements run while `fn` runs, with the transaction each ran in. */
async function capture(store: Store, fn: () => Promise<unknown>): Promise<{ sql: string; tx: unknown }[]> {
  const seen: { sql: string; tx: unknown }[] = [];
  const listener = (q: { sql: string; __knexTxId?: unknown }) => seen.push({ sql: q.sql, tx: q.__knexTxId });
  store.knex.on('query', listener);
  try {
    await fn();
  } finally {
    store.knex.removeListener('query', listener);
  }
  return seen;
}

forEachDatabase('KnexStore', (ctx) => {
  let store: Store;
  before(async () => {
    store = await createStore(ctx.url);
    await store.migrate();
  });
  after(() => store.close());

  it('should report its dialect and answer ping()', async () => {
    expect(store.dialect).to.equal(ctx.dialect);
    await store.ping();
  });

  it('should round-trip a batch and its update', async () => {
    const id = newBatchId();
    await store.createBatch(batchRow(id));
    expect(await store.getBatch(id)).to.deep.equal(batchRow(id));
    const counts = { status: 'completed_with_failures' as const, total: 10, uploaded: 7, failed: 2, skipped: 1, bytes: 5e12, finishedAt: T0 + 999 };
    await store.updateBatch(id, counts);
    const { status, total, uploaded, failed, skipped, bytes, finishedAt } = (await store.getBatch(id))!;
    expect({ status, total, uploaded, failed, skipped, bytes, finishedAt }).to.deep.equal(counts);
    expect(await store.getBatch('no-such-batch')).to.equal(undefined);
  });

  it('should list batches newest first, up to the limit', async () => {
    const ids = [newBatchId(), newBatchId(), newBatchId()];
    for (const [i, id] of ids.entries()) await store.createBatch(batchRow(id, { startedAt: 4e12 + i }));
    expect((await store.listBatches(2)).map((b) => b.id)).to.deep.equal([ids[2], ids[1]]);
    expect((await store.listBatches()).map((b) => b.id)).to.include.members(ids);
  });

  it('should keep one row per (batch, path) through planPending then recordOutcomes', async () => {
    const batchId = newBatchId();
    const rows = ['a.bin', 'dir/b.bin', 'dir/c.bin'].map((p) => fileRow(batchId, p));
    await store.planPending(rows);
    await store.planPending(rows);
    await store.recordOutcomes([uploaded(rows[0]), { ...rows[1], status: 'failed', attempts: 3, error: 'HTTP 503' }], [callOf(uploaded(rows[0]))]);
    expect(await store.countFiles(batchId)).to.deep.equal({ total: 3, pending: 1, uploaded: 1, failed: 1, bytes: 100 });
    const found = await store.findFiles(batchId, ['a.bin', 'dir/b.bin', 'dir/c.bin', 'missing.bin']);
    expect([...found.keys()].sort()).to.deep.equal(['a.bin', 'dir/b.bin', 'dir/c.bin']);
    expect(found.get('a.bin')).to.deep.equal(uploaded(rows[0]));
    expect(found.get('dir/b.bin')).to.include({ status: 'failed', attempts: 3, error: 'HTTP 503' });
    expect(await store.findFiles(newBatchId(), ['a.bin'])).to.have.property('size', 0);
  });

  it('should write the last of repeated paths in one call', async () => {
    const batchId = newBatchId();
    await store.planPending([fileRow(batchId, 'x', { sizeBytes: 1 }), fileRow(batchId, 'x', { sizeBytes: 2 })]);
    expect((await store.listFiles(batchId)).map((r) => r.sizeBytes)).to.deep.equal([2]);
  });

  it('should keep paths that differ only in case, accents or trailing spaces apart', async () => {
    const batchId = newBatchId();
    const paths = ['Photo.JPG', 'photo.jpg', 'caf\u00e9.jpg', 'cafe\u0301.jpg', 'a.jpg', 'a.jpg ', 'a.jpg  '];
    await store.planPending(paths.map((p, i) => fileRow(batchId, p, { sizeBytes: i + 1 })));
    await store.recordOutcomes(paths.map((p, i) => uploaded(fileRow(batchId, p, { sizeBytes: i + 1 }))), paths.map((p) => callOf(fileRow(batchId, p))));
    expect(await store.countFiles(batchId)).to.include({ total: paths.length, uploaded: paths.length });
    expect(await store.countCalls(batchId)).to.equal(paths.length);
    const found = await store.findFiles(batchId, paths);
    expect(found.size).to.equal(paths.length);
    for (const [i, p] of paths.entries()) {
      const row = found.get(p)!;
      expect(Buffer.from(row.filePath, 'utf8').equals(Buffer.from(p, 'utf8')), JSON.stringify(p)).to.equal(true);
      expect(row.sizeBytes).to.equal(i + 1);
    }
  });

  it('should store a 1024-character unicode path byte-exactly', async () => {
    const batchId = newBatchId();
    const chars = [...'é日😀/ß'];
    const path = Array.from({ length: 1024 }, (_, i) => chars[i % chars.length]).join('');
    expect([...path]).to.have.length(1024);
    await store.recordOutcomes([uploaded(fileRow(batchId, path, { fileName: path }))], [callOf(fileRow(batchId, path, { fileName: path }))]);
    const row = (await store.findFiles(batchId, [path])).get(path)!;
    expect(row.filePath).to.equal(path);
    expect(row.fileName).to.equal(path);
    const [call] = await store.knex('calls').where('batch_id', batchId).select('file_path');
    expect(call.file_path).to.equal(path);
  });

  it('should store a path of 4,096 bytes (Linux PATH_MAX) with its call', async () => {
    const batchId = newBatchId();
    const path = `${'日本語/'.repeat(400)}${'x'.repeat(4096 - 4000 - 4)}.wav`;
    expect(Buffer.byteLength(path)).to.equal(4096);
    const row = uploaded(fileRow(batchId, path));
    await store.planPending([fileRow(batchId, path)]);
    await store.recordOutcomes([row], [callOf(row)]);
    expect((await store.findFiles(batchId, [path])).get(path)).to.deep.equal(row);
    expect(await store.knex('calls').where('batch_id', batchId).pluck('file_path')).to.deep.equal([path]);
  });

  it('should write 1,200 rows in one transaction, 500 rows a statement', async () => {
    const batchId = newBatchId();
    const rows = Array.from({ length: 1200 }, (_, i) => fileRow(batchId, `many/${String(i).padStart(4, '0')}.bin`));
    const planned = (await capture(store, () => store.planPending(rows))).filter((q) => /^insert/i.test(q.sql));
    // MySQL: 500 + 500 + 200; SQLite: cached statement shapes 500 + 500 + 128 + 64 + 8
    const statements = ctx.dialect === 'sqlite' ? 5 : 3;
    expect(planned).to.have.length(statements);
    expect(new Set(planned.map((q) => q.tx)).size).to.equal(1);
    expect(planned[0].tx).to.not.equal(undefined);

    const done = rows.map((r) => uploaded(r));
    const recorded = (await capture(store, () => store.recordOutcomes(done, done.map(callOf)))).filter((q) => /^insert/i.test(q.sql));
    expect(recorded).to.have.length(2 * statements);
    expect(new Set(recorded.map((q) => q.tx)).size).to.equal(1);

    expect(await store.countFiles(batchId)).to.deep.equal({ total: 1200, pending: 0, uploaded: 1200, failed: 0, bytes: 120_000 });
    expect(await store.countCalls(batchId)).to.equal(1200);
    const found = await store.findFiles(batchId, rows.map((r) => r.filePath));
    expect(found.size).to.equal(1200);
  });

  it('should write nothing when one statement of the transaction fails', async () => {
    const batchId = newBatchId();
    const rows = Array.from({ length: 1200 }, (_, i) => fileRow(batchId, `atomic/${i}`));
    rows[1100] = { ...rows[1100], status: null as unknown as 'pending' };
    let failed = false;
    await store.planPending(rows).catch(() => (failed = true));
    expect(failed).to.equal(true);
    expect((await store.countFiles(batchId)).total).to.equal(0);
  });

  it("should keep a call's status for the same bytes, and follow its latest upload's target and time", async () => {
    const batchId = newBatchId();
    const row = uploaded(fileRow(batchId, 'call.bin'));
    await store.recordOutcomes([row], [callOf(row)]);
    await store.knex('calls').where({ batch_id: batchId }).update({ status: 'processing' });
    const again = { ...row, attempts: 2, target: 'http://gpu-2:8080' };
    await store.recordOutcomes([again], [{ ...callOf(again), processId: 99, createdAt: T0 + 5000 }]);
    const calls = await store.knex('calls').where({ batch_id: batchId }).select('status', 'process_id', 'created_at', 'target', 'sha256');
    expect(calls).to.have.length(1);
    expect(calls[0]).to.deep.include({ status: 'processing', process_id: 7, target: 'http://gpu-2:8080', sha256: 'a'.repeat(64) });
    expect(Number(calls[0].created_at)).to.equal(T0 + 5000);
    expect((await store.findFiles(batchId, ['call.bin'])).get('call.bin')?.attempts).to.equal(2);
  });

  it('should queue a call again when new bytes are recorded, in one statement for many files', async () => {
    const batchId = newBatchId();
    const rows = Array.from({ length: 7 }, (_, i) => uploaded(fileRow(batchId, `bytes/${i}.bin`)));
    await store.recordOutcomes(rows, rows.map(callOf));
    await store.knex('calls').where({ batch_id: batchId }).update({ status: 'done' });
    // odd files come back with new bytes, even ones with the same
    const next = rows.map((r, i) => (i % 2 ? { ...r, sha256: 'b'.repeat(64) } : r));
    const statements = (await capture(store, () => store.recordOutcomes(next, next.map(callOf)))).filter((q) => /^insert/i.test(q.sql));
    expect(statements.filter((q) => /calls/.test(q.sql))).to.have.length(ctx.dialect === 'sqlite' ? 3 : 1); // 4 + 2 + 1 / 7
    const calls = (await store.knex('calls').where({ batch_id: batchId }).orderBy('file_path').select('file_path', 'status', 'sha256')) as Record<string, string>[];
    expect(calls.map((c) => [c.file_path, c.status, c.sha256])).to.deep.equal(
      next.map((r, i) => [r.filePath, i % 2 ? 'queued' : 'done', r.sha256]),
    );
  });

  it('should remove the call of a file whose latest upload failed, in the same transaction', async () => {
    const batchId = newBatchId();
    const rows = ['gone.bin', 'kept.bin'].map((p) => uploaded(fileRow(batchId, p)));
    await store.recordOutcomes(rows, rows.map(callOf));
    const failed: FileRow = { ...rows[0], status: 'failed', sha256: null, verified: false, error: 'HTTP 503', target: 'http://gpu-2:8080' };
    const seen = await capture(store, () => store.recordOutcomes([failed], []));
    expect(new Set(seen.map((q) => q.tx)).size, 'one transaction').to.equal(1);
    expect(await store.knex('calls').where({ batch_id: batchId }).pluck('file_path')).to.deep.equal(['kept.bin']);
    expect(await store.countFiles(batchId)).to.include({ uploaded: 1, failed: 1 });
    // and a failure that writes nothing else leaves the call alone
    const other = newBatchId();
    await store.recordOutcomes([{ ...failed, batchId: other }], []);
    expect(await store.countCalls(batchId)).to.equal(1);
  });

  it('should queue new calls with status queued', async () => {
    const batchId = newBatchId();
    const row = uploaded(fileRow(batchId, 'q.bin'));
    await store.recordOutcomes([row], [callOf(row)]);
    expect(await store.knex('calls').where({ batch_id: batchId }).first('status')).to.deep.equal({ status: 'queued' });
  });

  it('should round-trip millisecond times and large sizes exactly as numbers', async () => {
    const batchId = newBatchId();
    const now = Date.now();
    const row = uploaded(fileRow(batchId, 't.bin', { mtimeMs: now - 1, sizeBytes: 5_123_456_789_012 }), { startedAt: now, finishedAt: now + 20 });
    await store.recordOutcomes([row], []);
    const back = (await store.findFiles(batchId, ['t.bin'])).get('t.bin')!;
    expect(back).to.deep.equal(row);
    for (const v of [back.mtimeMs, back.sizeBytes, back.startedAt, back.finishedAt]) expect(v).to.be.a('number');
  });

  it('should give booleans back as booleans', async () => {
    const batchId = newBatchId();
    await store.recordOutcomes([uploaded(fileRow(batchId, 'yes'), { verified: true }), uploaded(fileRow(batchId, 'no'), { verified: false })], []);
    const found = await store.findFiles(batchId, ['yes', 'no']);
    expect(found.get('yes')?.verified).to.equal(true);
    expect(found.get('no')?.verified).to.equal(false);
  });

  it('should look up processes', async () => {
    const [withForm] = await store.knex('processes').insert({ name: 'transcribe', audit_form_id: 42 });
    const [without] = await store.knex('processes').insert({ name: 'ocr', audit_form_id: null });
    expect(await store.lookupProcess(Number(withForm))).to.deep.equal({ id: Number(withForm), name: 'transcribe', auditFormId: 42 });
    expect(await store.lookupProcess(Number(without))).to.deep.equal({ id: Number(without), name: 'ocr', auditFormId: null });
    expect(await store.lookupProcess(999_999)).to.equal(undefined);
  });

  it('should count files and targets and list files by start time', async () => {
    const batchId = newBatchId();
    const a = 'http://gpu-a:1', b = 'http://gpu-b:1';
    await store.planPending([
      fileRow(batchId, 'p1', { target: a, startedAt: T0 + 3 }),
      fileRow(batchId, 'p2', { target: null }),
      uploaded(fileRow(batchId, 'u1', { target: a, sizeBytes: 1000 }), { startedAt: T0 + 2 }),
      uploaded(fileRow(batchId, 'u2', { target: b, sizeBytes: 4000 }), { startedAt: T0 + 1 }),
      fileRow(batchId, 'f1', { target: b, status: 'failed', startedAt: T0 + 4, error: 'boom' }),
    ]);
    expect(await store.countFiles(batchId)).to.deep.equal({ total: 5, pending: 2, uploaded: 2, failed: 1, bytes: 5000 });
    expect(await store.targetCounts(batchId)).to.deep.equal([
      { target: a, uploaded: 1, failed: 0, pending: 1, bytes: 1000 },
      { target: b, uploaded: 1, failed: 1, pending: 0, bytes: 4000 },
    ]);
    expect((await store.listFiles(batchId)).map((r) => r.filePath)).to.deep.equal(['p2', 'u2', 'u1', 'p1', 'f1']);
    expect((await store.listFiles(batchId, { status: 'pending' })).map((r) => r.filePath)).to.deep.equal(['p2', 'p1']);
    expect((await store.listFiles(batchId, { limit: 2 })).map((r) => r.filePath)).to.deep.equal(['p2', 'u2']);
    expect(await store.countFiles(newBatchId())).to.deep.equal({ total: 0, pending: 0, uploaded: 0, failed: 0, bytes: 0 });
    expect(await store.targetCounts(newBatchId())).to.deep.equal([]);
    expect(await store.countCalls(newBatchId())).to.equal(0);
  });
});
