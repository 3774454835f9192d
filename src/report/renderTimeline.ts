import { MAX_SUBLANES, type ReportModel, type TargetStats, type TimedUpload } from './analyseReport.js';
import type { LimitStep } from './limitSteps.js';
import { escapeHtml } from './escapeHtml.js';
import { formatCount } from './formatValues.js';
import { LAYOUT, MAX_BARS } from './layout.js';
import { SENDER_COLOURS } from './senders.js';
import { formatOffset, px, timeScale, type TimeScale } from './timeScale.js';

const AXIS = 24;
const PAD = 6;

/** Taller sub-lanes while few uploads run at once, thinner when many do. */
const sublaneHeight = (n: number): number => (n <= 8 ? 10 : n <= 16 ? 6 : 3);

/**
 * The per-target Gantt chart as one inline SVG: a lane group per target, a sub-lane per
 * upload in flight at once (stacked from the bottom), a bar per upload (red when it
 * failed; coloured by sender, `.bar.s<k>`, when several processes sent them), the
 * target's limit over time as a step line over its lanes (`path.limit`, one sub-lane a
 * unit, scale at the right edge) and a time axis in seconds from the batch start. Past
 * MAX_BARS uploads, bars that touch on screen merge (`.bar.agg`, with `data-count`), so
 * the page stays light for any batch size.
 */
export function renderTimeline(model: ReportModel): string {
  const scale = timeScale(model.t0, model.spanMs, LAYOUT.gutter, LAYOUT.plot);
  const aggregate = model.timed > MAX_BARS;
  const lanes: string[] = [];
  let y = AXIS;
  model.targets.forEach((t, i) => {
    // room for the limit too, so a limit above the peak shows as headroom
    const rows = Math.max(1, t.sublanes, Math.min(limitMax(t), MAX_SUBLANES));
    const h = sublaneHeight(rows);
    const height = 2 * PAD + rows * (h + 2);
    lanes.push(renderLane(t, i, y, height, rows, h, scale, aggregate));
    y += height;
  });
  const grid = scale.ticks
    .map((k) => `<line class="grid" x1="${px(k.x)}" x2="${px(k.x)}" y1="${AXIS - 4}" y2="${y}"/><text class="tick" x="${px(k.x)}" y="${AXIS - 8}">${escapeHtml(k.label)}</text>`)
    .join('');
  return [
    `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="${LAYOUT.width}" height="${y + 4}" viewBox="0 0 ${LAYOUT.width} ${y + 4}"`,
    ` data-bars="${model.timed}" data-aggregated="${aggregate}" shape-rendering="crispEdges" role="img" aria-label="upload timeline per target">`,
    `<g class="axis">${grid}</g>`,
    lanes.join(''),
    '</svg>',
  ].join('');
}

const limitMax = (t: TargetStats): number => t.limits.reduce((m, s) => Math.max(m, s.limit), 0);
const limitMin = (t: TargetStats): number => t.limits.reduce((m, s) => Math.min(m, s.limit), Infinity);

function renderLane(t: TargetStats, index: number, top: number, height: number, rows: number, h: number, scale: TimeScale, aggregate: boolean): string {
  const label = t.target.length > 34 ? `${t.target.slice(0, 33)}…` : t.target;
  const rowY = (u: { sublane: number }) => top + PAD + (rows - 1 - u.sublane) * (h + 2);
  const bars = aggregate ? mergedBars(t.uploads, scale, rowY, h) : t.uploads.map((u) => bar(u, scale, rowY(u), h)).join('');
  // behind the bars: the times the run held the target down (failures in a row), until a probe found it back
  const down = t.down.map((d) => {
    const x = scale.x(d.start);
    const tip = `down ${formatOffset(d.start - scale.t0, 1)} → ${formatOffset(d.end - scale.t0, 1)}`;
    return `<rect class="down" x="${px(x)}" y="${top}" width="${px(Math.max(1, scale.x(d.end) - x))}" height="${height}"><title>${escapeHtml(tip)}</title></rect>`;
  }).join('');
  const [lo, hi] = [limitMin(t), limitMax(t)];
  const limitText = t.limits.length === 0 ? '' : lo === hi ? ` · limit ${hi}` : ` · limit ${lo}–${hi}`;
  return [
    `<g class="lane" data-target="${escapeHtml(t.target)}" data-sublanes="${t.sublanes}" data-uploads="${t.uploads.length}" data-peak="${t.peak}" data-down="${t.down.length}">`,
    `<rect class="lane-bg${index % 2 ? ' odd' : ''}" x="0" y="${top}" width="${LAYOUT.width}" height="${height}"/>`,
    down,
    `<text class="lane-label" x="8" y="${top + Math.min(height / 2, 16) + 4}"><title>${escapeHtml(t.target)}</title>${escapeHtml(label)}</text>`,
    height >= 30 ? `<text class="lane-sub" x="8" y="${top + 30}">${formatCount(t.uploads.length)} uploads · peak ${t.peak} at once${limitText}</text>` : '',
    bars,
    limitLine(t, top + height - PAD, rows, h, scale),
    '</g>',
  ].join('');
}

/**
 * The target's limit as a step line over its lanes, one sub-lane a unit while the limit
 * fits the lane (a bar never sits above the line while the fleet kept to the limit), and
 * its scale (0 and the top) at the right edge. A fixed --per-target N is a flat line at N.
 */
function limitLine(t: TargetStats, bottom: number, rows: number, h: number, scale: TimeScale): string {
  if (t.limits.length === 0) return '';
  const top = Math.max(rows, limitMax(t));
  const unit = ((h + 2) * rows) / top;
  const y = (limit: number) => px(bottom - limit * unit - 1);
  const steps = onePerPixel(t.limits, scale);
  let d = `M${px(scale.x(steps[0].start))} ${y(steps[0].limit)}`;
  for (const [i, l] of steps.entries()) d += `${i > 0 ? `V${y(l.limit)}` : ''}H${px(scale.x(l.end))}`;
  const tip = `limit on uploads in flight: ${t.limits.slice(0, 40).map((l) => `${l.limit} from ${formatOffset(l.start - scale.t0, 1)}`).join(', ')}${t.limits.length > 40 ? ', …' : ''}`;
  const axisX = LAYOUT.width - LAYOUT.right + 4;
  const labels = rows * (h + 2) >= 24 ? [top, 0] : [top]; // 0 too where the lane has room for two labels
  return `<g class="limit-scale"><line x1="${axisX}" x2="${axisX}" y1="${y(top)}" y2="${y(0)}"/>${labels
    .map((v) => `<text x="${LAYOUT.width - 2}" y="${px(Number(y(v)) + (v === 0 ? 0 : 8))}">${v}</text>`).join('')}</g>`
    + `<path class="limit" d="${d}" data-min="${limitMin(t)}" data-max="${limitMax(t)}" data-steps="${t.limits.length}"><title>${escapeHtml(tip)}</title></path>`;
}

/**
 * Steps that start within one pixel column merge, keeping the highest limit there (so no
 * bar in that column is drawn above the line): an adaptive limit that moved at every one
 * of 100,000 tries still draws as at most one step per pixel.
 */
function onePerPixel(steps: readonly LimitStep[], scale: TimeScale): LimitStep[] {
  const out: LimitStep[] = [];
  let column = Number.NaN;
  for (const s of steps) {
    const here = Math.floor(scale.x(s.start));
    const last = out[out.length - 1];
    if (last && here === column) {
      last.limit = Math.max(last.limit, s.limit);
      last.end = s.end;
    } else if (last && last.limit === s.limit) {
      last.end = s.end;
    } else {
      out.push({ ...s });
      column = here;
    }
  }
  return out;
}

const senderColour = (sender: number): number => sender % SENDER_COLOURS.length;

function bar(u: TimedUpload, scale: TimeScale, y: number, h: number): string {
  const x = scale.x(u.start);
  const w = Math.max(1, scale.x(u.end) - x);
  const what = u.attempt
    ? `attempt ${u.attempt.attempt} of ${u.row.attempts}: ${u.attempt.outcome}${u.attempt.error ? ` (${u.attempt.error})` : ''}; the file ${u.row.status}`
    : `${u.row.status}, ${u.row.attempts} attempt${u.row.attempts === 1 ? '' : 's'}`;
  const tip = `${u.row.filePath}\n${what}, ${u.end - u.start} ms\n`
    + `${formatOffset(u.start - scale.t0, 1)} → ${formatOffset(u.end - scale.t0, 1)}`;
  const by = u.sender === undefined ? '' : ` s${senderColour(u.sender)}`;
  return `<rect class="bar${by}${u.failed ? ' failed' : ''}${u.attempt?.outcome === 'retried' ? ' retried' : ''}"${u.sender === undefined ? '' : ` data-sender="${u.sender}"`} x="${px(x)}" y="${y}" width="${px(w)}" height="${h}"><title>${escapeHtml(tip)}</title></rect>`;
}

/**
 * One rect per run of bars (same sub-lane, same outcome) that touch on screen. Failed
 * runs take the top half of their sub-lane: at this density a single failure still
 * spans a whole pixel, and full height would paint a mostly healthy lane red.
 */
function mergedBars(uploads: readonly TimedUpload[], scale: TimeScale, rowY: (u: TimedUpload) => number, h: number): string {
  interface Run { x0: number; x1: number; y: number; count: number; from: number; to: number; failed: boolean; sender?: number }
  const open = new Map<string, Run>();
  const ok: string[] = [];
  const bad: string[] = [];
  const flush = (r: Run) => {
    const tip = `${r.count} ${r.failed ? 'failed ' : ''}upload${r.count === 1 ? '' : 's'}, ${formatOffset(r.from - scale.t0, 1)} → ${formatOffset(r.to - scale.t0, 1)}`;
    (r.failed ? bad : ok).push(`<rect class="bar agg${r.sender === undefined ? '' : ` s${senderColour(r.sender)}`}${r.failed ? ' failed' : ''}" data-count="${r.count}" x="${px(r.x0)}" y="${r.y}" width="${px(Math.max(1, r.x1 - r.x0))}" height="${r.failed ? Math.ceil(h / 2) : h}"><title>${tip}</title></rect>`);
  };
  for (const u of uploads) {
    const key = `${u.sublane}:${u.failed}:${u.sender ?? ''}`;
    const x0 = scale.x(u.start);
    const x1 = Math.max(x0 + 1, scale.x(u.end));
    const run = open.get(key);
    if (run && x0 <= run.x1 + 1) {
      run.x1 = Math.max(run.x1, x1);
      run.to = Math.max(run.to, u.end);
      run.count++;
      continue;
    }
    if (run) flush(run);
    open.set(key, { x0, x1, y: rowY(u), count: 1, from: u.start, to: u.end, failed: u.failed, sender: u.sender });
  }
  for (const r of open.values()) flush(r);
  // failed runs last, drawn on top of the uploads around them
  return ok.join('') + bad.join('');
}
