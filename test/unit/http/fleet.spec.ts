import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { UploadError } from '../../../src/errors.js';
import { Fleet, FleetStoppedError, type Lease } from '../../../src/http/fleet.js';
import { fixedLimit } from '../../../src/http/limits/limit.js';
import { createLogger, type Logger } from '../../../src/logger.js';

const opts = { perTarget: 2, concurrency: 10, downAfter: 2, probeMs: 10_000, probe: async () => false };
const tick = () => new Promise((r) => setImmediate(r));

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function capturedLogger(): { logger: Logger; events: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => lines.push(...c.toString('utf8').split('\n').filter(Boolean)));
  return { logger: createLogger({ level: 'debug', stream }), events: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('Fleet', () => {
  it('should hold a file for a full target in the queue without taking a slot elsewhere', async () => {
    const fleet = new Fleet(['A', 'B'], opts);
    const a1 = await fleet.acquire('A');
    await fleet.acquire('A');
    let waitingForA: Lease | undefined;
    void fleet.acquire('A').then((l) => (waitingForA = l));
    // B is untouched by the file waiting for A
    const b = await fleet.acquire('B');
    expect(b.target).to.equal('B');
    expect(fleet.snapshot().find((s) => s.target === 'B')?.inFlight).to.equal(1);
    await tick();
    expect(waitingForA).to.equal(undefined);
    a1.release();
    await tick();
    expect(waitingForA?.target).to.equal('A');
  });

  it('should give an open (least-loaded) request the target with the most free slots', async () => {
    const fleet = new Fleet(['A', 'B', 'C'], { ...opts, perTarget: 4 });
    await fleet.acquire('A');
    await fleet.acquire('A');
    await fleet.acquire('B');
    expect((await fleet.acquire(null)).target).to.equal('C');
  });

  it('should serve a later waiter when an earlier one cannot be served yet', async () => {
    const fleet = new Fleet(['A', 'B'], { ...opts, perTarget: 1 });
    const a = await fleet.acquire('A');
    const b = await fleet.acquire('B');
    const order: string[] = [];
    void fleet.acquire('A').then((l) => order.push(`A:${l.target}`));
    void fleet.acquire('B').then((l) => order.push(`B:${l.target}`));
    b.release();
    await tick();
    expect(order).to.deep.equal(['B:B']);
    a.release();
    await tick();
    expect(order).to.deep.equal(['B:B', 'A:A']);
  });

  it('should keep the overall limit', async () => {
    const fleet = new Fleet(['A', 'B'], { ...opts, perTarget: 4, concurrency: 3 });
    await Promise.all([fleet.acquire(null), fleet.acquire(null), fleet.acquire(null)]);
    let fourth = false;
    void fleet.acquire(null).then(() => (fourth = true));
    await tick();
    expect(fourth).to.equal(false);
  });

  describe('with files of known size and measured targets (size-aware least-loaded)', () => {
    // FAST takes 4 at once, 10 ms a small file and 50 ms a MiB; SLOW takes 1, 40 ms and 2 s
    const MiB = 1 << 20;
    const measured = async () => {
      let now = 0;
      const fleet = new Fleet(['SLOW', 'FAST'], { ...opts, perTarget: 4, limit: (t) => fixedLimit(t === 'SLOW' ? 1 : 4), now: () => now });
      const sample = async (target: string, bytes: number, ms: number) => {
        const l = await fleet.acquire(target, new Set(), bytes);
        now += ms;
        l.release({ bytes, dropped: false });
      };
      await sample('FAST', 4096, 10);
      await sample('FAST', MiB, 50);
      await sample('SLOW', 4096, 40);
      await sample('SLOW', MiB, 2000);
      return { fleet, at: (ms: number) => (now += ms) };
    };

    it('should keep a big file waiting for the fast target about to be idle rather than give it to the free slow one', async () => {
      const { fleet, at } = await measured();
      const busy = await Promise.all([1, 2, 3, 4].map(() => fleet.acquire('FAST', new Set(), MiB)));
      at(45); // the fast uploads are 5 ms from their end
      let got: Lease | undefined;
      void fleet.acquire(null, new Set(), MiB).then((l) => (got = l));
      await tick();
      expect(got, 'not sent to the free slow target').to.equal(undefined);
      expect(fleet.snapshot().find((s) => s.target === 'SLOW')?.inFlight).to.equal(0);
      busy[0].release({ bytes: MiB, dropped: false });
      await tick();
      expect(got?.target).to.equal('FAST');
      // a small file, unmeasured size or not, takes the free slow target when the fast one is full
      expect((await fleet.acquire(null)).target).to.equal('SLOW');
    });

    it('should spread files over targets measured about alike, not pile them onto the one whose estimate is a little lower', async () => {
      let now = 0;
      const fleet = new Fleet(['A', 'B', 'C'], { ...opts, perTarget: 4, concurrency: 12, limit: () => fixedLimit(4), now: () => now });
      for (const [t, ms] of [['A', 50], ['B', 55], ['C', 60]] as const) {
        for (const bytes of [4096, MiB]) {
          const l = await fleet.acquire(t, new Set(), bytes);
          now += bytes === MiB ? ms : ms / 5;
          l.release({ bytes, dropped: false });
        }
      }
      const leases = await Promise.all(Array.from({ length: 6 }, () => fleet.acquire(null, new Set(), MiB)));
      const per = (t: string) => leases.filter((l) => l.target === t).length;
      expect([per('A'), per('B'), per('C')]).to.deep.equal([2, 2, 2]);
      fleet.close();
    });

    it('should never keep a file waiting on a target that goes down', async () => {
      const { fleet, at } = await measured();
      await Promise.all([1, 2, 3, 4].map(() => fleet.acquire('FAST', new Set(), MiB)));
      at(45);
      const waiting = fleet.acquire(null, new Set(), MiB);
      await tick();
      fleet.reportFailure('FAST', true);
      fleet.reportFailure('FAST', true);
      expect((await waiting).target).to.equal('SLOW');
      fleet.close();
    });
  });

  it('should mark a target down after consecutive host faults and send its waiters elsewhere', async () => {
    const fleet = new Fleet(['A', 'B'], { ...opts, perTarget: 1 });
    const a = await fleet.acquire('A');
    const waiting = fleet.acquire('A');
    fleet.reportFailure('A', true);
    expect(fleet.isUp('A')).to.equal(true);
    fleet.reportFailure('A', true);
    expect(fleet.isUp('A')).to.equal(false);
    expect((await waiting).target).to.equal('B');
    a.release();
    fleet.close();
  });

  it('should not count a file problem against the host', () => {
    const fleet = new Fleet(['A'], opts);
    for (let i = 0; i < 5; i++) fleet.reportFailure('A', false);
    expect(fleet.isUp('A')).to.equal(true);
  });

  it('should hold requests while no target is up and serve them from the first target whose probe answers', async () => {
    const answering = new Set<string>();
    const probed: string[] = [];
    const fleet = new Fleet(['A', 'B'], { ...opts, downAfter: 1, probeMs: 5, probe: async (t) => (probed.push(t), answering.has(t)) });
    fleet.reportFailure('A', true);
    fleet.reportFailure('B', true);
    let granted: Lease | undefined;
    let err: unknown;
    // a file that exhausted A before the outage is not held to it: the hosts failed, not the file
    fleet.acquire(null, new Set(['A'])).then((l) => (granted = l), (e) => (err = e));
    await until(() => probed.includes('A') && probed.includes('B'));
    expect(granted, 'nothing granted while every target is down').to.equal(undefined);
    expect(err).to.equal(undefined);
    answering.add('A');
    await until(() => granted !== undefined || err !== undefined);
    expect(err).to.equal(undefined);
    expect(granted?.target).to.equal('A');
    expect(fleet.isUp('B')).to.equal(false);
    fleet.close();
  });

  it('should still fail a request that has tried every target that is up', async () => {
    const fleet = new Fleet(['A', 'B'], { ...opts, downAfter: 1 });
    fleet.reportFailure('B', true);
    let err: unknown;
    await fleet.acquire(null, new Set(['A'])).catch((e) => (err = e));
    expect(err).to.be.instanceOf(UploadError).and.not.instanceOf(FleetStoppedError);
    expect((err as Error).message).to.equal('no healthy target left to try');
    fleet.close();
  });

  it('should give up after maxWaitMs with nothing up: waiters end stopped, the reason told once, no timer left', async () => {
    const reasons: string[] = [];
    let probes = 0;
    const fleet = new Fleet(['A'], { ...opts, downAfter: 1, probeMs: 5, maxWaitMs: 40, probe: async () => (probes++, false), onGiveUp: (r) => reasons.push(r) });
    fleet.reportFailure('A', true);
    let err: unknown;
    await fleet.acquire('A').catch((e) => (err = e));
    expect(err).to.be.instanceOf(FleetStoppedError);
    expect(reasons).to.deep.equal(['no target answered for 40 ms']);
    expect(probes, 'probed while waiting').to.be.above(0);
    const seen = probes;
    await new Promise((r) => setTimeout(r, 60));
    expect(probes, 'probing stopped').to.equal(seen);
    expect(reasons, 'given up once').to.have.length(1);
    await fleet.acquire(null).catch((e) => (err = e));
    expect(err).to.be.instanceOf(FleetStoppedError);
  });

  it('should stop the clock of an outage once a target answers', async () => {
    let answers = false;
    const reasons: string[] = [];
    const fleet = new Fleet(['A'], { ...opts, downAfter: 1, probeMs: 5, maxWaitMs: 40, probe: async () => answers, onGiveUp: (r) => reasons.push(r) });
    fleet.reportFailure('A', true);
    answers = true;
    await until(() => fleet.isUp('A'));
    await new Promise((r) => setTimeout(r, 100));
    expect(reasons).to.deep.equal([]);
    expect((await fleet.acquire('A')).target).to.equal('A');
    fleet.close();
  });

  it('should take a target that refused our credentials out of the run: logged once, never probed, its waiters sent elsewhere', async () => {
    const { logger, events } = capturedLogger();
    const probed: string[] = [];
    const fleet = new Fleet(['A', 'B'], { ...opts, perTarget: 1, probeMs: 5, logger, batchId: 'b1', probe: async (t) => (probed.push(t), true) });
    const a = await fleet.acquire('A');
    const waiting = fleet.acquire('A');
    fleet.reportRefused('A', 401);
    fleet.reportRefused('A', 401);
    expect(fleet.isUp('A')).to.equal(false);
    expect((await waiting).target).to.equal('B');
    a.release();
    await new Promise((r) => setTimeout(r, 30));
    expect(probed, 'a refusing target is not probed back').to.deep.equal([]);
    const refused = events().filter((e) => e.event === 'target_refused');
    expect(refused).to.have.length(1);
    expect(refused[0]).to.include({ level: 'error', target: 'A', status: 401, batchId: 'b1' });
    expect(String(refused[0].message) + String(refused[0].hint)).to.contain('--token');
    fleet.close();
  });

  it('should give up at once when every target has refused our credentials', async () => {
    const reasons: string[] = [];
    const fleet = new Fleet(['A', 'B'], { ...opts, perTarget: 1, downAfter: 1, probeMs: 5, onGiveUp: (r) => reasons.push(r) });
    fleet.reportFailure('B', true); // down, and then refusing: it is out for good too
    const a = await fleet.acquire(null);
    const waiting = fleet.acquire(null).catch((e) => e);
    fleet.reportRefused('A', 403);
    a.release();
    await tick();
    expect(reasons, 'B may still come back').to.deep.equal([]);
    fleet.reportRefused('B', 401);
    expect(await waiting).to.be.instanceOf(FleetStoppedError);
    expect(reasons).to.deep.equal(['every target refused our credentials (HTTP 401): check --token']);
  });

  it('should bring a target back when its probe answers', async () => {
    let answers = false;
    const fleet = new Fleet(['A', 'B'], { ...opts, probeMs: 5, probe: async () => answers });
    fleet.reportFailure('A', true);
    fleet.reportFailure('A', true);
    expect(fleet.isUp('A')).to.equal(false);
    answers = true;
    await new Promise((r) => setTimeout(r, 30));
    expect(fleet.isUp('A')).to.equal(true);
    fleet.close();
  });

  it('should reject waiters once stopped, and refuse new requests', async () => {
    const fleet = new Fleet(['A'], { ...opts, perTarget: 1 });
    await fleet.acquire('A');
    const waiting = fleet.acquire('A');
    fleet.stop();
    let err: unknown;
    await waiting.catch((e) => (err = e));
    expect(err).to.be.instanceOf(FleetStoppedError);
    err = undefined;
    await fleet.acquire('A').catch((e) => (err = e));
    expect(err).to.be.instanceOf(FleetStoppedError);
  });
});
