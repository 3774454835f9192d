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
});
