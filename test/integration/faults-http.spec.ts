import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { getGlobalDispatcher, MockAgent, setGlobalDispatcher, type Dispatcher } from 'undici';
import { normaliseUploadConfig, type RawUploadArgs } from '../../src/config.js';
import { wirePath } from '../../src/http/uploader.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { runBatch } from '../../src/runBatch.js';
import { createStore } from '../../src/store/createStore.js';
import type { FileRow, Store } from '../../src/store/types.js';
import type { Summary } from '../../src/types.js';
import { forEachDatabase } from '../helpers/db.js';
import { assertInvariants } from '../helpers/invariants.js';
import { readTree, startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { makeTree, sha256, type Tree } from '../helpers/tree.js';
import { startEarlyAnswerServer, startEndlessErrorServer, startStaleKeepAliveProxy, type WireServer } from '../helpers/wireServers.js';

const A = 'http://a.fanout.test';
const B = 'http://b.fanout.test';

/** One PUT the mock saw: when (epoch ms), where, for which file, and what it answered. */
interface Seen {
  at: number;
  origin: string;
  file: string;
  status: number;
}

type Answer = { statusCode: number; data?: string; responseOptions?: { headers?: Record<string, string> } };

/** The relative path a wire path names. */
const fileOf = (wire: string) => wire.slice('/files/'.length).split('/').map(decodeURIComponent).join('/');

/** A logger whose JSON lines the test can read. */
function capturedLogger(): { logger: Logger; events: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => lines.push(...c.toString('utf8').split('\n').filter(Boolean)));
  return { logger: createLogger({ level: 'debug', stream }), events: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('HTTP faults through runBatch (undici MockAgent)', function () {
  this.timeout(10_000);
  let tree: Tree;
  let dbDir: string;
  let store: Store;
  let agent: MockAgent;
  let seen: Seen[];
  let previous: Dispatcher;

  /**
   * Every PUT to `origin` is answered by `answer(file, n)`, n counting that file's PUTs to
   * this origin from 1; a 2xx echoes the digest the client sent, as `fanout serve` does.
   */
  const serve = (origin: string, answer: (file: string, n: number) => Answer) => {
    const counts = new Map<string, number>();
    return agent
      .get(origin)
      .intercept({ path: (p) => p.startsWith('/files/'), method: 'PUT' })
      .reply((req) => {
        const file = fileOf(req.path);
        const n = (counts.get(file) ?? 0) + 1;
        counts.set(file, n);
        const a = answer(file, n);
        seen.push({ at: Date.now(), origin, file, status: a.statusCode });
        if (a.statusCode >= 200 && a.statusCode < 300) {
          const digest = (req.headers as Record<string, string>)['x-fanout-sha256'];
          return { ...a, responseOptions: { headers: { ...(digest ? { 'x-fanout-sha256': digest } : {}), ...a.responseOptions?.headers } } };
        }
        return a;
      })
      .persist();
  };
  const run = async (targets: string[], extra: Partial<RawUploadArgs> = {}, logger?: Logger) => {
    const config = await normaliseUploadConfig({ dir: tree.dir, target: targets, db: `sqlite:${dbDir}/unused.sqlite`, perTarget: 2, ...extra });
    const summary = await runBatch(config, { store, logger, dispatcherFor: (origin) => agent.get(origin) });
    return { summary, rows: await store.listFiles(config.batchId), batch: await store.getBatch(config.batchId) };
  };
  const putsFor = (file: string) => seen.filter((s) => s.file === file);

  before(async function () {
    this.timeout(30_000);
    tree = await makeTree(26, { sizes: [0, 100, 4096, 65_536] });
    dbDir = await mkdtemp(path.join(os.tmpdir(), 'fanout-faults-db-'));
    store = await createStore(`sqlite:${path.join(dbDir, 'fanout.sqlite')}`);
    await store.migrate();
  });
  after(async () => {
    await store?.close();
    await rm(dbDir, { recursive: true, force: true });
    await rm(tree.dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    seen = [];
    agent = new MockAgent();
    agent.disableNetConnect();
    // the fleet's health probe goes through undici's global dispatcher: keep it on the mock too
    previous = getGlobalDispatcher();
    setGlobalDispatcher(agent);
  });
  afterEach(async () => {
    setGlobalDispatcher(previous);
    await agent.close();
  });

  it('should ride out a burst of 503s: every file uploaded, its attempts recorded', async () => {
    for (const origin of [A, B]) serve(origin, (_f, n) => (n <= 3 ? { statusCode: 503, data: 'busy' } : { statusCode: 201 }));
    // dozens of files in backoff at once each listen on the run's abort signal: no warning about it on stderr
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    let result;
    try {
      result = await run([A, B], { retries: 3, downAfter: 100 });
    } finally {
      process.off('warning', onWarning);
    }
    const { summary, rows, batch } = result;
    expect(warnings).to.not.include('MaxListenersExceededWarning');

    expect(summary).to.include({ status: 'completed', total: tree.files.size, uploaded: tree.files.size, failed: 0 });
    expect(batch?.status).to.equal('completed');
    expect(rows).to.have.length(tree.files.size);
    for (const r of rows) {
      expect(r, r.filePath).to.include({ status: 'uploaded', attempts: 4, verified: true, error: null });
      expect(r.sha256).to.equal(tree.files.get(r.filePath));
      expect(putsFor(r.filePath).map((s) => s.status), r.filePath).to.deep.equal([503, 503, 503, 201]);
    }
  });

  it("should honour a 429's Retry-After before trying again", async function () {
    serve(A, (_f, n) => (n === 1 ? { statusCode: 429, data: 'slow down', responseOptions: { headers: { 'retry-after': '1' } } } : { statusCode: 201 }));
    const { summary, rows } = await run([A], { retries: 3, downAfter: 100, perTarget: 4 });

    expect(summary).to.include({ status: 'completed', uploaded: tree.files.size });
    expect(rows.every((r) => r.status === 'uploaded' && r.attempts === 2)).to.equal(true);
    for (const file of tree.files.keys()) {
      const [first, second] = putsFor(file);
      expect(first.status).to.equal(429);
      expect(second.at - first.at, `${file} waited out Retry-After`).to.be.at.least(950);
    }
  });

  it('should retry after a connection reset and upload the file', async () => {
    const reset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    for (const file of tree.files.keys()) {
      agent.get(A).intercept({ path: (p) => p === wirePath('', file), method: 'PUT' }).replyWithError(reset());
    }
    serve(A, () => ({ statusCode: 201 }));
    const { summary, rows } = await run([A], { retries: 3, downAfter: 100 });

    expect(summary).to.include({ status: 'completed', uploaded: tree.files.size, failed: 0 });
    for (const r of rows) expect(r, r.filePath).to.include({ status: 'uploaded', attempts: 2, target: A, verified: true });
    expect(seen).to.have.length(tree.files.size); // the resets never reached the reply: one 201 each
  });

  // (401/403 say the token is refused, for every file: fleetHealth.spec covers those)
  it('should fail a permanent 4xx after one attempt, record why, and count it', async () => {
    const forbidden = (file: string) => file.startsWith('part_1/');
    for (const origin of [A, B]) serve(origin, (f) => (forbidden(f) ? { statusCode: 400, data: 'refused by policy' } : { statusCode: 201 }));
    const { summary, rows, batch } = await run([A, B], { retries: 3 });

    const expected = [...tree.files.keys()].filter(forbidden);
    expect(expected.length).to.be.above(2);
    const failed = rows.filter((r) => r.status === 'failed');
    expect(failed.map((r) => r.filePath).sort()).to.deep.equal(expected.sort());
    for (const r of failed) {
      expect(r.attempts, r.filePath).to.equal(1);
      expect(r.error, r.filePath).to.contain('HTTP 400').and.contain('refused by policy');
      expect(putsFor(r.filePath), r.filePath).to.have.length(1);
    }
    expect(summary.status).to.equal('completed_with_failures');
    expect(batch?.status).to.equal('completed_with_failures');
    expect(summary.failed).to.equal(failed.length);
    expect(summary.uploaded).to.equal(rows.filter((r) => r.status === 'uploaded').length);
    expect(summary.uploaded + summary.failed).to.equal(tree.files.size);
  });

  it("should not make a file wait out one target's Retry-After before failing over to another", async () => {
    serve(A, () => ({ statusCode: 429, data: 'slow down', responseOptions: { headers: { 'retry-after': '2' } } }));
    serve(B, () => ({ statusCode: 201 }));
    const { summary, rows } = await run([A, B], { retries: 1, downAfter: 100 });

    expect(summary).to.include({ status: 'completed', uploaded: tree.files.size, failed: 0 });
    const fromA = rows.filter((r) => putsFor(r.filePath)[0].origin === A);
    expect(fromA.length).to.be.at.least(tree.files.size / 2 - 1);
    for (const r of fromA) {
      const [first, second, third] = putsFor(r.filePath);
      expect([first.origin, second.origin, third.origin], r.filePath).to.deep.equal([A, A, B]);
      expect(second.at - first.at, `${r.filePath}: A's Retry-After honoured on A`).to.be.at.least(1950);
      expect(third.at - second.at, `${r.filePath}: straight on to B`).to.be.below(1000);
      expect(r).to.include({ target: B, attempts: 3 });
    }
  });

  it('should send nothing more to a target once a failure has marked it down', async () => {
    serve(A, () => ({ statusCode: 503, data: 'overloaded' }));
    serve(B, () => ({ statusCode: 201 }));
    // one slot each: files queue for A, and the failure that marks A down must not hand its slot to the next
    const { summary, rows } = await run([A, B], { retries: 3, downAfter: 1, perTarget: 1 });

    expect(summary).to.include({ status: 'completed', uploaded: tree.files.size });
    expect(seen.filter((s) => s.origin === A)).to.have.length(1);
    expect(rows.every((r) => r.target === B)).to.equal(true);
  });

  it('should not bring a target up after the run from a probe still out when it ended', async () => {
    serve(A, () => ({ statusCode: 503, data: 'overloaded' }));
    serve(B, () => ({ statusCode: 201 }));
    // A answers its probe, but only a second later: after the run is over
    agent.get(A).intercept({ path: '/', method: 'GET' }).reply(404, 'no such route').delay(1000).persist();
    const { logger, events } = capturedLogger();
    const { summary } = await run([A, B], { retries: 0, downAfter: 2, probeMs: 50 }, logger);
    await new Promise((resolve) => setTimeout(resolve, 1300));

    expect(summary).to.include({ status: 'completed', uploaded: tree.files.size });
    const log = events().map((e) => e.event);
    expect(log).to.include('target_down');
    expect(log.slice(log.indexOf('batch_complete') + 1), 'nothing after batch_complete').to.deep.equal([]);
  });

  it('should fail over off a target that keeps answering 503, mark it down, and bring it back when it recovers', async () => {
    let recovered = false;
    serve(A, () => (recovered ? { statusCode: 201 } : { statusCode: 503, data: 'overloaded' }));
    serve(B, () => ({ statusCode: 201 })).delay(40); // slow enough that the run outlasts A's recovery
    const { logger, events } = capturedLogger();
    const recover = setInterval(() => {
      if (recovered || !events().some((e) => e.event === 'target_down')) return;
      recovered = true;
      // the probe (GET / through the global dispatcher) now gets an answer: any answer means up
      agent.get(A).intercept({ path: '/', method: 'GET' }).reply(404, 'no such route').persist();
    }, 20);
    let result;
    try {
      result = await run([A, B], { retries: 3, downAfter: 2, probeMs: 50, perTarget: 1 }, logger);
    } finally {
      clearInterval(recover);
    }
    const { summary, rows } = result;

    expect(summary).to.include({ status: 'completed', uploaded: tree.files.size, failed: 0 });
    const log = events();
    const down = log.find((e) => e.event === 'target_down' && e.target === A);
    const up = log.find((e) => e.event === 'target_up' && e.target === A);
    expect(down, 'A marked down').to.not.equal(undefined);
    expect(up, 'A brought back by the probe').to.not.equal(undefined);
    const upAt = Date.parse(String(up?.timestamp));
    expect(upAt).to.be.at.least(Date.parse(String(down?.timestamp)));
    expect(log.some((e) => e.event === 'target_down' && e.target === B), 'B never down').to.equal(false);
    // each file was stored once, and its record names the target that stored it
    for (const r of rows) {
      const stored = putsFor(r.filePath).filter((s) => s.status === 201);
      expect(stored, r.filePath).to.have.length(1);
      expect(r.target, r.filePath).to.equal(stored[0].origin);
    }
    // the files that met A's 503s were retried and ended on B, or on A once it was back
    const hit503 = [...new Set(seen.filter((s) => s.status === 503).map((s) => s.file))];
    expect(hit503.length).to.be.at.least(2);
    for (const file of hit503) {
      const r = rows.find((x) => x.filePath === file) as FileRow;
      expect(r.attempts, file).to.be.at.least(2);
      if (r.target === A) expect(putsFor(file).find((s) => s.status === 201)?.at, file).to.be.at.least(upAt - 5);
      else expect(r.target, file).to.equal(B);
    }
    // nothing was stored on A while it was down, and it took files again once it was up
    expect(seen.filter((s) => s.origin === A && s.status === 201).every((s) => s.at >= upAt - 5)).to.equal(true);
    expect(rows.some((r) => r.target === A), 'A took files again after it came back').to.equal(true);
  });

  it('should hold the remaining files while every target is down, then stop after --max-wait-ms, leaving them pending', async () => {
    for (const origin of [A, B]) serve(origin, () => ({ statusCode: 503, data: 'down for maintenance' }));
    const { summary, rows, batch } = await run([A, B], { retries: 3, downAfter: 2, probeMs: 50, maxWaitMs: 500 });

    expect(summary).to.include({ status: 'failed', uploaded: 0, failed: 0, pending: tree.files.size, reason: 'no target answered for 500 ms' });
    expect(batch?.status).to.equal('failed');
    expect(rows.every((r) => r.status === 'pending')).to.equal(true);
    // held, not retried in a loop: far fewer PUTs than retrying every file on both targets would take
    expect(seen.length).to.be.below(tree.files.size);
  });
});

/** A node:http proxy in front of `upstream` that answers 503 to every third PUT (after reading it) and forwards the rest. */
async function startFlakyProxy(upstream: string): Promise<{ url: string; refused: () => number; close(): Promise<void> }> {
  const up = new URL(upstream);
  let puts = 0;
  let refused = 0;
  const server = http.createServer((req, res) => {
    if (req.method === 'PUT' && ++puts % 3 === 0) {
      refused++;
      req.resume();
      req.on('end', () => res.writeHead(503, { 'content-type': 'text/plain' }).end('busy, try later'));
      return;
    }
    const fwd = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    fwd.on('error', () => res.destroy());
    req.pipe(fwd);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    refused: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

forEachDatabase('three real receivers: one down from the start, one answering 503 to a third of requests', (db) => {
  let tree: Tree;
  let fleet: ReceiverFleet;
  let proxy: Awaited<ReturnType<typeof startFlakyProxy>>;
  let store: Store;

  before(async function () {
    this.timeout(60_000);
    tree = await makeTree(300, { large: 2 });
    fleet = await startReceivers(3);
    await fleet.receivers[0].close(); // down from the start: its port refuses connections
    proxy = await startFlakyProxy(fleet.urls[1]);
    store = await createStore(db.url);
    await store.migrate();
  });
  after(async () => {
    await store?.close();
    await proxy?.close();
    await fleet?.close();
    await rm(tree.dir, { recursive: true, force: true });
  });

  it('should upload all 300 files (and the awkward ones), each recorded once and held once', async function () {
    this.timeout(20_000);
    const targets = [fleet.urls[0], proxy.url, fleet.urls[2]];
    const config = await normaliseUploadConfig({ dir: tree.dir, target: targets, db: db.url, retries: 3, downAfter: 2, probeMs: 50, perTarget: 3 });
    const { logger, events } = capturedLogger();
    const summary: Summary = await runBatch(config, { store, logger });

    expect(summary).to.include({ status: 'completed', total: tree.files.size, uploaded: tree.files.size, failed: 0, pending: 0 });
    expect(tree.files.size).to.equal(300 + 2 + 14);
    expect(summary.targets[fleet.urls[0]].uploaded).to.equal(0);
    expect(proxy.refused(), 'the flaky target refused some').to.be.above(10);
    expect(events().some((e) => e.event === 'target_down' && e.target === fleet.urls[0])).to.equal(true);
    const dirs = new Map(targets.map((t, i) => [t, fleet.dirs[i]]));
    await assertInvariants(store, config.batchId, tree, dirs, { complete: true, summaries: [summary] });
    // each file is held by exactly one receiver, and the record names it
    const holders = new Map<string, string[]>();
    for (const [t, dir] of dirs) for (const p of (await readTree(dir)).keys()) holders.set(p, [...(holders.get(p) ?? []), t]);
    expect([...holders.keys()].sort()).to.deep.equal([...tree.files.keys()].sort());
    const rows = await store.listFiles(config.batchId);
    for (const r of rows) expect(holders.get(r.filePath), r.filePath).to.deep.equal([r.target]);
    expect(rows.some((r) => r.attempts > 1), 'some files were retried').to.equal(true);
  });
});

/** A tree of the given sizes only (no awkward small names: a broken host may only meet streamed files). */
async function treeOfSizes(sizes: number[]): Promise<Tree> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fanout-src-'));
  const files = new Map<string, string>();
  await mkdir(path.join(dir, 'rec'));
  for (const [i, size] of sizes.entries()) {
    const body = randomBytes(size);
    await writeFile(path.join(dir, 'rec', `call_${i}.wav`), body);
    files.set(`rec/call_${i}.wav`, sha256(body));
  }
  return { dir, files };
}

forEachDatabase('hosts that misbehave on the wire, next to a real receiver', (db) => {
  let fleet: ReceiverFleet;
  let store: Store;
  let emptyDir: string;
  const cleanups: Array<() => Promise<unknown>> = [];
  const wire = async <S extends WireServer>(started: Promise<S>): Promise<S> => {
    const s = await started;
    cleanups.push(s.close);
    return s;
  };
  const tree = async (sizes: number[]) => {
    const t = await treeOfSizes(sizes);
    cleanups.push(() => rm(t.dir, { recursive: true, force: true }));
    return t;
  };
  const run = async (t: Tree, targets: string[], extra: Partial<RawUploadArgs> = {}) => {
    const config = await normaliseUploadConfig({ dir: t.dir, target: targets, db: db.url, perTarget: 1, probeMs: 50, ...extra });
    const { logger, events } = capturedLogger();
    const summary = await runBatch(config, { store, logger });
    return { config, summary, events, rows: await store.listFiles(config.batchId) };
  };

  before(async function () {
    this.timeout(30_000);
    store = await createStore(db.url);
    await store.migrate();
    emptyDir = await mkdtemp(path.join(os.tmpdir(), 'fanout-nothing-held-'));
  });
  beforeEach(async () => {
    fleet = await startReceivers(1);
    cleanups.push(() => fleet.close());
  });
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((c) => c()));
  });
  after(async () => {
    await store?.close();
    await rm(emptyDir, { recursive: true, force: true });
  });

  it('should not record as uploaded a file whose host answered 200 before its body was sent', async function () {
    this.timeout(30_000);
    const early = await wire(startEarlyAnswerServer());
    // well past what socket buffers take, so the early answer comes with most of each body unsent
    const t = await tree([16 << 20, 16 << 20, 24 << 20, 16 << 20]);
    const { config, summary, rows } = await run(t, [early.url, fleet.urls[0]], { retries: 1, downAfter: 2 });

    expect(early.answered(), 'the broken host was sent files').to.be.at.least(1);
    expect(summary).to.include({ status: 'completed', uploaded: t.files.size, failed: 0 });
    for (const r of rows) expect(r, r.filePath).to.include({ status: 'uploaded', target: fleet.urls[0], sha256: t.files.get(r.filePath) });
    expect(rows.some((r) => r.attempts > 1), 'files failed over off the broken host').to.equal(true);
    const dirs = new Map([[early.url, emptyDir], [fleet.urls[0], fleet.dirs[0]]]);
    await assertInvariants(store, config.batchId, t, dirs, { complete: true, summaries: [summary] });
  });

  it('should read only the start of an endless error answer, drop that connection, and fail over', async function () {
    this.timeout(30_000);
    const endless = await wire(startEndlessErrorServer());
    const t = await tree([100, 5000, (1 << 20) + 5, 2 << 20]);
    const { config, summary, rows } = await run(t, [endless.url, fleet.urls[0]], { retries: 1, downAfter: 2 });

    expect(summary).to.include({ status: 'completed', uploaded: t.files.size, failed: 0 });
    expect(rows.every((r) => r.target === fleet.urls[0])).to.equal(true);
    await assertInvariants(store, config.batchId, t, new Map([[endless.url, emptyDir], [fleet.urls[0], fleet.dirs[0]]]), { complete: true, summaries: [summary] });
    // every connection that met the endless body was dropped after a few MB (socket buffers), not read whole
    await endless.close();
    expect(endless.sent().length, 'the endless host was sent files').to.be.at.least(1);
    for (const bytes of endless.sent()) expect(bytes).to.be.below(16 << 20);
  });

  it('should not spend an attempt, nor a strike on the host, when a kept-alive socket was closed just as it was reused', async function () {
    this.timeout(30_000);
    const proxy = await wire(startStaleKeepAliveProxy(fleet.urls[0], 'fin'));
    const sizes = Array.from({ length: 24 }, (_, i) => (i % 4 === 3 ? (1 << 20) + i : 1000 * i));
    const t = await tree(sizes);
    const { config, summary, rows, events } = await run(t, [proxy.url], { retries: 3, downAfter: 3 });

    expect(proxy.dropped(), 'uploads met stale sockets').to.be.at.least(sizes.length / 2);
    expect(summary).to.include({ status: 'completed', uploaded: t.files.size, failed: 0 });
    for (const r of rows) expect(r, r.filePath).to.include({ status: 'uploaded', attempts: 1 });
    const log = events().map((e) => e.event);
    expect(log).to.not.include('file_retry');
    expect(log).to.not.include('target_down');
    await assertInvariants(store, config.batchId, t, new Map([[proxy.url, fleet.dirs[0]]]), { complete: true, summaries: [summary] });
  });
});
