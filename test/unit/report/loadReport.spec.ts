import { expect } from 'chai';
import { ConfigError } from '../../../src/errors.js';
import { loadReportData } from '../../../src/report/loadReport.js';
import type { FileStatus, Store } from '../../../src/store/types.js';
import { batch, row } from './fixtures.js';

/** Only what loadReportData reads; anything else it touched would throw. */
function fakeStore(calls: unknown[][] = []): Store {
  const b = batch();
  return {
    getBatch: async (id: string) => (id === b.id ? b : undefined),
    listFiles: async (batchId: string, opts?: { status?: FileStatus; limit?: number }) => {
      calls.push([batchId, opts]);
      return [row('a', 'http://a:1', 0, 1)];
    },
    listAttempts: async (batchId: string) => [{ batchId, filePath: 'a', target: 'http://a:1', attempt: 1, startedAt: 0, finishedAt: 1, outcome: 'uploaded', error: null }],
    listTargetEvents: async (batchId: string) => [{ batchId, target: 'http://a:1', state: 'down', at: 0 }],
  } as unknown as Store;
}

describe('loadReportData', () => {
  it('should read the batch, all its file rows, its attempts and its targets\' down and up', async () => {
    const calls: unknown[][] = [];
    const before = Date.now();
    const d = await loadReportData(fakeStore(calls), 'b-report');
    expect(d.batch.id).to.equal('b-report');
    expect(d.files.map((f) => f.filePath)).to.deep.equal(['a']);
    expect(calls).to.deep.equal([['b-report', undefined]]);
    expect(d.attempts?.map((a) => [a.filePath, a.target, a.outcome])).to.deep.equal([['a', 'http://a:1', 'uploaded']]);
    expect(d.targetEvents?.map((e) => [e.target, e.state])).to.deep.equal([['http://a:1', 'down']]);
    expect(d.workers, 'no worker made a try: none looked up').to.deep.equal([]);
    expect(d.generatedAt).to.be.at.least(before);
  });

  it('should throw a ConfigError naming an unknown batch', async () => {
    const err = await loadReportData(fakeStore(), 'nope').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.equal('unknown batch "nope"');
  });
});
