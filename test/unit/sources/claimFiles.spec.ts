import { expect } from 'chai';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Subject, lastValueFrom, tap, toArray } from 'rxjs';
import { claimFiles } from '../../../src/sources/claimFiles.js';
import type { ClaimedRow } from '../../../src/store/claimQueries.js';

/** a queue of `n` pending rows over real files, claimed in order; records each claim's limit */
async function queue(n: number) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'fanout-claim-'));
  for (let i = 0; i < n; i++) await writeFile(path.join(root, `f${i}`), 'x');
  let next = 0;
  const limits: number[] = [];
  const claim = async (limit: number): Promise<ClaimedRow[]> => {
    limits.push(limit);
    const rows = Array.from({ length: Math.min(limit, n - next) }, (_, k) => next + k).map((i) => ({
      id: i, filePath: `f${i}`, fileName: `f${i}`, target: null, sizeBytes: 1, mtimeMs: 0, token: 1,
    }));
    next += rows.length;
    return rows;
  };
  return { root, claim, limits, remaining: async () => n - next };
}

describe('claimFiles', () => {
  it('should keep at most the window out, and ask a window given as a function before each claim', async () => {
    const q = await queue(40);
    const credits = new Subject<number>();
    let window = 4;
    let out = 0;
    let most = 0;
    const seen = await lastValueFrom(
      claimFiles({ root: q.root, claim: q.claim, remaining: q.remaining, window: () => window }, credits).pipe(
        tap(() => {
          out++;
          most = Math.max(most, out);
          if (out === 4) window = 12; // the pace picked up: a wider window from the next claim on
          setImmediate(() => {
            out--;
            credits.next(1);
          });
        }),
        toArray(),
      ),
    );
    expect(seen.map((a) => a.file.path)).to.deep.equal(Array.from({ length: 40 }, (_, i) => `f${i}`));
    expect(q.limits[0]).to.equal(2); // a quarter of 4, at least 2
    expect(Math.max(...q.limits)).to.equal(3); // a quarter of 12
    expect(most).to.be.at.most(12);
    expect(most).to.be.above(4);
  });
});
