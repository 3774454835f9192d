import type { AttemptRow } from '../store/types.js';
import type { WorkerRow } from '../store/workerQueries.js';

/** Distinct bar colours for senders; past this many, colours repeat (the legend still lists each). */
export const SENDER_COLOURS = ['#3b82c4', '#2ca02c', '#9467bd', '#17becf', '#8c564b', '#e377c2', '#bcbd22', '#7f7f7f', '#1b3f73', '#5fd35f'] as const;

/** A process that sent uploads of the batch: a `fanout work` (or watch) worker, or null for a run that was none. */
export interface Sender {
  /** the worker id; null for tries no worker made (a plain `fanout upload`) */
  id: string | null;
  host: string | null;
  pid: number | null;
  /** "host · pid 1234", the id when the worker row is gone, or "fanout upload (no worker)" */
  label: string;
  /** tries it made */
  uploads: number;
  /** index into SENDER_COLOURS */
  colour: number;
}

/**
 * Who sent the tries, per try (a file re-claimed after its worker died has tries by two
 * workers). One sender (a plain `fanout upload`, one worker) gives none: the page then
 * looks as it always did. Otherwise workers in start order, ids without a row after,
 * tries made by no worker last; `of` maps a try to its sender's index.
 */
export function sendersOf(tries: readonly (AttemptRow | undefined)[], workers: readonly WorkerRow[] = []): { senders: Sender[]; of: (a: AttemptRow | undefined) => number | undefined } {
  const counts = new Map<string | null, number>();
  for (const a of tries) {
    const id = a?.workerId ?? null;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  if (counts.size < 2) return { senders: [], of: () => undefined };
  const known = workers.filter((w) => counts.has(w.id)).sort((a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : 1));
  const rows = new Map(known.map((w) => [w.id, w]));
  const unknown = [...counts.keys()].filter((id): id is string => id !== null && !rows.has(id)).sort();
  const ids: (string | null)[] = [...known.map((w) => w.id), ...unknown, ...(counts.has(null) ? [null] : [])];
  const senders = ids.map((id, i): Sender => {
    const w = id === null ? undefined : rows.get(id);
    const label = w ? `${w.host} · pid ${w.pid}` : id ?? 'fanout upload (no worker)';
    return { id, host: w?.host ?? null, pid: w?.pid ?? null, label, uploads: counts.get(id) ?? 0, colour: i % SENDER_COLOURS.length };
  });
  const index = new Map(ids.map((id, i) => [id, i]));
  return { senders, of: (a) => index.get(a?.workerId ?? null) };
}
