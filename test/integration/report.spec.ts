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
import type { AttemptRow, FileRow, Store } from '../../src/store/types.js';
import { registerWorker } from '../../src/store/workerQueries.js';
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

const WORKERS_BATCH = 'b-report-workers';
const W_TARGETS = ['http://gpu-a:8080', 'http://gpu-b:8080'];
const WORKERS = [{ id: 'w-east', host: 'orchestrator-east', pid: 4101 }, { id: 'w-west', host: 'orchestrator-west', pid: 4202 }];

/**
 * A batch two workers shared: gpu-a at a fixed limit of 2 (two uploads at a time, the
 * first 20 by w-east, the rest by w-west); gpu-b's adaptive limit going 1 -> 2 -> 3 with
 * as many uploads in flight (all by w-west), and one file w-east tried there (503) before
 * it died and w-west re-claimed and stored it.
 */
function seedWorkerBatch(): { rows: FileRow[]; attempts: AttemptRow[] } {
  const rows: FileRow[] = [];
  const attempts: AttemptRow[] = [];
  const add = (filePath: string, target: string, tries: [start: number, dur: number, worker: string, limit: number, outcome?: AttemptRow['outcome']][]) => {
    tries.forEach(([start, dur, workerId, targetLimit, outcome = 'uploaded'], i) => attempts.push({
      batchId: WORKERS_BATCH, filePath, target, attempt: i + 1, startedAt: T0 + start, finishedAt: T0 + start + dur, outcome, error: outcome === 'uploaded' ? null : 'HTTP 503', workerId, targetLimit,
    }));
    const [first] = tries;
    const last = tries[tries.length - 1];
    rows.push({
      batchId: WORKERS_BATCH, filePath, fileName: filePath.split('/').pop()!, target, sizeBytes: 1000, mtimeMs: T0, sha256: 'b'.repeat(64), verified: true,
      status: 'uploaded', attempts: tries.length, error: null, startedAt: T0 + first[0], finishedAt: T0 + last[0] + last[1],
    });
  };
  for (let k = 0; k < 40; k++) add(`a/${k}.wav`, W_TARGETS[0], [[100 + Math.floor(k / 2) * 100, 80, k < 20 ? 'w-east' : 'w-west', 2]]);
  let at = 100;
  for (const [n, limit] of [[5, 1], [5, 2], [5, 3]] as const) {
    for (let k = 0; k < n; k++, at += 100) for (let j = 0; j < limit; j++) add(`b/${limit}-${k}-${j}.wav`, W_TARGETS[1], [[at, 90, 'w-west', limit]]);
  }
  add('b/reclaimed.wav', W_TARGETS[1], [[at, 50, 'w-east', 3, 'retried'], [at + 200, 50, 'w-west', 3]]);
  return { rows, attempts };
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
    const w = seedWorkerBatch();
    await store.createBatch({
      id: WORKERS_BATCH, sourceDir: '/data/shared', targets: W_TARGETS, assign: 'round-robin', status: 'completed',
      total: w.rows.length, uploaded: w.rows.length, failed: 0, skipped: 0, bytes: w.rows.length * 1000, startedAt: T0, finishedAt: T0 + 5000,
    });
    for (const me of WORKERS) await registerWorker(store.knex, WORKERS_BATCH, me);
    await store.recordOutcomes(w.rows, [], w.attempts);
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

    it('should colour nothing by sender and draw no limit for a one-machine batch without recorded tries', async () => {
      expect(await page.locator('#senders, #timeline [data-sender], #timeline path.limit').count()).to.equal(0);
      const fills = await page.locator('#timeline .bar:not(.failed)').evaluateAll((els) => [...new Set(els.map((e) => getComputedStyle(e).fill))]);
      expect(fills).to.have.length(1);
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

    describe('a batch two workers shared', () => {
      let wpage: Page;
      let wurl: string;
      const wseen: string[] = [];
      before(async () => {
        const out = path.join(dir, 'workers.html');
        await writeReport(store, WORKERS_BATCH, out);
        wurl = pathToFileURL(out).href;
        wpage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        wpage.on('request', (r) => wseen.push(r.url()));
        wpage.on('console', (m) => wseen.push(`console ${m.type()}: ${m.text()}`));
        wpage.on('pageerror', (e) => wseen.push(`pageerror: ${e.message}`));
        await wpage.goto(wurl, { waitUntil: 'load' });
      });

      it('should still make no network request and log no error', () => {
        expect(wseen).to.deep.equal([wurl]);
      });

      it('should colour each upload by the worker that sent it, with a legend naming host and pid', async () => {
        const legend = await wpage.locator('#senders li').evaluateAll((els) => els.map((e) => ({
          worker: e.getAttribute('data-worker'), host: e.getAttribute('data-host'), pid: e.getAttribute('data-pid'), uploads: e.getAttribute('data-uploads'),
          text: e.textContent, swatch: getComputedStyle(e.querySelector('.swatch')!).backgroundColor,
        })));
        expect(legend.map((l) => [l.worker, l.host, l.pid, l.uploads])).to.deep.equal([['w-east', 'orchestrator-east', '4101', '21'], ['w-west', 'orchestrator-west', '4202', '51']]);
        expect(legend[0].text).to.contain('orchestrator-east · pid 4101');
        // every bar a worker stored has its worker's colour, the legend's swatch; two workers, two colours, neither red
        const bars = await wpage.locator('#timeline .bar:not(.failed):not(.retried)').evaluateAll((els) => els.map((e) => [e.getAttribute('data-sender'), getComputedStyle(e).fill] as const));
        expect(bars).to.have.length(71);
        const fillOf = new Map<string | null, Set<string>>();
        for (const [sender, fill] of bars) fillOf.set(sender, (fillOf.get(sender) ?? new Set()).add(fill));
        expect([...fillOf.keys()].sort()).to.deep.equal(['0', '1']);
        const colours = [...fillOf.values()].map((f) => [...f]);
        expect(colours.every((c) => c.length === 1)).to.equal(true);
        expect(new Set(colours.flat()).size).to.equal(2);
        expect(colours.flat()).to.not.include('rgb(214, 39, 40)');
        expect(legend.map((l) => l.swatch)).to.deep.equal(colours.flat());
        // the re-claimed file: its 503 on w-east (orange, a try that was retried) and its upload by w-west, on one lane
        const reclaimed = await wpage.locator('#timeline .lane[data-target="http://gpu-b:8080"] .bar').evaluateAll((els) =>
          els.filter((e) => e.querySelector('title')?.textContent?.startsWith('b/reclaimed.wav')).map((e) => [e.getAttribute('data-sender'), e.classList.contains('retried')]));
        expect(reclaimed).to.deep.equal([['0', true], ['1', false]]);
      });

      it('should plot each target\'s limit over time over its lanes: flat at a fixed limit, stepping with an adaptive one, no bar above it', async () => {
        const lanes = await wpage.locator('#timeline .lane').evaluateAll((els) => els.map((lane) => {
          const path = lane.querySelector('path.limit');
          const box = (path as SVGGraphicsElement | null)?.getBBox();
          return {
            target: lane.getAttribute('data-target'), d: path?.getAttribute('d') ?? null, min: path?.getAttribute('data-min'), max: path?.getAttribute('data-max'),
            steps: path?.getAttribute('data-steps'), height: box?.height, scale: [...lane.querySelectorAll('.limit-scale text')].map((t) => t.textContent),
            bars: [...lane.querySelectorAll('.bar')].map((b) => ({ x: Number(b.getAttribute('x')), y: Number(b.getAttribute('y')) })),
          };
        }));
        expect(lanes.map((l) => [l.target, l.min, l.max, l.steps, l.scale])).to.deep.equal([[W_TARGETS[0], '2', '2', '1', ['2', '0']], [W_TARGETS[1], '1', '3', '3', ['3', '0']]]);
        expect(lanes[0].height, 'a fixed limit is a flat line').to.equal(0);
        expect(lanes[1].height).to.be.above(0);
        for (const l of lanes) {
          // the line's height at x, from its d: M x y (H x | V y)*
          const at = (x: number) => {
            const tokens = [...l.d!.matchAll(/([MHV])([\d.]+)(?: ([\d.]+))?/g)];
            let [cx, cy] = [Number(tokens[0][2]), Number(tokens[0][3])];
            for (const [, cmd, v] of tokens.slice(1)) {
              if (cmd === 'V') cy = Number(v);
              else if (x < Number(v)) return cy;
              else cx = Number(v);
            }
            void cx;
            return cy;
          };
          for (const b of l.bars) expect(b.y, `${l.target} bar at x ${b.x}`).to.be.above(at(b.x));
        }
      });
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
