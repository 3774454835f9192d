import { expect } from 'chai';
import { BufferPool } from '../../../src/http/bufferPool.js';

describe('BufferPool', () => {
  it('should hand out a power-of-two buffer at least as large as asked', () => {
    const pool = new BufferPool();
    expect(pool.take(5000).length).to.equal(8192);
    expect(pool.take(10).length).to.equal(4096);
    expect(pool.take(65_537).length).to.equal(131_072);
  });

  it('should reuse a buffer that was given back, in its size class only', () => {
    const pool = new BufferPool();
    const a = pool.take(5000);
    pool.give(a);
    expect(pool.take(6000)).to.equal(a);
    pool.give(a);
    expect(pool.take(100)).to.not.equal(a);
  });

  it('should keep at most perClass idle buffers', () => {
    const pool = new BufferPool(1);
    const a = pool.take(100);
    const b = pool.take(100);
    pool.give(a);
    pool.give(b);
    expect(pool.take(100)).to.equal(a);
    expect(pool.take(100)).to.not.equal(b);
  });
});
