import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { createStore } from '../../src/store/createStore.js';
import type { Store } from '../../src/store/types.js';
import { launchChromium } from '../helpers/chromium.js';
import { cli, spawnCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { makeTree, type Tree } from '../helpers/tree.js';

/**
 * Two `fanout work` processes, one after the other, on one planned batch: the first sends
 * the files planned first, the second the files a second `plan` added. The report colours
 * each upload by the process that sent it and plots --per-target 2 as a flat limit.
 */
describe('fanout report of a batch two workers sent (MariaDB)', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let tree: Tree;
  let fleet: ReceiverFleet;
  let store: Store;
  let browser: Browser;
  let out: string;

  before(async function () {
    if (!process.env.FANOUT_TEST_MYSQL) this.skip();
    browser = await launchChromium(this);
    db = await createTestDatabase('mysql');
    tree = await makeTree(12, { sizes: [100, 4096] });
    fleet = await startReceivers(2, { delayMs: 10 });
    store = await createStore(db.url);
    out = path.join(await mkdtemp(path.join(os.tmpdir(), 'fanout-report-workers-')), 'report.html');
  });
  after(async () => {
    await browser?.close();
    await store?.close();
    await fleet?.close();
    await db?.cleanup();
    if (tree) await rm(tree.dir, { recursive: true, force: true });
    if (out) await rm(path.dirname(out), { recursive: true, force: true });
  });

  it('should colour each upload by the worker process that sent it, name each in a legend, and draw --per-target 2 flat', async () => {
    const work = async () => {
      const w = spawnCli(['work', '--batch-id', 'two', '--root', tree.dir, '--db', db.url, '--per-target', '2', '--json']);
      const r = await w.done;
      expect(r.code, r.stderr.slice(-2000)).to.equal(0);
      return w.pid as number;
    };
    const planned = await cli(['plan', tree.dir, '--batch-id', 'two', '--target', fleet.urls.join(','), '--db', db.url]);
    expect(planned.code, planned.stderr).to.equal(0);
    const first = new Set(tree.files.keys());
    const pidA = await work();
    for (let i = 0; i < 10; i++) await writeFile(path.join(tree.dir, `later-${i}.wav`), `later ${i}`);
    const again = await cli(['plan', '--batch-id', 'two', '--db', db.url]);
    expect(again.code, again.stderr).to.equal(0);
    const pidB = await work();

    // each try names the worker that made it, and the limit it was sent under
    const workers = (await store.knex('workers').where({ batch_id: 'two' }).orderBy('started_at').select('id', 'pid')) as { id: string; pid: number }[];
    expect(workers.map((w) => Number(w.pid))).to.deep.equal([pidA, pidB]);
    const tries = await store.listAttempts('two');
    expect(tries).to.have.length(first.size + 10);
    for (const a of tries) {
      expect(a.workerId, a.filePath).to.equal(workers[first.has(a.filePath) ? 0 : 1].id);
      expect(a.targetLimit, a.filePath).to.equal(2);
    }

    const r = await cli(['report', '--batch-id', 'two', '--out', out, '--db', db.url]);
    expect(r.code, r.stderr).to.equal(0);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(pathToFileURL(out).href, { waitUntil: 'load' });
    const legend = await page.locator('#senders li').evaluateAll((els) => els.map((e) => [e.getAttribute('data-pid'), e.getAttribute('data-uploads'), e.getAttribute('data-host')]));
    expect(legend).to.deep.equal([[String(pidA), String(first.size), os.hostname()], [String(pidB), '10', os.hostname()]]);
    const bars = await page.locator('#timeline .bar').evaluateAll((els) => els.map((e) => [e.querySelector('title')?.textContent?.split('\n')[0] ?? '', e.getAttribute('data-sender'), getComputedStyle(e).fill]));
    expect(bars).to.have.length(first.size + 10);
    for (const [file, sender] of bars) expect(sender, file ?? '').to.equal(first.has(file ?? '') ? '0' : '1');
    const fills = (s: string) => new Set(bars.filter((b) => b[1] === s).map((b) => b[2]));
    expect([...fills('0')]).to.have.length(1);
    expect([...fills('1')]).to.have.length(1);
    expect([...fills('0')][0]).to.not.equal([...fills('1')][0]);
    const limits = await page.locator('#timeline .lane path.limit').evaluateAll((els) => els.map((e) => [e.getAttribute('data-min'), e.getAttribute('data-max'), (e as SVGGraphicsElement).getBBox().height]));
    expect(limits).to.deep.equal([['2', '2', 0], ['2', '2', 0]]);
  });
});
