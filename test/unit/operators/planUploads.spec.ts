import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { StoreUnavailableError } from '../../../src/errors.js';
import { planUploads, sha256File } from '../../../src/operators/planUploads.js';
import { unsent } from '../../../src/operators/uploadFiles.js';
import type { FileRow, Store } from '../../../src/store/types.js';
import type { Assignment, SourceFile } from '../../../src/types.js';

/** A store double that records what was written (the real store has its own suites on SQLite and MariaDB). */
function recordingStore(existing: FileRow[] = []) {
  const written: FileRow[][] = [];
  const store: Pick<Store, 'planPending' | 'findFiles'> = {
    planPending: async (rows) => {
      written.push([...rows]);
    },
    findFiles: async (_batch, paths) => new Map(existing.filter((r) => paths.includes(r.filePath)).map((r) => [r.filePath, r])),
  };
  return { store, written };
}

const row = (f: SourceFile, extra: Partial<FileRow>): FileRow => ({
  batchId: 'b', filePath: f.path, fileName: f.name, target: 'A', sizeBytes: f.size, mtimeMs: f.mtimeMs, sha256: null,
  verified: true, status: 'uploaded', attempts: 1, error: null, startedAt: 1, finishedAt: 2, ...extra,
});

describe('planUploads', () => {
  let dir: string;
  const files: Record<string, SourceFile> = {};
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fanout-plan-'));
    for (const name of ['same', 'touched', 'changed', 'pending', 'failed', 'new']) {
      await writeFile(path.join(dir, name), `content of ${name}`);
      files[name] = { path: name, absPath: path.join(dir, name), name, size: `content of ${name}`.length, mtimeMs: 1000 };
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('should write every file pending, with its target, before passing it on', async () => {
    const { store, written } = recordingStore();
    const assignments: Assignment[] = [{ file: files.new, target: 'A' }, { file: files.same, target: null }];
    const out = await lastValueFrom(from(assignments).pipe(planUploads({ store, batchId: 'b', batchMs: 5 }), toArray()));
    expect(out).to.deep.equal(assignments);
    expect(written.flat().map((r) => [r.filePath, r.status, r.target])).to.deep.equal([['new', 'pending', 'A'], ['same', 'pending', null]]);
  });

  it('should decide each file on --resume from its row', async () => {
    const existing = [
      row(files.same, {}),
      row(files.touched, { mtimeMs: 5, sha256: await sha256File(files.touched.absPath) }), // mtime moved, content equal
      row(files.changed, { mtimeMs: 5, sha256: 'f'.repeat(64), target: 'C' }), // mtime moved, content differs
      row(files.pending, { status: 'pending', target: 'B' }),
      row(files.failed, { status: 'failed', target: 'B' }),
    ];
    const { store, written } = recordingStore(existing);
    const assignments = ['same', 'touched', 'changed', 'pending', 'failed', 'new'].map((n) => ({ file: files[n], target: 'A' }));
    const out = await lastValueFrom(from(assignments).pipe(planUploads({ store, batchId: 'b', resume: true, batchMs: 5 }), toArray()));
    const by = Object.fromEntries(out.map((a) => [a.file.path, a]));
    expect(by.same).to.include({ skip: true });
    expect(by.touched).to.include({ skip: true });
    expect(by.changed).to.include({ target: 'C' }).and.not.have.property('skip'); // sent again, where it is
    expect(by.pending).to.include({ target: 'B' }); // to the target its row names
    expect(by.failed).to.include({ target: 'A' });
    expect(by.new).to.include({ target: 'A' });
    // skipped files write nothing; the rest are (re)written pending
    expect(written.flat().map((r) => r.filePath).sort()).to.deep.equal(['changed', 'failed', 'new', 'pending']);
    expect(written.flat().every((r) => r.status === 'pending')).to.equal(true);
  });

  it('should fail only the file whose row the database refuses, and write the others', async () => {
    const written: string[] = [];
    const tooLong = Object.assign(new Error("insert into `file_distributions` (...) values (...) - Data too long for column 'file_path' at row 2"), {
      code: 'ER_DATA_TOO_LONG', sqlMessage: "Data too long for column 'file_path' at row 2",
    });
    let calls = 0;
    const store: Pick<Store, 'planPending' | 'findFiles'> = {
      planPending: async (rows) => {
        calls++;
        if (rows.some((r) => r.filePath === 'failed')) throw tooLong;
        written.push(...rows.map((r) => r.filePath));
      },
      findFiles: async () => new Map(),
    };
    const assignments: Assignment[] = ['new', 'failed', 'same'].map((n) => ({ file: files[n], target: 'A' }));
    const out = await lastValueFrom(from(assignments).pipe(planUploads({ store, batchId: 'b', batchMs: 5, dbRetryMs: 10_000 }), toArray()));
    expect(calls, 'the batch, then each row once, no retry of a refusal').to.equal(4);
    expect(written).to.deep.equal(['new', 'same']);
    expect(out.map((a) => [a.file.path, a.planError ?? null])).to.deep.equal([
      ['new', null],
      ['failed', "database refused the row: ER_DATA_TOO_LONG: Data too long for column 'file_path' at row 2"],
      ['same', null],
    ]);
    expect(unsent(out[1], out[1].planError as string)).to.include({ status: 'failed', attempts: 0, target: null, error: out[1].planError });
  });

  it('should stop the batch when the database stays away', async () => {
    const store: Pick<Store, 'planPending' | 'findFiles'> = {
      planPending: async () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' })),
      findFiles: async () => new Map(),
    };
    const err = await lastValueFrom(from([{ file: files.new, target: 'A' }]).pipe(planUploads({ store, batchId: 'b', batchMs: 5, dbRetryMs: 0 }))).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StoreUnavailableError);
  });
});
