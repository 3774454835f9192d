import { expect } from 'chai';
import { barCells, formatEta, formatOverall, formatTarget, formatTotal } from '../../../src/progress/formatProgress.js';
import type { ProgressView } from '../../../src/progress/progressTracker.js';

const view = (over: Partial<ProgressView> = {}): ProgressView => ({
  batchId: 'b', done: 412, total: 1000, totalExact: false, uploaded: 410, failed: 2, skipped: 0, bytes: 6_600_000,
  filesPerSec: 205, bytesPerSec: 3_400_000, etaSec: null, elapsedMs: 2000, targets: [], ...over,
});

describe('formatProgress', () => {
  it('should show a total still being counted as a lower bound', () => {
    expect(formatTotal({ total: 412, totalExact: false })).to.equal('≥412');
    expect(formatTotal({ total: 1000, totalExact: true })).to.equal('1000');
  });

  it('should format an ETA in seconds, minutes or hours, and ? when unknown', () => {
    expect(formatEta(null)).to.equal('?');
    expect(formatEta(Infinity)).to.equal('?');
    expect(formatEta(3.4)).to.equal('3s');
    expect(formatEta(65)).to.equal('1m 05s');
    expect(formatEta(7380)).to.equal('2h 03m');
  });

  it('should fill a bar in proportion, within bounds', () => {
    expect(barCells(0.5, 10)).to.equal('█████░░░░░');
    expect(barCells(2, 4)).to.equal('████');
    expect(barCells(-1, 4)).to.equal('░░░░');
  });

  it('should put files done/total, bytes, rates, ETA and failures on the overall line, within the width', () => {
    const line = formatOverall(view({ totalExact: true, etaSec: 3 }), 100);
    expect(line).to.match(/^files \[█+░+\] +412\/1000 +6\.6 MB +205 files\/s +3\.4 MB\/s +ETA 3s +failed 2$/);
    expect(line.length).to.be.at.most(99);
    expect(formatOverall(view(), 80)).to.include('412/≥1000').and.include('ETA ?');
  });

  it('should keep the line as wide from frame to frame, and fill the bar only against a known total', () => {
    const a = formatOverall(view({ done: 5, total: 1000, totalExact: true, bytes: 1000, filesPerSec: 3, bytesPerSec: 0, etaSec: 400 }), 100);
    const b = formatOverall(view({ done: 999, total: 1000, totalExact: true, bytes: 999_000_000, filesPerSec: 205, bytesPerSec: 30e6, etaSec: 1 }), 100);
    expect(a.length).to.equal(b.length);
    expect(formatOverall(view({ done: 412, total: 412, totalExact: false }))).to.match(/^files \[░+\]/);
  });

  it('should show a target as up or DOWN with its in-flight, done and failed counts', () => {
    const t = { target: 'http://h:1', up: true, inFlight: 2, uploaded: 200, failed: 1, bytes: 3_300_000 };
    expect(formatTarget(t, 12)).to.equal('  http://h:1    up    in flight  2  done   200  failed   1  3.3 MB');
    expect(formatTarget({ ...t, up: false })).to.include('DOWN');
  });

  it('should show a target\'s limit beside its in flight, and its throughput and latency once measured', () => {
    const t = { target: 'http://h:1', up: true, inFlight: 3, limit: 6, uploaded: 200, failed: 0, bytes: 3_300_000, bytesPerSec: 12_500_000, latencyMs: 41.6 };
    expect(formatTarget(t, 12)).to.equal('  http://h:1    up    in flight  3/6   done   200  failed   0  3.3 MB  12.5 MB/s   42 ms');
    const fresh = formatTarget({ ...t, bytesPerSec: undefined, latencyMs: undefined }, 12);
    expect(fresh).to.equal('  http://h:1    up    in flight  3/6   done   200  failed   0  3.3 MB     - MB/s    - ms');
    expect(fresh.length, 'as wide before the first sample as after').to.equal(formatTarget(t, 12).length);
  });
});
