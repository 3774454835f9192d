import { formatBytes } from '../units.js';
import type { ProgressView, TargetView } from './progressTracker.js';

/** "≥412" while the background count runs, "1000" once it is done. */
export function formatTotal(v: Pick<ProgressView, 'total' | 'totalExact'>): string {
  return `${v.totalExact ? '' : '≥'}${v.total}`;
}

export function formatEta(sec: number | null): string {
  if (sec === null || !Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Fixed width: " 205 files/s  3.4 MB/s". */
export function formatRate(v: Pick<ProgressView, 'filesPerSec' | 'bytesPerSec'>): string {
  return `${v.filesPerSec.toFixed(v.filesPerSec < 10 ? 1 : 0).padStart(4)} files/s ${(v.bytesPerSec / 1e6).toFixed(1).padStart(4)} MB/s`;
}

/** The fill of a bar of `size` cells (0..1 of it done). */
export function barCells(fraction: number, size: number): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * size);
  return '█'.repeat(full) + '░'.repeat(size - full);
}

/**
 * The overall line, fitted to `width` columns by the size of its bar (8 to 40 cells; 80
 * columns leave it 11). Fields keep their width from frame to frame, so the bar does not
 * jitter; it fills only against a known total.
 *
 *   files [█████░░░░░░] 412/1000   6.6 MB  205 files/s  3.4 MB/s ETA 3s  failed 0
 */
export function formatOverall(v: ProgressView, width = 100): string {
  const total = formatTotal(v);
  const head = `${String(v.done).padStart(total.replace('≥', '').length)}/${total}`;
  const tail = [formatBytes(v.bytes).padStart(8), formatRate(v), `ETA ${formatEta(v.etaSec).padEnd(3)}`, `failed ${v.failed}`].join(' ');
  const size = Math.min(40, Math.max(8, width - 1 - `files [] ${head} ${tail}`.length));
  return `files [${barCells(v.totalExact && v.total > 0 ? v.done / v.total : 0, size)}] ${head} ${tail}`;
}

/**
 * In flight against the target's limit (adaptive: it moves), then its recent throughput
 * and latency, "-" until measured; as wide before the first sample as after.
 *
 *   http://127.0.0.1:4001  up    in flight  2/4   done   200  failed   0  3.3 MB   1.2 MB/s   42 ms
 */
export function formatTarget(t: TargetView, urlWidth = t.target.length): string {
  const n = (x: number, w: number) => String(x).padStart(w);
  const inFlight = t.limit === undefined ? n(t.inFlight, 2) : `${n(t.inFlight, 2)}/${t.limit}`.padEnd(5);
  const base = `  ${t.target.padEnd(urlWidth)}  ${t.up ? 'up  ' : 'DOWN'}  in flight ${inFlight}  done ${n(t.uploaded, 5)}  failed ${n(t.failed, 3)}  ${formatBytes(t.bytes)}`;
  if (t.limit === undefined) return base;
  const rate = t.bytesPerSec === undefined ? '-' : (t.bytesPerSec / 1e6).toFixed(1);
  const latency = t.latencyMs === undefined ? '-' : Math.round(t.latencyMs).toString();
  return `${base} ${rate.padStart(5)} MB/s ${latency.padStart(4)} ms`;
}
