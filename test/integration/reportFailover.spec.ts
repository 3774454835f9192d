import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { normaliseUploadConfig } from '../../src/config.js';
import { analyseReport } from '../../src/report/analyseReport.js';
import { loadReportData } from '../../src/report/loadReport.js';
import { renderTimeline } from '../../src/report/renderTimeline.js';
import { runBatch } from '../../src/runBatch.js';
import { createStore } from '../../src/store/createStore.js';
import type { Store } from '../../src/store/types.js';
import { forEachDatabase } from '../helpers/db.js';
import { assertInvariants } from '../helpers/invariants.js';
import { startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { makeTree, type Tree } from '../helpers/tree.js';

/** A host that reads each upload whole, holds it a moment and answers 503: every file fails over. Counts uploads in flight as a receiver does. */
async function startRefusingHost(holdMs = 30) {
  const stats = { puts: 0, inFlight: 0, inFlightMax: 0 };
  const server = http.createServer((req, res) => {
    if (req.method !== 'PUT') {
      res.writeHead(404).end(); // a probe: any answer means up
      return;
    }
    stats.puts++;
    stats.inFlight++;
    stats.inFlightMax = Math.max(stats.inFlightMax, stats.inFlight);
    req.resume();
    req.on('end', async () => {
      await sleep(holdMs);
      stats.inFlight--;
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"busy"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, stats, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

forEachDatabase('report of a run that failed over', (db) => {
  let tree: Tree;
  let good: ReceiverFleet;
  let bad: Awaited<ReturnType<typeof startRefusingHost>>;
  let store: Store;

  before(async function () {
    this.timeout(60_000);
    tree = await makeTree(40, { sizes: [100, 4096] });
    good = await startReceivers(1, { delayMs: 20 });
    bad = await startRefusingHost();
    store = await createStore(db.url);
    await store.migrate();
  });
  after(async () => {
    await store?.close();
    await good?.close();
    await bad?.close();
    await rm(tree.dir, { recursive: true, force: true });
  });

  it('should draw each attempt on the host it was tried on, with the peak each host saw, and its down periods', async function () {
    this.timeout(60_000);
    const config = await normaliseUploadConfig({
      dir: tree.dir, target: [bad.url, good.urls[0]], db: db.url, perTarget: 2, retries: 0, downAfter: 3, probeMs: 100, batchId: 'failover',
    });
    const summary = await runBatch(config, { store });
    expect(summary).to.include({ status: 'completed', uploaded: tree.files.size, failed: 0 });
    await assertInvariants(store, 'failover', tree, new Map([[good.urls[0], good.dirs[0]]]), { complete: true, summaries: [summary] });
    expect(bad.stats.puts, 'files were tried on the refusing host').to.be.above(0);

    const model = analyseReport(await loadReportData(store, 'failover'));
    const lane = (url: string) => model.targets.find((t) => t.target === url)!;
    // the refusing host's lane holds every try it answered, though no file ended there
    expect(lane(bad.url).uploads).to.have.length(bad.stats.puts);
    expect(lane(bad.url).uploads.every((u) => u.failed && !u.final)).to.equal(true);
    expect(lane(bad.url).uploaded).to.equal(0);
    // the peak in flight per host is what each host saw
    expect(lane(bad.url).peak).to.equal(bad.stats.inFlightMax);
    expect(lane(good.urls[0]).peak).to.equal(good.receivers[0].stats().inFlightMax);
    // the good host's bars start when the file was tried there, not at its first try elsewhere
    const failedOver = lane(good.urls[0]).uploads.filter((u) => (u.attempt?.attempt ?? 1) > 1);
    expect(failedOver.length).to.be.above(0);
    for (const u of failedOver) expect(u.start).to.be.above(u.row.startedAt as number);
    // it was marked down (3 failures in a row) at least once, and that is drawn on its lane
    expect(lane(bad.url).down.length).to.be.at.least(1);
    expect(lane(good.urls[0]).down).to.deep.equal([]);
    const svg = renderTimeline(model);
    const badLane = svg.slice(svg.indexOf(`data-target="${bad.url}"`), svg.indexOf(`data-target="${good.urls[0]}"`));
    expect(badLane.match(/class="down"/g)).to.have.length(lane(bad.url).down.length);
    // --per-target 2: every try recorded the limit 2, so each lane's limit is one flat step at 2, over all its tries
    const data = await loadReportData(store, 'failover');
    expect(new Set(data.attempts?.map((a) => a.targetLimit))).to.deep.equal(new Set([2]));
    for (const t of [lane(bad.url), lane(good.urls[0])]) {
      expect(t.limits.map((l) => [l.start, l.end, l.limit])).to.deep.equal([[t.uploads[0].start, Math.max(...t.uploads.map((u) => u.end)), 2]]);
    }
    expect(svg.match(/<path class="limit" d="M[\d.]+ [\d.]+H[\d.]+" data-min="2" data-max="2"/g)).to.have.length(2);
    // one machine, no worker: nothing coloured by sender
    expect(model.senders).to.deep.equal([]);
    // the throughput chart counts each file once, where it ended
    expect(model.throughput.buckets.reduce((n, b) => n + b.uploaded + b.failed, 0)).to.equal(tree.files.size);
  });
});
