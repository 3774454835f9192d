import { expect } from 'chai';
import { AllTargetsDownError } from '../../../src/errors.js';
import { Fleet, FleetStoppedError, type Lease } from '../../../src/http/fleet.js';

const opts = { perTarget: 2, concurrency: 10, downAfter: 2, probeMs: 10_000, probe: async () => false };
const tick = () => new Promise((r) => setImmediate(r));

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

  it('should fail fast when every target is down', async () => {
    const fleet = new Fleet(['A'], opts);
    fleet.reportFailure('A', true);
    fleet.reportFailure('A', true);
    let err: unknown;
    await fleet.acquire(null).catch((e) => (err = e));
    expect(err).to.be.instanceOf(AllTargetsDownError);
    fleet.close();
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
