import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import yargs from 'yargs';
import type { CliContext } from '../../src/commands/context.js';
import { reportCommand, writeReport } from '../../src/commands/report.js';
import { ConfigError } from '../../src/errors.js';
import { createStore } from '../../src/store/createStore.js';
import type { FileRow, Store } from '../../src/store/types.js';
import { launchChromium } from '../helpers/chromium.js';
import { forEachDatabase } from '../helpers/db.js';

const T0 = 1764384000123;
const BATCH = 'b-report-1';
const TARGETS = ['http://gpu-a:8080', 'http://gpu-b:8080', 'http://gpu-c:8080/x?y=1&z="2"'];
const EVIL = `HTTP 503 <script>window.__pwned = 1</script> & "quoted" 'single'`;

/**
 * 306 rows with known times, from a batch that ran T0 .. T0+20 s:
 * gpu-a 100 uploads one after another (50 ms each, every 100 ms): busy 5000 ms, 1 sub-lane;
 * gpu-b 100 uploads two at a time (80 ms each, a pair every 100 ms): busy 4000 ms, 2 sub-lanes;
 * gpu-c 100 uploads starting every 50 ms, 100 ms each: busy 5050 ms, 2 sub-lanes, 10 of them failed;
 * plus one failed file no target ever took, and 5 pending files without times.
 */
function seedRows(): FileRow[] {
  const base = (filePath: string, target: string | null, start: number | null, dur: number): FileRow => ({
    batchId: BATCH, filePath, fileName: filePath.split('/').pop()!, target, sizeBytes: 1_000_000, mtimeMs: T0, sha256: 'a'.repeat(64),
    verified: true, status: 'uploaded', attempts: 1, error: null,
    startedAt: start === null ? null : T0 + start, finishedAt: start === null ? null : T0 + start + dur,
  });
  const rows: FileRow[] = [];
  for (let k = 0; k < 100; k++) {
    rows.push(base(`a/call-${k}.wav`, TARGETS[0], 100 + k * 100, 50));
    rows.push(base(`b/call-${k}.wav`, TARGETS[1], 100 + Math.floor(k / 2) * 100, 80));
    const c = base(`c/call-${k}.wav`, TARGETS[2], 100 + k * 50, 100);
    rows.push(k % 10 === 3 ? { ...c, filePath: `c/<i>call-${k}</i> & "q".wav`, status: 'failed', attempts: 4, error: EVIL, sha256: null, verified: false } : c);
  }
  rows.push({ ...base('never-sent.wav', null, null, 0), status: 'failed', error: 'every target is down', sha256: null, verified: false });
  for (let k = 0; k < 5; k++) rows.push({ ...base(`later/p-${k}.wav`, null, null, 0), status: 'pending', sha256: null, verified: false, attempts: 0 });
  return rows;
}

interface FakeContext extends CliContext {
  out(): string;
}

function fakeContext(env: NodeJS.ProcessEnv = {}): FakeContext {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let text = '';
  stdout.setEncoding('utf8').on('data', (c: string) => (text += c));
  stderr.resume();
  return { stdout, stderr, env, exitCode: 0, signals: new EventEmitter(), isTTY: false, out: () => text };
}

/** A value inside a double-quoted CSS attribute selector. */
const attr = (v: string) => v.replace(/["\\]/g, '\\$&');

const runReport = (argv: string[], ctx: CliContext) =>
  yargs(argv).command(reportCommand(ctx)).strict().exitProcess(false).fail((msg, err) => {
    throw err ?? new Error(msg);
  }).parseAsync();

forEachDatabase('fanout report', (db) => {
  let store: Store;
  let dir: string;
  let rows: FileRow[];

  before(async function () {
    this.timeout(60_000);
    store = await createStore(db.url);
    await store.migrate();
    rows = seedRows();
    await store.createBatch({
      id: BATCH, sourceDir: '/data/<calls> & "more"', targets: TARGETS, assign: 'round-robin', status: 'completed_with_failures',
      total: 306, uploaded: 290, failed: 11, skipped: 0, bytes: 290_000_000, startedAt: T0, finishedAt: T0 + 20_000,
    });
    await store.recordOutcomes(rows, []);
    dir = await mkdtemp(path.join(os.tmpdir(), 'fanout-report-spec-'));
  });

  after(async () => {
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('command', () => {
    it('should write the report and print one line naming the file', async () => {
      const out = path.join(dir, 'cmd.html');
      const ctx = fakeContext({ FANOUT_DB: db.url });
      await runReport(['report', '--batch-id', BATCH, '--out', out], ctx);
      expect(ctx.out()).to.equal(`report written to ${out}\n`);
      expect(ctx.exitCode).to.equal(0);
      const html = await readFile(out, 'utf8');
      expect(html).to.match(/^<!doctype html>/);
      expect(html).to.include(`<span id="batch-id">${BATCH}</span>`);
      expect(await readdir(dir)).to.deep.equal(['cmd.html']); // no temp file left behind
    });

    it('should refuse an unknown batch with a ConfigError naming it, writing nothing', async () => {
      const out = path.join(dir, 'none.html');
      const ctx = fakeContext();
      const err = await runReport(['report', '--db', db.url, '--batch-id', 'no-such-batch', '--out', out], ctx).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.equal('unknown batch "no-such-batch"');
      expect(ctx.out()).to.equal('');
      expect(await stat(out).catch(() => null)).to.equal(null);
    });

    it('should refuse an --out in a directory that does not exist', async () => {
      const err = await runReport(['report', '--db', db.url, '--batch-id', BATCH, '--out', path.join(dir, 'nope', 'r.html')], fakeContext()).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.match(/^bad --out ".*nope\/r\.html": directory .* does not exist$/);
    });
  });

  describe('in Chromium', () => {
    let browser: Browser;
    let page: Page;
    const requests: string[] = [];
    const problems: string[] = [];
    let url: string;

    before(async function () {
      this.timeout(60_000);
      browser = await launchChromium(this); // skips the suite when Chromium is absent
      const out = path.join(dir, 'report.html');
      await writeReport(store, BATCH, out);
      url = pathToFileURL(out).href;
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.on('request', (r) => requests.push(r.url()));
      page.on('console', (m) => problems.push(`console ${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      await page.goto(url, { waitUntil: 'load' });
    });

    after(async () => {
      await browser?.close();
    });

    const field = (name: string) => page.locator(`#summary [data-field="${name}"]`);

    it('should show the batch and the counts of its rows in the summary', async () => {
      expect(await page.locator('#batch-id').textContent()).to.equal(BATCH);
      expect(await page.locator('#batch-dir').textContent()).to.equal('/data/<calls> & "more"');
      const want = { total: 306, uploaded: 290, failed: 11, pending: 5, bytes: 290_000_000, duration: 20_000, started: T0, finished: T0 + 20_000, targets: 3 };
      for (const [k, v] of Object.entries(want)) expect(await field(k).getAttribute('data-value'), k).to.equal(String(v));
      expect(await field('uploaded').textContent()).to.equal('290');
      expect(await field('bytes').textContent()).to.equal('290.0 MB');
      expect(await field('started').textContent()).to.equal(`${new Date(T0).toISOString().replace('T', ' ').replace('Z', '')} UTC`);
    });

    it('should draw one lane per target with its uploads stacked by concurrency', async () => {
      const lanes = page.locator('#timeline .lane');
      expect(await lanes.count()).to.equal(3);
      const seen = await lanes.evaluateAll((els) => els.map((e) => [e.getAttribute('data-target'), e.getAttribute('data-sublanes'), e.getAttribute('data-uploads')]));
      expect(seen).to.deep.equal([[TARGETS[0], '1', '100'], [TARGETS[1], '2', '100'], [TARGETS[2], '2', '100']]);
      expect(await page.locator(`.lane[data-target="${attr(TARGETS[2])}"] .bar`).count()).to.equal(100);
    });

    it('should draw one bar per row with times, the failed ones red', async () => {
      const timed = rows.filter((r) => r.startedAt !== null && r.finishedAt !== null && r.target !== null);
      expect(await page.locator('#timeline .bar').count()).to.equal(timed.length).and.to.equal(300);
      const failed = page.locator('#timeline .bar.failed');
      expect(await failed.count()).to.equal(10);
      expect(await failed.first().evaluate((e) => getComputedStyle(e).fill)).to.equal('rgb(214, 39, 40)');
      expect(await page.locator('#timeline .bar:not(.failed)').first().evaluate((e) => getComputedStyle(e).fill)).to.not.equal('rgb(214, 39, 40)');
      const ticks = await page.locator('#timeline .tick').allTextContents();
      expect(ticks[0]).to.equal('0 s');
      expect(ticks).to.include('10 s');
    });

    it('should give busy time and utilisation per target', async () => {
      const util = page.locator('#utilisation tr[data-target]');
      expect(await util.count()).to.equal(3);
      const cell = (t: string, f: string) => page.locator(`#utilisation tr[data-target="${attr(t)}"] [data-field="${f}"]`).getAttribute('data-value');
      const want: [string, Record<string, string>][] = [
        [TARGETS[0], { files: '100', uploaded: '100', failed: '0', busy: '5000', utilisation: '0.2500', mean: '50.0', peak: '1', bytes: '100000000' }],
        [TARGETS[1], { files: '100', uploaded: '100', failed: '0', busy: '4000', utilisation: '0.2000', mean: '80.0', peak: '2' }],
        [TARGETS[2], { files: '100', uploaded: '90', failed: '10', busy: '5050', utilisation: '0.2525', mean: '100.0', peak: '2', bytes: '90000000' }],
      ];
      for (const [t, fields] of want) for (const [f, v] of Object.entries(fields)) expect(await cell(t, f), `${t} ${f}`).to.equal(v);
    });

    it('should chart throughput with every finished upload in some bucket', async () => {
      const sums = await page.locator('#throughput-chart .bucket').evaluateAll((els) =>
        els.reduce((s, e) => [s[0] + Number(e.getAttribute('data-uploaded')), s[1] + Number(e.getAttribute('data-failed'))], [0, 0]));
      expect(sums).to.deep.equal([290, 10]);
    });

    it('should list the failed files with their errors as text, running none of it', async () => {
      const trs = page.locator('#failures tbody tr');
      expect(await trs.count()).to.equal(11);
      const evil = page.locator(`#failures tr[data-file="${attr('c/<i>call-3</i> & "q".wav')}"]`);
      expect(await evil.locator('td.file').textContent()).to.equal('c/<i>call-3</i> & "q".wav');
      expect(await evil.locator('td.target').textContent()).to.equal(TARGETS[2]);
      expect(await evil.locator('td.attempts').textContent()).to.equal('4');
      expect(await evil.locator('td.error').textContent()).to.equal(EVIL);
      expect(await page.locator('#failures tr[data-file="never-sent.wav"] td.target').textContent()).to.equal('—');
      expect(await page.locator('script, #failures i').count()).to.equal(0);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).to.equal(undefined);
      expect(await page.locator('#failures-more').count()).to.equal(0);
    });

    it('should make no network request and log no error', async () => {
      expect(requests).to.deep.equal([url]);
      expect(problems).to.deep.equal([]);
    });

    it('should take a screenshot', async () => {
      const shot = path.join(os.tmpdir(), `fanout-report-${process.pid}-${db.dialect}.png`);
      try {
        await page.screenshot({ path: shot, fullPage: true });
        const png = await readFile(shot);
        expect(png.subarray(1, 4).toString()).to.equal('PNG');
        expect(png.length).to.be.above(10_000);
      } finally {
        await rm(shot, { force: true });
      }
    });
  });
});
