import { expect } from 'chai';
import { packLanes, peakOverlap, unionLength } from '../../../src/report/intervals.js';

const iv = (...pairs: [number, number][]) => pairs.map(([start, end]) => ({ start, end }));

describe('unionLength', () => {
  it('should count overlapping time once and touching intervals end to end', () => {
    expect(unionLength(iv([0, 10], [5, 15], [15, 20], [30, 31]))).to.equal(21);
  });

  it('should not depend on the order and swallow intervals inside others', () => {
    expect(unionLength(iv([30, 40], [0, 100], [10, 20]))).to.equal(100);
    expect(unionLength([])).to.equal(0);
  });
});

describe('packLanes', () => {
  it('should put uploads that overlap on different sub-lanes and reuse a lane once it is free', () => {
    expect(packLanes(iv([0, 10], [5, 15], [10, 20], [16, 30]))).to.deep.equal({ lanes: [0, 1, 0, 1], count: 2 });
  });

  it('should use as many sub-lanes as the most uploads in flight at once', () => {
    const starts = Array.from({ length: 50 }, (_, i) => i * 10);
    const intervals = starts.map((s) => ({ start: s, end: s + 35 })); // 4 in flight at once
    const { lanes, count } = packLanes(intervals);
    expect(count).to.equal(4);
    for (let i = 0; i < intervals.length; i++) {
      for (let j = i + 1; j < intervals.length && intervals[j].start < intervals[i].end; j++) expect(lanes[j]).to.not.equal(lanes[i]);
    }
  });

  it('should stop at maxLanes and put the rest on the lane that frees first', () => {
    const { lanes, count } = packLanes(iv([0, 100], [1, 50], [2, 100], [3, 60]), 2);
    expect(count).to.equal(2);
    expect(lanes).to.deep.equal([0, 1, 1, 0]);
  });
});

describe('peakOverlap', () => {
  it('should give the most intervals in flight at one instant', () => {
    expect(peakOverlap(iv([0, 10], [5, 15], [6, 7], [20, 30]))).to.equal(3);
  });

  it('should not count an interval that ends as the next starts', () => {
    expect(peakOverlap(iv([0, 10], [10, 20], [20, 30]))).to.equal(1);
    expect(peakOverlap([])).to.equal(0);
    expect(peakOverlap(iv([5, 5]))).to.equal(1);
  });
});
