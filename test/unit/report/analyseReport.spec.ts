import { expect } from 'chai';
import { analyseReport } from '../../../src/report/analyseReport.js';
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
});
