import { expect } from 'chai';
import { MAX_BARS } from '../../../src/report/layout.js';
import { MAX_FAILURE_ROWS, renderReport } from '../../../src/report/renderReport.js';
import { data, manyRows, row } from './fixtures.js';

const count = (html: string, re: RegExp) => html.match(re)?.length ?? 0;
const EVIL = `<script>alert(1)</script>&"'`;

describe('renderReport', () => {
  it('should escape every text that comes from the database', () => {
    const html = renderReport(data(
      [row(`d/${EVIL}.wav`, `http://a:1/${EVIL}`, 0, 100, { status: 'failed', error: `HTTP 500 ${EVIL}` })],
      { id: 'b-report', sourceDir: `/data/${EVIL}`, targets: [`http://a:1/${EVIL}`], assign: 'round-robin' },
    ));
    expect(html).to.not.include('<script');
    expect(html).to.not.include(`"'`);
    expect(html).to.include('&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39;');
  });

  it('should load nothing from anywhere and forbid scripts', () => {
    const html = renderReport(data(manyRows(300, ['http://a:1', 'http://b:1'])));
    expect(html).to.match(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/);
    expect(html).to.not.match(/\b(src|href)=|url\(|@import|<link|<script/i);
  });

  it('should draw one bar per upload with both times, failed ones apart', () => {
    const files = [...manyRows(300, ['http://a:1', 'http://b:1']), row('pending.wav', null, null, null, { status: 'pending' })];
    const html = renderReport(data(files));
    expect(count(html, /<rect class="bar[" ]/g)).to.equal(300);
    expect(count(html, /<rect class="bar failed"/g)).to.equal(files.filter((f) => f.status === 'failed').length);
    expect(count(html, /<g class="lane" /g)).to.equal(2);
    expect(html).to.include('data-bars="300" data-aggregated="false"');
  });

  it('should merge bars that touch on screen past MAX_BARS, fast, and still account for every upload', () => {
    const n = Math.round(MAX_BARS * 1.5);
    const t = Date.now();
    const html = renderReport(data(manyRows(n, ['http://a:1', 'http://b:1', 'http://c:1'], 8), { finishedAt: null }));
    expect(Date.now() - t).to.be.below(5000);
    const rects = [...html.matchAll(/<rect class="bar agg[^"]*" data-count="(\d+)"/g)].map((m) => Number(m[1]));
    expect(rects.length).to.be.above(0).and.below(MAX_BARS);
    expect(rects.reduce((a, b) => a + b, 0)).to.equal(n);
    expect(html).to.include(`data-bars="${n}" data-aggregated="true"`);
    expect(html.length).to.be.below(8_000_000);
  });

  it('should cap the failures table and count the rest', () => {
    const failed = Array.from({ length: MAX_FAILURE_ROWS + 7 }, (_, i) => row(`f${i}`, 'http://a:1', i, i + 1, { status: 'failed', error: 'x' }));
    const html = renderReport(data(failed));
    expect(count(html, /<tr data-file=/g)).to.equal(MAX_FAILURE_ROWS);
    expect(html).to.include('<p id="failures-more" data-count="7">');
    expect(renderReport(data([]))).to.include('<p id="no-failures">');
  });

  it('should render a batch that has no rows and no end yet', () => {
    const html = renderReport(data([], { finishedAt: null, status: 'running' }));
    expect(html).to.include('data-field="duration" data-value="">not finished<');
    expect(html).to.include('<tr data-target="http://a:1">');
  });

  describe('several workers and limits', () => {
    const files = manyRows(40, ['http://a:1', 'http://b:1'], 2);
    /** one try per row, sent by worker w1 or w2 in turn (or by none), at the limit its target had */
    const withTries = (workerOf: (i: number) => string | null, limitOf: (i: number) => number) => ({
      ...data(files),
      attempts: files.map((f, i) => ({
        batchId: f.batchId, filePath: f.filePath, target: f.target!, attempt: 1, startedAt: f.startedAt!, finishedAt: f.finishedAt!,
        outcome: f.status === 'uploaded' ? 'uploaded' as const : 'failed' as const, error: f.error, workerId: workerOf(i), targetLimit: limitOf(i),
      })),
      workers: [{ id: 'w1', host: 'box-<1>', pid: 11, startedAt: 0, heartbeatAt: 0, stoppedAt: null }, { id: 'w2', host: 'box-2', pid: 22, startedAt: 1, heartbeatAt: 1, stoppedAt: null }],
    });

    it('should colour each bar by its worker, with a legend of host and pid', () => {
      const html = renderReport(withTries((i) => (i % 4 < 2 ? 'w1' : 'w2'), () => 2));
      const failed = files.filter((f) => f.status === 'failed').length;
      expect(count(html, /<rect class="bar s0[" ]/g) + count(html, /<rect class="bar s1[" ]/g)).to.equal(40);
      expect(count(html, /<rect class="bar s[01] failed"/g)).to.equal(failed);
      expect(count(html, /data-sender="0"/g)).to.equal(20);
      const legend = [...html.matchAll(/<li data-worker="([^"]*)" data-host="([^"]*)" data-pid="(\d+)" data-uploads="(\d+)"><span class="swatch (s\d)">/g)].map((m) => m.slice(1));
      expect(legend).to.deep.equal([['w1', 'box-&lt;1&gt;', '11', '20', 's0'], ['w2', 'box-2', '22', '20', 's1']]);
      expect(html).to.include('Colour: the worker that sent it');
    });

    it('should draw a one-sender batch as before: no colours, no legend', () => {
      for (const d of [withTries(() => 'w1', () => 2), withTries(() => null, () => 2), data(files)]) {
        const html = renderReport(d);
        expect(html).to.not.match(/class="bar s\d|data-sender=|<ul id="senders"/);
        expect(count(html, /<rect class="bar[" ]/g)).to.equal(40);
      }
    });

    it('should draw each target\'s limit as a step line over its lanes, flat for a fixed limit', () => {
      const flat = renderReport(withTries(() => null, () => 4));
      const paths = [...flat.matchAll(/<path class="limit" d="([^"]+)" data-min="(\d+)" data-max="(\d+)" data-steps="(\d+)"/g)];
      expect(paths.map((m) => m.slice(2))).to.deep.equal([['4', '4', '1'], ['4', '4', '1']]);
      for (const [, d] of paths) expect(d).to.match(/^M[\d.]+ [\d.]+H[\d.]+$/); // one horizontal line
      expect(flat).to.include(' · limit 4</text>');
      // limit 1 for the first half of each target's tries, then 3: two steps, up by one vertical
      const stepped = renderReport(withTries(() => null, (i) => (i < 20 ? 1 : 3)));
      const d = [...stepped.matchAll(/<path class="limit" d="([^"]+)" data-min="1" data-max="3" data-steps="2"/g)].map((m) => m[1]);
      expect(d).to.have.length(2);
      for (const path of d) {
        const [y1, y3] = [...path.matchAll(/(?:M[\d.]+ |V)([\d.]+)/g)].map((m) => Number(m[1]));
        expect(y3, 'a higher limit is higher on the page').to.be.below(y1);
      }
      expect(stepped).to.include(' · limit 1–3</text>');
      expect(renderReport(data(files))).to.not.include('class="limit"');
    });

    it('should draw at most one limit step per pixel column, keeping the column\'s highest limit, however often the limit moved', () => {
      const many = manyRows(60_000, ['http://a:1'], 4);
      const html = renderReport({
        ...data(many),
        attempts: many.map((f, i) => ({
          batchId: f.batchId, filePath: f.filePath, target: f.target!, attempt: 1, startedAt: f.startedAt!, finishedAt: f.finishedAt!,
          outcome: 'uploaded' as const, error: null, targetLimit: i % 2 === 0 ? 3 : 4,
        })),
      });
      const [, d] = /<path class="limit" d="([^"]+)" data-min="3" data-max="4"/.exec(html) ?? [];
      const ys = new Set([...d.matchAll(/(?:M[\d.]+ |V)([\d.]+)/g)].map((m) => m[1]));
      expect(d.split('H').length - 1, 'steps').to.be.at.most(1000);
      expect(ys.size, 'every column holds the higher limit: one flat line').to.equal(1);
    });
  });
});
