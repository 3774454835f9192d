import { expect } from 'chai';
import { SENDER_COLOURS, sendersOf } from '../../../src/report/senders.js';
import type { AttemptRow } from '../../../src/store/types.js';
import type { WorkerRow } from '../../../src/store/workerQueries.js';

const attempt = (workerId: string | null | undefined): AttemptRow => ({
  batchId: 'b', filePath: 'f', target: 't', attempt: 1, startedAt: 0, finishedAt: 1, outcome: 'uploaded', error: null, workerId,
});
const worker = (id: string, host: string, pid: number, startedAt: number): WorkerRow => ({ id, host, pid, startedAt, heartbeatAt: startedAt, stoppedAt: null });

describe('sendersOf', () => {
  it('should give no senders when one process sent every try, so the page looks as for a single machine', () => {
    expect(sendersOf([attempt(null), attempt(undefined), undefined]).senders).to.deep.equal([]);
    expect(sendersOf([attempt('w1'), attempt('w1')], [worker('w1', 'h', 1, 0)]).senders).to.deep.equal([]);
  });

  it('should list workers in start order with host and pid, ids without a row after, no-worker tries last', () => {
    const tries = [attempt('late'), attempt('early'), attempt('late'), attempt('ghost'), attempt(null), undefined];
    const { senders, of } = sendersOf(tries, [worker('late', 'gpu-b', 22, 200), worker('early', 'gpu-a', 11, 100), worker('unused', 'x', 9, 0)]);
    expect(senders.map((s) => [s.id, s.label, s.uploads, s.colour])).to.deep.equal([
      ['early', 'gpu-a · pid 11', 1, 0],
      ['late', 'gpu-b · pid 22', 2, 1],
      ['ghost', 'ghost', 1, 2],
      [null, 'fanout upload (no worker)', 2, 3],
    ]);
    expect(tries.map(of)).to.deep.equal([1, 0, 1, 2, 3, 3]);
  });

  it('should repeat colours past the palette, never run out', () => {
    const ids = Array.from({ length: SENDER_COLOURS.length + 2 }, (_, i) => `w${String(i).padStart(2, '0')}`);
    const { senders } = sendersOf(ids.map(attempt));
    expect(senders.map((s) => s.colour)).to.deep.equal([...SENDER_COLOURS.keys(), 0, 1]);
  });
});
