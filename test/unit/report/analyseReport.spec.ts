import { expect } from 'chai';
import { analyseReport } from '../../../src/report/analyseReport.js';
import type { AttemptRow } from '../../../src/store/types.js';
import { T0, data, row } from './fixtures.js';

describe('analyseReport', () => {
  const files = [
    row('a1', 'http://a:1', 0, 1000),
    row('a2', 'http://a:1', 500, 1500),
    row('a3', 'http://a:1', 3000, 3500, { status: 'failed', error: 'boom', attempts: 4 }),
    row('b1', 'http://b:1', 0, 2000, { sizeBytes: 5 }),
    row('z1', 'http://extra:1', 9000, 12_000),
    row('p1', null, null, null, { status: 'pending' }),
    row('p2', 'http://b:1', null, null, { status: 'pending' }),
    row('f0', null, null, null, { status: 'failed', error: 'every target is down' }),
  ];

  it('should count rows by status, bytes of uploaded files only', () => {
    const m = analyseReport(data(files));
    expect(m.counts).to.deep.equal({ total: 8, uploaded: 4, failed: 2, pending: 2, bytes: 3005 });
  });

  it('should span from the batch start to the later of its end and the last upload', () => {
    const m = analyseReport(data(files));
    expect([m.t0, m.t1, m.spanMs]).to.deep.equal([T0, T0 + 12_000, 12_000]);
    expect(analyseReport(data([], { finishedAt: null })).spanMs).to.equal(0);
  });

  it('should list the batch targets in order, then targets only the rows name', () => {
    const m = analyseReport(data(files));
    expect(m.targets.map((t) => t.target)).to.deep.equal(['http://a:1', 'http://b:1', 'http://extra:1']);
    expect(m.timed).to.equal(5);
  });

  it('should give busy time as the union of uploads, utilisation over the span, mean and peak', () => {
    const [a, b] = analyseReport(data(files)).targets;
    expect(a).to.include({ files: 3, uploaded: 2, failed: 1, pending: 0, bytes: 2000, busyMs: 2000, meanUploadMs: 1000, peak: 2, sublanes: 2 });
    expect(a.utilisation).to.be.closeTo(2000 / 12_000, 1e-9);
    expect(a.uploads.map((u) => [u.row.filePath, u.sublane, u.failed])).to.deep.equal([['a1', 0, false], ['a2', 1, false], ['a3', 0, true]]);
    expect(b).to.include({ files: 2, uploaded: 1, pending: 1, bytes: 5, busyMs: 2000, peak: 1, sublanes: 1 });
  });

  it('should bucket finished uploads over time, failed apart', () => {
    const { stepMs, buckets } = analyseReport(data(files)).throughput;
    expect(stepMs).to.equal(100);
    expect(buckets).to.have.length(120);
    expect(buckets.reduce((n, b) => n + b.uploaded, 0)).to.equal(4);
    expect(buckets.reduce((n, b) => n + b.failed, 0)).to.equal(1);
    expect(buckets[10]).to.deep.equal({ offsetMs: 1000, uploaded: 1, failed: 0, bytes: 1000 });
    expect(buckets[119].uploaded).to.equal(1); // the upload that ends on the right edge
  });

  it('should list every failed row by path, with or without a target', () => {
    expect(analyseReport(data(files)).failures.map((r) => r.filePath)).to.deep.equal(['a3', 'f0']);
  });

  describe('several workers, adaptive limits', () => {
    const tries: AttemptRow[] = [
      // f1 claimed by w1, which died; w2 re-claimed it and stored it
      { batchId: 'b-report', filePath: 'f1', target: 'http://a:1', attempt: 1, startedAt: T0, finishedAt: T0 + 100, outcome: 'retried', error: 'HTTP 503', workerId: 'w1', targetLimit: 1 },
      { batchId: 'b-report', filePath: 'f1', target: 'http://a:1', attempt: 1, startedAt: T0 + 500, finishedAt: T0 + 600, outcome: 'uploaded', error: null, workerId: 'w2', targetLimit: 2 },
      { batchId: 'b-report', filePath: 'f2', target: 'http://a:1', attempt: 1, startedAt: T0 + 100, finishedAt: T0 + 400, outcome: 'uploaded', error: null, workerId: 'w1', targetLimit: 2 },
      { batchId: 'b-report', filePath: 'f3', target: 'http://b:1', attempt: 1, startedAt: T0 + 50, finishedAt: T0 + 80, outcome: 'uploaded', error: null, workerId: 'w2', targetLimit: 3 },
    ];
    const rows = [row('f1', 'http://a:1', 0, 600, { attempts: 2 }), row('f2', 'http://a:1', 100, 400), row('f3', 'http://b:1', 50, 80)];
    const workers = [
      { id: 'w2', host: 'gpu-box-2', pid: 202, startedAt: T0 + 1, heartbeatAt: T0, stoppedAt: null },
      { id: 'w1', host: 'gpu-box-1', pid: 101, startedAt: T0, heartbeatAt: T0, stoppedAt: T0 + 200 },
    ];

    it('should colour each try by the worker that made it, a re-claimed file\'s tries by both', () => {
      const m = analyseReport({ ...data(rows), attempts: tries, workers });
      expect(m.senders.map((s) => [s.id, s.label, s.uploads])).to.deep.equal([['w1', 'gpu-box-1 · pid 101', 2], ['w2', 'gpu-box-2 · pid 202', 2]]);
      const [a, b] = m.targets;
      expect(a.uploads.map((u) => [u.row.filePath, m.senders[u.sender!].id])).to.deep.equal([['f1', 'w1'], ['f2', 'w1'], ['f1', 'w2']]);
      expect(b.uploads.map((u) => u.sender)).to.deep.equal([1]);
    });

    it('should leave a one-sender batch uncoloured', () => {
      const m = analyseReport({ ...data(rows), attempts: tries.map((t) => ({ ...t, workerId: null })), workers });
      expect(m.senders).to.deep.equal([]);
      expect(m.targets.flatMap((t) => t.uploads).every((u) => u.sender === undefined)).to.equal(true);
      expect(analyseReport(data(files)).senders).to.deep.equal([]);
    });

    it('should give each target its limit over time from its tries, none where no try recorded one', () => {
      const m = analyseReport({ ...data(rows), attempts: tries, workers });
      expect(m.targets.map((t) => t.limits)).to.deep.equal([
        [{ start: T0, end: T0 + 100, limit: 1 }, { start: T0 + 100, end: T0 + 600, limit: 2 }],
        [{ start: T0 + 50, end: T0 + 80, limit: 3 }],
      ]);
      expect(analyseReport(data(files)).targets.every((t) => t.limits.length === 0)).to.equal(true);
    });
  });
});
