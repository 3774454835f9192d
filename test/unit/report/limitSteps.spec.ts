import { expect } from 'chai';
import { limitSteps } from '../../../src/report/limitSteps.js';

describe('limitSteps', () => {
  it('should hold each try\'s limit until the next try\'s start, merge equal neighbours, and end with the last try', () => {
    const tries = [
      { start: 20, end: 28, limit: 2 },
      { start: 0, end: 5, limit: 1 },
      { start: 10, end: 45, limit: 2 },
      { start: 30, end: 40, limit: 1 },
    ];
    expect(limitSteps(tries)).to.deep.equal([{ start: 0, end: 10, limit: 1 }, { start: 10, end: 30, limit: 2 }, { start: 30, end: 45, limit: 1 }]);
  });

  it('should give a fixed limit as one flat step over every try', () => {
    const tries = Array.from({ length: 50 }, (_, i) => ({ start: i * 10, end: i * 10 + 25, limit: 4 }));
    expect(limitSteps(tries)).to.deep.equal([{ start: 0, end: 515, limit: 4 }]);
  });

  it('should skip tries recorded before limits were kept, and give none when no try has one', () => {
    expect(limitSteps([{ start: 0, end: 5, limit: null }, { start: 5, end: 9, limit: 3 }, { start: 9, end: 12, limit: undefined }])).to.deep.equal([{ start: 5, end: 9, limit: 3 }]);
    expect(limitSteps([{ start: 0, end: 5, limit: null }])).to.deep.equal([]);
  });
});
