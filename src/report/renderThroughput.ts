import { formatBytes } from '../units.js';
import type { ReportModel } from './analyseReport.js';
import { escapeHtml } from './escapeHtml.js';
import { formatRate as rate } from './formatValues.js';
import { LAYOUT } from './layout.js';
import { formatOffset, px, timeScale } from './timeScale.js';

const TOP = 12;
const PLOT_H = 150;
const AXIS = 22;

/** The smallest 1-2-5 number at or above v (the top of the y axis). */
function niceCeil(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}


/**
 * Finished uploads per second over the batch: one stacked bar per bucket (uploaded,
 * failed in red), on the same time axis as the timeline above it.
 */
export function renderThroughput(model: ReportModel): string {
  const { stepMs, buckets } = model.throughput;
  const scale = timeScale(model.t0, model.spanMs, LAYOUT.gutter, LAYOUT.plot);
  const perSecond = (n: number) => n / (stepMs / 1000);
  const top = niceCeil(Math.max(...buckets.map((b) => perSecond(b.uploaded + b.failed))));
  const y = (v: number) => TOP + PLOT_H - (v / top) * PLOT_H;
  const right = LAYOUT.gutter + LAYOUT.plot;
  const parts: string[] = [];
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const v = top * f;
    parts.push(`<line class="grid" x1="${LAYOUT.gutter}" x2="${right}" y1="${px(y(v))}" y2="${px(y(v))}"/><text class="ytick" x="${LAYOUT.gutter - 6}" y="${px(y(v) + 4)}">${rate(v)}</text>`);
  }
  for (const k of scale.ticks) parts.push(`<text class="tick" x="${px(k.x)}" y="${TOP + PLOT_H + 16}">${escapeHtml(k.label)}</text>`);
  parts.push(`<text class="ylabel" x="8" y="${TOP + 10}">files/s (bucket ${formatOffset(stepMs, stepMs)})</text>`);
  for (const b of buckets) {
    if (b.uploaded + b.failed === 0) continue;
    const x0 = scale.x(model.t0 + b.offsetMs);
    const w = Math.max(1, Math.min(right, scale.x(model.t0 + b.offsetMs + stepMs)) - x0 - (stepMs / scale.spanMs) * LAYOUT.plot * 0.1);
    const okTop = y(perSecond(b.uploaded));
    const allTop = y(perSecond(b.uploaded + b.failed));
    const tip = `${formatOffset(b.offsetMs, stepMs)} – ${formatOffset(b.offsetMs + stepMs, stepMs)}: ${b.uploaded} uploaded, ${b.failed} failed`
      + ` (${rate(perSecond(b.uploaded + b.failed))} files/s, ${formatBytes(perSecond(b.bytes))}/s)`;
    parts.push(
      `<g class="bucket" data-offset-ms="${b.offsetMs}" data-uploaded="${b.uploaded}" data-failed="${b.failed}"><title>${escapeHtml(tip)}</title>`
      + `<rect class="tp-ok" x="${px(x0)}" y="${px(okTop)}" width="${px(w)}" height="${px(TOP + PLOT_H - okTop)}"/>`
      + (b.failed > 0 ? `<rect class="tp-failed" x="${px(x0)}" y="${px(allTop)}" width="${px(w)}" height="${px(okTop - allTop)}"/>` : '')
      + '</g>',
    );
  }
  const height = TOP + PLOT_H + AXIS;
  return `<svg id="throughput-chart" xmlns="http://www.w3.org/2000/svg" width="${LAYOUT.width}" height="${height}" viewBox="0 0 ${LAYOUT.width} ${height}"`
    + ` data-step-ms="${stepMs}" role="img" aria-label="finished uploads per second">${parts.join('')}</svg>`;
}
