import type { Summary } from '../types.js';
import { formatBytes, formatDuration } from '../units.js';

/** The human summary printed on stdout at the end of `fanout upload`. */
export function formatSummary(s: Summary): string {
  const lines = [
    `batch ${s.batchId} ${s.status}: ${s.total} files, ${s.uploaded} uploaded, ${s.failed} failed, ${s.skipped} skipped, ${s.pending} pending; ${formatBytes(s.bytes)} in ${formatDuration(s.durationMs)}`,
    ...(s.reason === undefined ? [] : [`  stopped early: ${s.reason}`]),
    ...Object.entries(s.targets).map(([t, v]) => `  ${t}  ${v.uploaded} uploaded  ${v.failed} failed  ${formatBytes(v.bytes)}`),
  ];
  const walked = { loops: s.loops, excluded: s.excluded, 'too young': s.tooYoung, 'not regular': s.notRegular };
  const left = Object.entries(walked).filter(([, n]) => n > 0).map(([what, n]) => `${what} ${n}`);
  if (left.length > 0) lines.push(`  left out by the walk, not counted above: ${left.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
