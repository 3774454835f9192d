import { expect } from 'chai';
import { from, lastValueFrom, toArray } from 'rxjs';
import { UploadError } from '../../../src/errors.js';
import { Fleet } from '../../../src/http/fleet.js';
import { fixedLimit } from '../../../src/http/limits/limit.js';
import { silentLogger } from '../../../src/logger.js';
import { uploadFiles, type UploadDeps } from '../../../src/operators/uploadFiles.js';
import type { Assignment, SourceFile } from '../../../src/types.js';

const file = (p: string): SourceFile => ({ path: p, absPath: `/x/${p}`, name: p, size: 3, mtimeMs: 0 });

function deps(targets: string[], upload: UploadDeps['uploader']['upload'], extra: Partial<UploadDeps> = {}): UploadDeps {
  return {
    fleet: new Fleet(targets, { perTarget: 2, concurrency: 8, downAfter: 3, probeMs: 60_000, probe: async () => false }),
    uploader: { upload },
    logger: silentLogger(),
    batchId: 'b1',
    retries: 2,
    backoff: () => 0,
    ...extra,
  };
}

const run = (assignments: Assignment[], d: UploadDeps) => lastValueFrom(from(assignments).pipe(uploadFiles(d), toArray()));

describe('uploadFiles', () => {
  it('should fail a file whose name is not valid UTF-8 without sending it or charging a target', async () => {
    const sent: string[] = [];
    const d = deps(['A'], async (_t, f) => {
      sent.push(f.path);
      return { sha256: 'h', verified: true };
    });
    const bad: SourceFile = { ...file('d\uDCFF/caf\uDCE9.wav'), invalidName: true };
    const results = await run([{ file: bad, target: 'A' }, { file: file('ok'), target: 'A' }], d);
    expect(sent).to.deep.equal(['ok']);
    const failed = results.find((r) => r.file === bad);
    expect(failed).to.include({ status: 'failed', attempts: 0, target: null, error: 'file name is not valid UTF-8: d\\xFF/caf\\xE9.wav (rename it)' });
    expect(d.fleet.snapshot()[0]).to.include({ failed: 0, consecutiveFailures: 0, uploaded: 1 });
  });

  it('should fail a file whose pending row the database refused, without sending it or charging a target', async () => {
    const sent: string[] = [];
    const d = deps(['A'], async (_t, f) => {
      sent.push(f.path);
      return { sha256: 'h', verified: true };
    });
    const results = await run([{ file: file('refused'), target: 'A', planError: 'database refused the row: too long' }, { file: file('ok'), target: 'A' }], d);
    expect(sent).to.deep.equal(['ok']);
    expect(results.find((r) => r.file.path === 'refused')).to.include({ status: 'failed', attempts: 0, target: null, error: 'database refused the row: too long' });
    expect(d.fleet.snapshot()[0]).to.include({ failed: 0, consecutiveFailures: 0, uploaded: 1 });
  });

  it('should keep going when one file fails for good', async () => {
    const d = deps(['A'], async (_t, f) => {
      if (f.path === 'bad') throw new UploadError('HTTP 400: no', false, 400);
      return { sha256: 'h', verified: true };
    });
    const results = await run(['a', 'bad', 'c'].map((p) => ({ file: file(p), target: 'A' })), d);
    const byPath = Object.fromEntries(results.map((r) => [r.file.path, r]));
    expect(byPath.a.status).to.equal('uploaded');
    expect(byPath.c.status).to.equal('uploaded');
    expect(byPath.bad).to.include({ status: 'failed', attempts: 1, target: 'A' });
    expect(byPath.bad.error).to.contain('400');
  });

  it('should retry transient errors and count the attempts', async () => {
    let calls = 0;
    const d = deps(['A'], async () => {
      if (++calls < 3) throw new UploadError('HTTP 503', true, 503);
      return { sha256: 'h', verified: true };
    });
    const [r] = await run([{ file: file('a'), target: 'A' }], d);
    expect(r).to.include({ status: 'uploaded', attempts: 3, target: 'A', sha256: 'h', verified: true });
  });

  it('should fail over to another target once retries on one are used up, and name the target that holds it', async () => {
    const d = deps(['A', 'B'], async (t) => {
      if (t === 'A') throw new UploadError('HTTP 503', true, 503);
      return { sha256: 'h', verified: true };
    });
    const [r] = await run([{ file: file('a'), target: 'A' }], d);
    expect(r).to.include({ status: 'uploaded', target: 'B', attempts: 4 }); // 1 + 2 retries on A, then B
  });

  it('should record on each try the limit its target had when the try got its slot', async () => {
    // A's limit grows by one with each sample; B's stays at 2 (perTarget caps both at 5)
    const growing = () => {
      let n = 1;
      return { get limit() { return n; }, onSample: () => (n = Math.min(5, n + 1)), reset: () => (n = 1) };
    };
    const fleet = new Fleet(['A', 'B'], { perTarget: 5, limit: (t) => (t === 'A' ? growing() : fixedLimit(2)), concurrency: 8, downAfter: 9, probeMs: 60_000, probe: async () => false });
    const d = deps(['A', 'B'], async (t) => {
      if (t === 'A') throw new UploadError('HTTP 503', true, 503);
      return { sha256: 'h', verified: true };
    }, { fleet });
    const [r] = await run([{ file: file('a'), target: 'A' }], d);
    expect(r.tries?.map((t) => [t.target, t.outcome, t.limit])).to.deep.equal([['A', 'retried', 1], ['A', 'retried', 2], ['A', 'retried', 3], ['B', 'uploaded', 2]]);
  });

  it('should not retry a permanent error', async () => {
    let calls = 0;
    const d = deps(['A', 'B'], async () => {
      calls++;
      throw new UploadError('HTTP 400', false, 400);
    });
    const [r] = await run([{ file: file('a'), target: 'A' }], d);
    expect(r.status).to.equal('failed');
    expect(calls).to.equal(1);
  });

  it('should fail when every target has been tried', async () => {
    const d = deps(['A', 'B'], async () => {
      throw new UploadError('HTTP 500', true, 500);
    });
    d.fleet = new Fleet(['A', 'B'], { perTarget: 2, concurrency: 8, downAfter: 100, probeMs: 60_000, probe: async () => false });
    const [r] = await run([{ file: file('a'), target: 'A' }], d);
    expect(r.status).to.equal('failed');
    expect(r.attempts).to.equal(6);
    expect(r.error).to.contain('HTTP 500');
  });

  it('should fail a file over off a target that refuses our credentials, spending no retry there', async () => {
    const d = deps(['A', 'B'], async (t) => {
      if (t === 'A') throw new UploadError('HTTP 401: missing or wrong token', false, 401);
      return { sha256: 'h', verified: true };
    }, { retries: 0 });
    const results = await run(['a', 'b', 'c'].map((p) => ({ file: file(p), target: 'A' })), d);
    for (const r of results) expect(r, r.file.path).to.include({ status: 'uploaded', target: 'B' });
    expect(d.fleet.isUp('A')).to.equal(false);
    expect(d.fleet.snapshot().find((s) => s.target === 'A')).to.include({ failed: 0 });
  });

  it('should leave files pending, not failed, once every target has refused our credentials', async () => {
    let calls = 0;
    const d = deps(['A', 'B'], async () => {
      calls++;
      throw new UploadError('HTTP 403: forbidden', false, 403);
    });
    const results = await run(['a', 'b', 'c', 'd', 'e'].map((p) => ({ file: file(p), target: p === 'a' ? 'A' : 'B' })), d);
    expect(results.map((r) => r.status)).to.deep.equal(['pending', 'pending', 'pending', 'pending', 'pending']);
    expect(calls, 'at most one refusal per slot of each target').to.be.at.most(4);
  });

  it('should wait out a moment when every target is down instead of failing the file', async () => {
    let calls = 0;
    let answers = false;
    const d = deps(['A'], async () => {
      if (++calls === 1) {
        answers = true; // back by the time it is probed
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      }
      return { sha256: 'h', verified: true };
    }, { retries: 0 });
    d.fleet = new Fleet(['A'], { perTarget: 2, concurrency: 8, downAfter: 1, probeMs: 5, probe: async () => answers });
    const [r] = await run([{ file: file('a'), target: 'A' }], d);
    expect(r).to.include({ status: 'uploaded', target: 'A', attempts: 2 });
    d.fleet.close();
  });

  it('should pass skipped files on without uploading them', async () => {
    let calls = 0;
    const d = deps(['A'], async () => {
      calls++;
      return { sha256: 'h', verified: true };
    });
    const [r] = await run([{ file: file('a'), target: 'A', skip: true, sha256: 'old' }], d);
    expect(r).to.include({ status: 'skipped', sha256: 'old', attempts: 0 });
    expect(calls).to.equal(0);
  });

  it('should leave files pending when the run stops before they start', async () => {
    const d = deps(['A'], () => new Promise((r) => setTimeout(() => r({ sha256: 'h', verified: true }), 30)));
    d.fleet = new Fleet(['A'], { perTarget: 1, concurrency: 1, downAfter: 3, probeMs: 60_000, probe: async () => false });
    setTimeout(() => d.fleet.stop(), 10);
    const results = await run(['a', 'b', 'c'].map((p) => ({ file: file(p), target: 'A' })), d);
    expect(results.map((r) => `${r.file.path}:${r.status}`).sort()).to.deep.equal(['a:uploaded', 'b:pending', 'c:pending']);
  });
});
