import { formatDuration } from '../units.js';
import type { Measured } from './measureRun.js';

/** One of the demo's three runs, as the table shows it. */
export interface DemoRun extends Omit<Measured, 'stored'> {
  name: 'one-at-a-time' | 'all-at-once' | 'fanout';
  label: string;
  /** files this run sent (the sequential run sends a sample) */
  files: number;
  /** for the whole set: measured, or extrapolated from the sample */
  estimatedMs: number;
  extrapolated: boolean;
  filesPerSec: number;
  /** estimatedMs of one-at-a-time over this run's */
  speedup: number;
}

/** The demo's outcome: its set-up, its three runs, the report. */
export interface DemoResult {
  files: number;
  fileBytes: number;
  hosts: number;
  delayMs: number;
  slots: number;
  perTarget: number;
  runs: [DemoRun, DemoRun, DemoRun];
  batchId: string;
  report: string;
  wallMs: number;
}


const n = (x: number) => x.toLocaleString('en-US');

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
}

/** The side-by-side table of the three runs. */
export function formatTable(r: DemoResult): string {
  const peak = (x: number | null) => (x === null ? 'n/a' : n(x));
  const head = ['', 'time', 'files/s', 'speed-up', 'sockets', 'open files', 'requests at hosts'];
  const rows = r.runs.map((run: DemoRun) => [
    run.extrapolated ? `${run.label} *` : run.label,
    `${run.extrapolated ? '~' : ''}${formatDuration(run.estimatedMs)}`,
    n(Math.round(run.filesPerSec)),
    `${run.speedup.toFixed(1)}x`,
    peak(run.peakSockets),
    peak(run.peakFiles),
    `${n(run.peakOpenAtHosts)} (${n(run.peakPerHost)} at one)`,
  ]);
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((cells) => cells[i].length)));
  const seq = r.runs.find((x) => x.extrapolated);
  return [
    row(head, widths),
    ...rows.map((cells) => row(cells, widths)),
    '',
    ...(seq ? [`* measured on the first ${n(seq.files)} files (${formatDuration(seq.timeMs)}) and extrapolated to ${n(r.files)}:`, '  the whole loop would eat most of a one-minute demo.'] : []),
    'sockets, open files: the most this process held at once (to the hosts; of the source files),',
    '  read from /proc/self/fd every 10 ms.',
    'requests at hosts: each host\'s peak of requests accepted and not yet answered (queued',
    '  included), summed over the hosts; in brackets the most at one host.',
  ].join('\n');
}

/** Words to lines of at most `width` characters. */
export function wrap(text: string, width = 90): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n');
}

/** The closing lines: what the numbers say. */
export function formatMoral(r: DemoResult): string {
  const [seq, all, fan] = r.runs;
  const held = (x: DemoRun) => (x.peakSockets === null ? '' : `${n(x.peakSockets)} sockets and ${n(x.peakFiles ?? 0)} open ${x.peakFiles === 1 ? 'file' : 'files'} at once`);
  return [
    wrap(`One at a time leaves ${r.hosts - 1} of the ${r.hosts} hosts idle at any moment: ~${formatDuration(seq.estimatedMs)} for ${n(r.files)} files.`),
    wrap(`Everything at once is ${all.speedup.toFixed(1)}x faster, but it held ${held(all) || 'a socket per file'} and piled up to ${n(all.peakPerHost)} requests on one host. All of that grows with the batch, and there is no limit, no retry, no resume and no record.`),
    wrap(`fanout is ${fan.speedup.toFixed(1)}x faster${held(fan) ? ` with ${held(fan)}` : ''} and at most ${n(fan.peakPerHost)} requests open at a host, and every upload is recorded in SQL.`),
  ].join('\n');
}
