import { SENDER_COLOURS } from './senders.js';

/** The report's whole stylesheet: system fonts only, nothing fetched. Sender colours come before failed and retried, which win. */
export const REPORT_CSS = `
:root { --ok: #3b82c4; --failed: #d62728; --ink: #1f2933; --muted: #66727f; --line: #d9dee3; --band: #f5f7f9; --meter: #dbe8f5; }
* { box-sizing: border-box; }
body { margin: 24px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; }
h1 { font-size: 22px; margin: 0 0 12px; word-break: break-all; }
h2 { font-size: 17px; margin: 28px 0 8px; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
.status { font-size: 13px; padding: 2px 8px; border-radius: 10px; vertical-align: middle; background: #e6ebef; }
.status-completed { background: #d8f0de; } .status-completed_with_failures, .status-failed { background: #fbdada; }
.status-interrupted, .status-running { background: #fdf0c8; }
#summary { display: flex; flex-wrap: wrap; gap: 8px; margin: 0; }
#summary div { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; min-width: 110px; }
#summary dt { font-size: 12px; color: var(--muted); } #summary dd { margin: 0; font-size: 16px; font-variant-numeric: tabular-nums; }
.meta, .note, footer { color: var(--muted); } footer { margin-top: 32px; font-size: 12px; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
svg { display: block; font-size: 11px; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .tick { fill: var(--muted); text-anchor: middle; } svg .ytick { fill: var(--muted); text-anchor: end; }
svg .ylabel, svg .lane-sub { fill: var(--muted); }
svg .lane-bg { fill: #fff; } svg .lane-bg.odd { fill: var(--band); }
svg .lane-label { fill: var(--ink); font-size: 12px; }
svg .bar, svg .tp-ok { fill: var(--ok); }
${SENDER_COLOURS.map((c, i) => `svg .bar.s${i} { fill: ${c}; } .swatch.s${i} { background: ${c}; }`).join('\n')}
svg .bar.failed, svg .tp-failed { fill: var(--failed); } svg .bar.retried { fill: #f0a35e; } svg .down { fill: #fde2e1; fill-opacity: 0.8; }
svg .limit { fill: none; stroke: var(--ink); stroke-width: 1.5; stroke-opacity: 0.85; }
svg .limit-scale line { stroke: var(--muted); } svg .limit-scale text { fill: var(--muted); font-size: 9px; text-anchor: end; }
#senders { list-style: none; padding: 0; margin: 0 0 8px; display: flex; flex-wrap: wrap; gap: 4px 16px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -1px; margin-right: 4px; }
svg .bar:hover, svg .bucket:hover rect { opacity: 0.6; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
thead th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
th.target, td.file, td.target { word-break: break-all; max-width: 420px; }
td.error { word-break: break-word; max-width: 520px; }
#failures td.error { color: #8a1f1f; }
`;
