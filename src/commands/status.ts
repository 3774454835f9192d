import type { CommandModule } from 'yargs';
import { ConfigError } from '../errors.js';
import { redactDbUrl } from '../store/createStore.js';
import type { BatchRow, FileCounts, RunRow, Store } from '../store/types.js';
import { doneByWorker } from '../store/claimQueries.js';
import { targetHolders } from '../store/targetLeaseQueries.js';
import { listWorkers } from '../store/workerQueries.js';
import type { CliContext } from './context.js';
import { formatBytes, formatDuration } from '../units.js';
import { single } from './options.js';
import { DB_OPTION, dbUrl, withStore } from './withStore.js';

/** How many batches the list shows, and how many failed files a batch shows. */
export const STATUS_LIMITS = { batches: 20, failures: 50 } as const;

interface StatusArgs {
  db?: string;
  batchId?: string;
  json?: boolean;
}

const clock = (ms: number | null) => (ms === null ? '—' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
const NO_FILES: FileCounts = { total: 0, pending: 0, uploaded: 0, failed: 0, bytes: 0 };

/**
 * A batch's run time: the sum of its runs' durations (time spent running, not the days
 * between a run and its resume); null while a run is going. A batch recorded before
 * runs were kept (no run rows) has its first start to last end.
 */
function runTimeOf(b: BatchRow, runs: readonly RunRow[]): number | null {
  if (b.status === 'running') return null;
  if (runs.length === 0) return b.finishedAt === null ? null : b.finishedAt - b.startedAt;
  return runs.reduce((sum, r) => sum + (r.finishedAt === null ? 0 : r.finishedAt - r.startedAt), 0);
}
const lastRunOf = ({ total, uploaded, failed, skipped, bytes }: BatchRow) => ({ total, uploaded, failed, skipped, bytes });
/** Database text on a terminal: no control characters (a file name may hold a newline or an escape). */
const clean = (s: string, max = Number.POSITIVE_INFINITY) => {
  const t = s.replace(/\p{Cc}/gu, ' ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};

/** Columns padded to their widest cell; numbers (the columns flagged) aligned right. */
function table(header: string[], rows: string[][], right: boolean[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].map((l) => `  ${l}\n`).join('');
}

function batchJson(b: BatchRow, files: FileCounts, runs: readonly RunRow[]) {
  const { id, status, sourceDir, targets, assign, startedAt, finishedAt } = b;
  return { id, status, sourceDir, targets, assign, startedAt, finishedAt, runs: runs.length, runTimeMs: runTimeOf(b, runs), ...files, lastRun: lastRunOf(b) };
}

async function listBatches(ctx: CliContext, store: Store, db: string, json: boolean): Promise<void> {
  const batches = await store.listBatches(STATUS_LIMITS.batches);
  const files = await store.countFilesOf(batches.map((b) => b.id));
  const runs = new Map(await Promise.all(batches.map(async (b) => [b.id, await store.listRuns(b.id)] as const)));
  const filesOf = (b: BatchRow) => files.get(b.id) ?? NO_FILES;
  if (json) {
    ctx.stdout.write(`${JSON.stringify({ batches: batches.map((b) => batchJson(b, filesOf(b), runs.get(b.id) ?? [])) })}\n`);
    return;
  }
  if (batches.length === 0) {
    ctx.stdout.write(`no batches in ${redactDbUrl(db)}\n`);
    return;
  }
  const rows = batches.map((b) => {
    const r = runs.get(b.id) ?? [];
    const d = runTimeOf(b, r);
    const f = filesOf(b);
    return [clean(b.id), b.status, clock(b.startedAt), String(r.length), d === null ? (b.status === 'running' ? 'running' : '—') : formatDuration(d),
      String(f.total), String(f.uploaded), String(f.failed), String(f.pending), formatBytes(f.bytes)];
  });
  ctx.stdout.write(`recent batches (newest first, at most ${STATUS_LIMITS.batches}; files counted from each batch's rows over all its runs; run time: the sum of its runs):\n`);
  ctx.stdout.write(table(['id', 'status', 'started', 'runs', 'run time', 'files', 'uploaded', 'failed', 'pending', 'bytes'], rows,
    [false, false, false, true, true, true, true, true, true, true]));
}

async function showBatch(ctx: CliContext, store: Store, batchId: string, json: boolean): Promise<void> {
  const batch = await store.getBatch(batchId);
  if (!batch) throw new ConfigError(`unknown batch "${batchId}"`);
  const files = await store.countFiles(batchId);
  const targets = await store.targetCounts(batchId);
  const failures = await store.listFiles(batchId, { status: 'failed', limit: STATUS_LIMITS.failures });
  const calls = await store.countCalls(batchId);
  const runs = await store.listRuns(batchId);
  const runTimeMs = runTimeOf(batch, runs);
  const workers = await workersOf(store, batchId);
  if (json) {
    ctx.stdout.write(`${JSON.stringify({
      batchId, status: batch.status, sourceDir: batch.sourceDir, assign: batch.assign,
      startedAt: batch.startedAt, finishedAt: batch.finishedAt, runTimeMs,
      ...files, calls,
      targets: Object.fromEntries(targets.map(({ target, ...c }) => [target, c])),
      failures: failures.map(({ filePath, target, attempts, error, finishedAt }) => ({ filePath, target, attempts, error, finishedAt })),
      runs: runs.map(({ id: _id, batchId: _b, ...r }) => ({ ...r, durationMs: r.finishedAt === null ? null : r.finishedAt - r.startedAt })),
      lastRun: lastRunOf(batch),
      workers,
    })}\n`);
    return;
  }
  const took = runTimeMs === null ? '' : `  (run time ${formatDuration(runTimeMs)}${runs.length > 0 ? `, the sum of ${runs.length} run${runs.length === 1 ? '' : 's'}` : ''})`;
  const out = [
    `batch ${clean(batch.id)} ${batch.status}\n`,
    `  dir ${clean(batch.sourceDir)}  assign ${batch.assign}\n`,
    `  started ${clock(batch.startedAt)}  finished ${clock(batch.finishedAt)}${took}\n`,
    `  files ${files.total}: ${files.uploaded} uploaded, ${files.failed} failed, ${files.pending} pending; ${formatBytes(files.bytes)} uploaded; ${calls} calls\n`,
  ];
  if (runs.length > 0) {
    out.push('\nruns (each run\'s own counts):\n', table(['#', 'started', 'finished', 'took', 'host', 'pid', 'status', 'total', 'uploaded', 'failed', 'skipped', 'bytes'],
      runs.map((r, i) => [String(i + 1), clock(r.startedAt), clock(r.finishedAt), r.finishedAt === null ? '—' : formatDuration(r.finishedAt - r.startedAt),
        clean(r.host), String(r.pid), r.status, String(r.total), String(r.uploaded), String(r.failed), String(r.skipped), formatBytes(r.bytes)]),
      [true, false, false, true, false, true, false, true, true, true, true, true]));
  }
  if (targets.length > 0) {
    out.push('\n', table(['target', 'uploaded', 'failed', 'pending', 'bytes'],
      targets.map((t) => [clean(t.target), String(t.uploaded), String(t.failed), String(t.pending), formatBytes(t.bytes)]), [false, true, true, true, true]));
  }
  if (workers.length > 0) {
    out.push('\nworkers:\n', table(['host', 'pid', 'last heartbeat', 'targets held', 'files done', 'state'],
      workers.map((w) => [clean(w.host), String(w.pid), clock(w.heartbeatAt), String(w.targets.length), String(w.done), w.state]), [false, true, false, true, true, false]));
  }
  if (failures.length > 0) {
    const shown = files.failed > failures.length ? `first ${failures.length} of ${files.failed}` : String(files.failed);
    out.push(`\nfailed files (${shown}):\n`, table(['file', 'target', 'attempts', 'error'],
      failures.map((f) => [clean(f.filePath), clean(f.target ?? '—'), String(f.attempts), clean(f.error ?? '', 160)]), [false, false, true, false]));
  }
  ctx.stdout.write(out.join(''));
}

export function statusCommand(ctx: CliContext): CommandModule<object, StatusArgs> {
  return {
    command: 'status',
    describe: 'list recent batches, or show one batch from the database',
    builder: (y) =>
      y
        .option('db', DB_OPTION)
        .option('batch-id', { type: 'string', nargs: 1, coerce: single('batch-id'), describe: 'show this batch: counts per target and failed files' })
        .option('json', { type: 'boolean', describe: 'print one JSON object on stdout' }),
    handler: async (argv) => {
      const db = dbUrl(ctx, argv.db);
      await withStore(ctx, db, (store) =>
        argv.batchId === undefined ? listBatches(ctx, store, db, argv.json === true) : showBatch(ctx, store, argv.batchId, argv.json === true),
      { readOnly: true });
      ctx.exitCode = 0;
    },
  };
}

/** `fanout work` processes of the batch: alive while they heartbeat (within 30 s), stopped or gone after. */
async function workersOf(store: Store, batchId: string) {
  const [workers, done, holders] = await Promise.all([listWorkers(store.knex, batchId), doneByWorker(store.knex, batchId), targetHolders(store.knex, batchId)]);
  const now = Date.now();
  return workers.map((w) => ({
    host: w.host, pid: w.pid, heartbeatAt: w.heartbeatAt,
    targets: holders.filter((h) => h.holder === w.id).map((h) => h.target),
    done: done.get(w.id) ?? 0,
    state: w.stoppedAt === null && now - w.heartbeatAt < 30_000 ? 'alive' : w.stoppedAt !== null && w.stoppedAt > w.heartbeatAt ? 'stopped' : 'gone',
  }));
}
