import { expect } from 'chai';
import { from, lastValueFrom, Subject, toArray } from 'rxjs';
import { recordResults } from '../../../src/operators/recordResults.js';
import type { AttemptRow, CallRow, FileRow, Store } from '../../../src/store/types.js';
import type { UploadResult } from '../../../src/types.js';

const result = (p: string, status: UploadResult['status']): UploadResult => ({
  file: { path: p, absPath: `/x/${p}`, name: p, size: 3, mtimeMs: 7 },
  target: status === 'pending' ? null : 'A', status, sha256: status === 'uploaded' ? 'h' : null, verified: status === 'uploaded',
  attempts: 1, error: status === 'failed' ? 'HTTP 403' : null, startedAt: 1, finishedAt: 2,
});

describe('recordResults', () => {
  it('should write outcomes and calls, and pass results on only once written', async () => {
    const writes: { rows: FileRow[]; calls: CallRow[] }[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const store: Pick<Store, 'recordOutcomes'> = {
      recordOutcomes: async (rows, calls) => {
        await gate;
        writes.push({ rows: [...rows], calls: [...calls] });
      },
    };
    const src = new Subject<UploadResult>();
    const seen: string[] = [];
    const sub = src.pipe(recordResults({ store, batchId: 'b', processId: 4, auditFormId: 9, batchMs: 5 })).subscribe((r) => seen.push(r.file.path));
    for (const [p, s] of [['u', 'uploaded'], ['f', 'failed'], ['s', 'skipped'], ['p', 'pending']] as const) src.next(result(p, s));
    await new Promise((r) => setTimeout(r, 30));
    expect(seen).to.deep.equal([]); // not durable yet
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).to.deep.equal(['u', 'f', 's', 'p']);
    expect(writes).to.have.length(1);
    expect(writes[0].rows.map((r) => [r.filePath, r.status, r.error])).to.deep.equal([['u', 'uploaded', null], ['f', 'failed', 'HTTP 403']]);
    expect(writes[0].calls).to.deep.equal([{ batchId: 'b', filePath: 'u', fileName: 'u', target: 'A', sha256: 'h', processId: 4, auditFormId: 9, createdAt: 2 }]);
    sub.unsubscribe();
  });

  it('should write each try as an attempt row with the limit its target had then', async () => {
    const tries: AttemptRow[] = [];
    const store: Pick<Store, 'recordOutcomes'> = { recordOutcomes: async (_rows, _calls, attempts = []) => void tries.push(...attempts) };
    const r: UploadResult = {
      ...result('u', 'uploaded'),
      tries: [{ target: 'A', startedAt: 1, finishedAt: 2, outcome: 'retried', error: 'HTTP 503', limit: 3 }, { target: 'B', startedAt: 2, finishedAt: 3, outcome: 'uploaded', error: null, limit: 1 }],
    };
    await lastValueFrom(from([r]).pipe(recordResults({ store, batchId: 'b', batchMs: 1 }), toArray()));
    expect(tries.map((a) => [a.target, a.attempt, a.outcome, a.targetLimit])).to.deep.equal([['A', 1, 'retried', 3], ['B', 2, 'uploaded', 1]]);
  });

  it('should write nothing for a batch of skipped and interrupted files', async () => {
    let calls = 0;
    const store: Pick<Store, 'recordOutcomes'> = { recordOutcomes: async () => void calls++ };
    const src = new Subject<UploadResult>();
    const seen: string[] = [];
    src.pipe(recordResults({ store, batchId: 'b', batchMs: 5 })).subscribe((r) => seen.push(r.file.path));
    src.next(result('s', 'skipped'));
    src.next(result('p', 'pending'));
    src.complete();
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).to.deep.equal(['s', 'p']);
    expect(calls).to.equal(0);
  });

  it('should fail only the file whose record the database refuses, and record it failed', async () => {
    const writes: { rows: [string, string][]; calls: string[] }[] = [];
    const refusal = Object.assign(new Error('refused by a trigger'), { code: 'SQLITE_CONSTRAINT_TRIGGER' });
    const store: Pick<Store, 'recordOutcomes'> = {
      recordOutcomes: async (rows, calls) => {
        // the database takes `bad` only as a failed row
        if (rows.some((r) => r.filePath === 'bad' && r.status === 'uploaded')) throw refusal;
        writes.push({ rows: rows.map((r) => [r.filePath, r.status]), calls: calls.map((c) => c.filePath) });
      },
    };
    const src = [result('u', 'uploaded'), result('bad', 'uploaded'), result('f', 'failed')];
    const out = await lastValueFrom(from(src).pipe(recordResults({ store, batchId: 'b', batchMs: 5, dbRetryMs: 10_000 }), toArray()));
    expect(out.map((r) => [r.file.path, r.status, r.error])).to.deep.equal([
      ['u', 'uploaded', null],
      ['bad', 'failed', 'database refused the record: SQLITE_CONSTRAINT_TRIGGER: refused by a trigger'],
      ['f', 'failed', 'HTTP 403'],
    ]);
    expect(writes).to.deep.equal([
      { rows: [['u', 'uploaded']], calls: ['u'] },
      { rows: [['f', 'failed']], calls: [] },
      { rows: [['bad', 'failed']], calls: [] },
    ]);
  });

  it('should count a file failed even when the database refuses its failed row too', async () => {
    const store: Pick<Store, 'recordOutcomes'> = {
      recordOutcomes: async (rows) => {
        if (rows.some((r) => r.filePath === 'bad')) throw Object.assign(new Error('Data too long'), { code: 'ER_DATA_TOO_LONG' });
      },
    };
    const out = await lastValueFrom(from([result('bad', 'failed'), result('u', 'uploaded')]).pipe(recordResults({ store, batchId: 'b', batchMs: 5 }), toArray()));
    expect(out.map((r) => [r.file.path, r.status, r.error])).to.deep.equal([
      ['bad', 'failed', 'HTTP 403; database refused the record: ER_DATA_TOO_LONG: Data too long'],
      ['u', 'uploaded', null],
    ]);
  });
});
