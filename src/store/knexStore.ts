import type { Knex } from 'knex';
import type { Logger } from '../logger.js';
import type { Dialect } from './parseDbUrl.js';
import { FanoutMigrationSource } from './migrationSource.js';
import {
  CALL_MERGE_COLUMNS, FILE_MERGE_COLUMNS, fromBatchRecord, fromFileRecord, fromProcessRecord, pathKey, toBatchRecord, toCallRecord,
  toFileRecord, type BatchRecord, type FileRecord, type ProcessRecord,
} from './rows.js';
import { fromRunRecord, toAttemptRecord, toRunRecord } from './historyRows.js';
import type {
  AttemptRow, BatchCounts, BatchRow, CallRow, FileCounts, FileRow, FileStatus, ProcessRow, RunEnd, RunRow, Store, TargetCounts, TargetEventRow,
} from './types.js';

/** SQLite builds a multi-row insert as a compound SELECT, which takes at most 500 terms. */
export const MAX_ROWS_PER_STATEMENT = 500;

const KEY = ['batch_id', 'path_key'] as const;

function chunks<T>(items: readonly T[], size = MAX_ROWS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Statement sizes the upserts use, so a handful of compiled statements serve every batch. */
const SHAPES = [MAX_ROWS_PER_STATEMENT, 256, 128, 64, 32, 16, 8, 4, 2, 1];

/**
 * Split into chunks whose sizes are all in SHAPES (largest first). On SQLite, building
 * and preparing the statement is most of a write's cost, so a few cached shapes win;
 * on MySQL each statement is a round trip, so there it is plain 500-row chunks.
 */
function shapedChunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; ) {
    const size = SHAPES.find((n) => n <= items.length - i) as number;
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}

interface Upsert {
  table: string;
  records: readonly Record<string, unknown>[];
  /** columns that take the new row's value on conflict; null: a plain insert (rows that are only ever added) */
  merge: readonly string[] | null;
  /** on conflict, before `merge`: column -> SQL expression without bindings (see compileUpsert) */
  setFirst?: Readonly<Record<string, string>>;
}

/** `delete from <table> where batch_id = ? and path_key in (...)`, in the same transaction as the upserts. */
interface Removal {
  table: string;
  batchId: string;
  keys: readonly string[];
}

/** The part of better-sqlite3's Database this store uses. */
interface SqliteConnection {
  prepare(sql: string): { run(params: unknown[]): unknown };
  transaction(fn: () => void): () => void;
}

/** Row-major bindings of a multi-row insert, in the column order knex compiled. */
function bindingsOf(part: readonly Record<string, unknown>[], columns: readonly string[]): unknown[] {
  const out: unknown[] = [];
  for (const r of part) for (const c of columns) out.push(r[c] ?? null);
  return out;
}

interface Compiled {
  sql: string;
  /** column order of one row's bindings */
  columns: string[];
}

/**
 * knex's own `insert ... on conflict (batch_id, path_key) merge` for n rows of these columns.
 * `setFirst` sets columns from SQL expressions, ahead of the merged ones: MySQL applies
 * `on duplicate key update` assignments left to right, so only there does an expression
 * still see the row's old values. They take no bindings: the statement's bindings are
 * the rows' values only (bindingsOf), whatever its shape.
 */
export function compileUpsert(
  knex: Knex, table: string, columns: readonly string[], n: number, merge: readonly string[] | null, setFirst?: Readonly<Record<string, string>>,
): Compiled {
  // compile with marker values, so the bindings of row 0 say the column order knex chose
  const markers = Array.from({ length: n }, (_, i) => Object.fromEntries(columns.map((col) => [col, `${i}\0${col}`])));
  const columnsOf = (bindings: readonly unknown[]) => (bindings as string[]).slice(0, columns.length).map((b) => b.split('\0')[1]);
  if (merge === null) {
    const q = knex(table).insert(markers).toSQL();
    return { sql: q.sql, columns: columnsOf(q.bindings) };
  }
  const mysql = (knex.client as Knex.Client).dialect === 'mysql';
  const updates = setFirst
    ? {
        ...Object.fromEntries(Object.entries(setFirst).map(([col, sql]) => [col, knex.raw(sql)])),
        ...Object.fromEntries(merge.map((col) => [col, knex.raw(mysql ? 'values(??)' : 'excluded.??', [col])])),
      }
    : [...merge];
  const q = knex(table).insert(markers).onConflict([...KEY]).merge(updates).toSQL();
  return { sql: q.sql, columns: columnsOf(q.bindings) };
}

/**
 * Every n-row upsert from three of knex's compiles, by repetition. knex writes a multi-row
 * insert as a head, one term per row and a tail (SQLite: `select ? as a, ... union all select
 * ...`; MySQL: `values (?, ...), (?, ...)`), so the 3-row statement is the 2-row one with one
 * more term, and n rows are n - 2 more. Compiling a 500-row statement through knex costs
 * ~35 ms; each shape used to pay it once per run. Checked against knex's own 5-row
 * statement: where the repetition does not hold, null (the caller compiles through knex).
 */
export function upsertTemplate(compileRows: (n: number) => Compiled): ((n: number) => Compiled) | null {
  const [one, two, three, five] = [1, 2, 3, 5].map(compileRows);
  let at = 0;
  while (at < two.sql.length && two.sql[at] === three.sql[at]) at++;
  const term = three.sql.slice(at, at + three.sql.length - two.sql.length);
  const sqlFor = (n: number) => (n === 1 ? one.sql : two.sql.slice(0, at) + term.repeat(n - 2) + two.sql.slice(at));
  const sameColumns = [two, three, five].every((c) => c.columns.join() === one.columns.join());
  if (!sameColumns || sqlFor(3) !== three.sql || sqlFor(5) !== five.sql) return null;
  return (n) => ({ sql: sqlFor(n), columns: one.columns });
}

/** Last row wins for a repeated (batch, path), so one statement never hits its own row twice. */
function lastPerKey<T extends { batch_id: string; path_key: string }>(rows: readonly T[]): T[] {
  return [...new Map(rows.map((r) => [`${r.batch_id}\0${r.path_key}`, r])).values()];
}

/** The Store on knex: the same queries on SQLite and MySQL/MariaDB. */
export class KnexStore implements Store {
  /** multi-row upsert SQL by (table, columns, merge) and row count: one string per shape, so SQLite's statement cache hashes it once */
  private readonly compiled = new Map<string, Compiled>();
  /** per (table, columns, merge): n-row SQL without knex, or null where knex's output is not regular */
  private readonly templates = new Map<string, ((n: number) => Compiled) | null>();
  private txCount = 0;
  /** SQLite: prepared statements by SQL, per connection */
  private readonly prepared = new WeakMap<SqliteConnection, Map<string, { run(params: unknown[]): unknown }>>();

  constructor(
    readonly knex: Knex,
    readonly dialect: Dialect,
    private readonly logger: Logger,
  ) {}

  async migrate(): Promise<void> {
    const [, applied] = (await this.knex.migrate.latest({ migrationSource: new FanoutMigrationSource() })) as [number, string[]];
    if (applied.length > 0) this.logger.info('database migrated', { migrations: applied });
  }

  async schemaState(): Promise<'missing' | 'older' | 'current'> {
    // knex's own migrate.status() creates its bookkeeping tables: a reader only looks
    if (!(await this.knex.schema.hasTable('knex_migrations'))) return 'missing';
    const applied = new Set((await this.knex('knex_migrations').select('name')).map((r: { name: unknown }) => String(r.name)));
    if (applied.size === 0) return 'missing';
    const known = await new FanoutMigrationSource().getMigrations();
    return known.every((m) => applied.has(m.name)) ? 'current' : 'older';
  }

  async ping(): Promise<void> {
    await this.knex.raw('select 1');
  }

  async close(): Promise<void> {
    await this.knex.destroy();
  }

  async createBatch(batch: BatchRow): Promise<void> {
    await this.knex<BatchRecord>('batches').insert(toBatchRecord(batch));
  }

  async getBatch(id: string): Promise<BatchRow | undefined> {
    const row = await this.knex<BatchRecord>('batches').where({ id }).first();
    return row && fromBatchRecord(row);
  }

  async updateBatch(id: string, c: BatchCounts): Promise<void> {
    await this.knex<BatchRecord>('batches').where({ id }).update({
      status: c.status, total: c.total, uploaded: c.uploaded, failed: c.failed,
      skipped: c.skipped, bytes: c.bytes, finished_at: c.finishedAt,
    });
  }

  async listBatches(limit?: number): Promise<BatchRow[]> {
    const q = this.knex<BatchRecord>('batches').orderBy([{ column: 'started_at', order: 'desc' }, { column: 'id', order: 'desc' }]);
    if (limit !== undefined) q.limit(limit);
    return (await q).map(fromBatchRecord);
  }

  async findFiles(batchId: string, paths: readonly string[]): Promise<Map<string, FileRow>> {
    const found = new Map<string, FileRow>();
    // keyed by the caller's path, found through path_key: file_path may be a printable form
    const pathOf = new Map(paths.map((p) => [pathKey(p), p]));
    for (const part of chunks([...pathOf.keys()])) {
      const rows = await this.knex<FileRecord>('file_distributions').where('batch_id', batchId).whereIn('path_key', part);
      for (const row of rows) found.set(pathOf.get(row.path_key) ?? row.file_path, fromFileRecord(row));
    }
    return found;
  }

  async planPending(rows: readonly FileRow[]): Promise<void> {
    await this.write([this.fileUpserts(rows)]);
  }

  async recordOutcomes(rows: readonly FileRow[], calls: readonly CallRow[], attempts: readonly AttemptRow[] = [], trx?: Knex.Transaction): Promise<void> {
    // every uploaded file has a row and a call: its path is hashed once for both
    const keys = new Map<string, string>();
    const keyOf = (filePath: string) => keys.get(filePath) ?? keys.set(filePath, pathKey(filePath)).get(filePath)!;
    const files = this.fileUpserts(rows, keyOf);
    // a call follows its file's latest upload (target, bytes); a failed upload hands nothing off
    const removals = new Map<string, string[]>();
    for (const r of files.records as unknown as FileRecord[]) {
      if (r.status === 'failed') removals.set(r.batch_id, [...(removals.get(r.batch_id) ?? []), r.path_key]);
    }
    const callRecords = lastPerKey(calls.map((c) => toCallRecord(c, keyOf(c.filePath)))) as unknown as Record<string, unknown>[];
    const callUpsert: Upsert = { table: 'calls', records: callRecords, merge: CALL_MERGE_COLUMNS, setFirst: { status: this.callStatusOnConflict() } };
    const tries: Upsert = { table: 'upload_attempts', records: attempts.map((a) => toAttemptRecord(a, keyOf(a.filePath))), merge: null };
    await this.write([files, callUpsert, tries], [...removals].map(([batchId, ks]) => ({ table: 'calls', batchId, keys: ks })), trx);
  }

  async startRun(run: Omit<RunRow, 'id'>): Promise<number> {
    // both drivers answer an insert with the new row's id (no `returning` on MySQL)
    const [id] = await this.knex('batch_runs').insert(toRunRecord(run));
    return Number(id);
  }

  async finishRun(id: number, end: RunEnd): Promise<void> {
    const { status, total, uploaded, failed, skipped, bytes, finishedAt } = end;
    await this.knex('batch_runs').where({ id }).update({ status, total, uploaded, failed, skipped, bytes, finished_at: finishedAt });
  }

  async listRuns(batchId: string): Promise<RunRow[]> {
    return (await this.knex('batch_runs').where({ batch_id: batchId }).orderBy([{ column: 'started_at' }, { column: 'id' }])).map(fromRunRecord);
  }

  async recordTargetEvents(events: readonly TargetEventRow[]): Promise<void> {
    for (const part of chunks(events)) {
      await this.knex('target_events').insert(part.map((e) => ({ batch_id: e.batchId, target: e.target, state: e.state, at: e.at })));
    }
  }

  async listAttempts(batchId: string): Promise<AttemptRow[]> {
    const rows = await this.knex('upload_attempts as a')
      .join('file_distributions as f', (j) => j.on('f.batch_id', 'a.batch_id').andOn('f.path_key', 'a.path_key'))
      .where('a.batch_id', batchId)
      .orderBy([{ column: 'a.started_at' }, { column: 'a.id' }])
      .select<Record<string, unknown>[]>('f.file_path', 'a.target', 'a.attempt', 'a.started_at', 'a.finished_at', 'a.outcome', 'a.error', 'a.worker_id', 'a.target_limit');
    return rows.map((r) => ({
      batchId, filePath: String(r.file_path), target: String(r.target), attempt: Number(r.attempt), startedAt: Number(r.started_at),
      finishedAt: Number(r.finished_at), outcome: String(r.outcome) as AttemptRow['outcome'], error: r.error === null ? null : String(r.error),
      workerId: r.worker_id === null ? null : String(r.worker_id), targetLimit: r.target_limit === null ? null : Number(r.target_limit),
    }));
  }

  async listTargetEvents(batchId: string): Promise<TargetEventRow[]> {
    const rows = await this.knex('target_events').where({ batch_id: batchId }).orderBy([{ column: 'at' }, { column: 'id' }]);
    return rows.map((r: Record<string, unknown>) => ({ batchId, target: String(r.target), state: String(r.state) as 'down' | 'up', at: Number(r.at) }));
  }

  /**
   * A call keeps its status (the GPU stage's progress) while its bytes stay the same, and
   * is queued again for new bytes. An old call without a digest counts as other bytes.
   */
  private callStatusOnConflict(): string {
    const incoming = this.dialect === 'mysql' ? 'values(`sha256`)' : '"excluded"."sha256"';
    return `case when \`calls\`.\`sha256\` = ${incoming} then \`calls\`.\`status\` else 'queued' end`;
  }

  private fileUpserts(rows: readonly FileRow[], keyOf: (filePath: string) => string = pathKey): Upsert {
    const records = lastPerKey(rows.map((r) => toFileRecord(r, keyOf(r.filePath))));
    return { table: 'file_distributions', records: records as unknown as Record<string, unknown>[], merge: FILE_MERGE_COLUMNS };
  }

  /**
   * Removals, then `insert ... on conflict (batch_id, path_key) do update set <merge>`, all
   * in one transaction, multi-row statements.
   */
  private async write(upserts: readonly Upsert[], removals: readonly Removal[] = [], within?: Knex.Transaction): Promise<void> {
    if (this.dialect === 'sqlite' && !within) return this.writeSqlite(upserts, removals);
    // inside a caller's transaction (a worker's fenced write) or one of our own
    const inTransaction = within ? (fn: (trx: Knex.Transaction) => Promise<void>) => fn(within) : (fn: (trx: Knex.Transaction) => Promise<void>) => this.knex.transaction(fn);
    await inTransaction(async (trx) => {
      for (const { table, batchId, keys } of removals) {
        for (const part of chunks(keys)) await trx(table).where('batch_id', batchId).whereIn('path_key', part).del();
      }
      for (const upsert of upserts) {
        for (const part of chunks(upsert.records)) {
          const { sql, columns } = this.compile(upsert, part);
          await trx.raw(sql, bindingsOf(part, columns) as Knex.RawBinding[]);
        }
      }
    });
  }

  /**
   * SQLite: the same statements (compiled by knex, once per shape), run on knex's own
   * connection with better-sqlite3's prepared statements cached per shape. Through
   * knex.raw every batch paid a fresh prepare of a statement with up to 7,000 bindings
   * plus knex's binding rewrite: ~30 % of the write cost (measured on the throughput run).
   */
  private async writeSqlite(upserts: readonly Upsert[], removals: readonly Removal[]): Promise<void> {
    const client = this.knex.client as { acquireConnection(): Promise<SqliteConnection>; releaseConnection(c: SqliteConnection): Promise<void> };
    const conn = await client.acquireConnection();
    try {
      let cache = this.prepared.get(conn);
      if (!cache) this.prepared.set(conn, (cache = new Map()));
      const statements = cache;
      // knex's 'query' event, as knex would emit it, so query logging and tests still see every statement
      const txId = `sqlite-tx-${++this.txCount}`;
      const run = (sql: string, bindings: unknown[]) => {
        let st = statements.get(sql);
        if (!st) statements.set(sql, (st = conn.prepare(sql)));
        this.knex.emit('query', { sql, method: 'raw', __knexTxId: txId });
        // better-sqlite3 binds numbers, strings, bigints, buffers and null: booleans become 0/1
        st.run(bindings.map((v) => (typeof v === 'boolean' ? Number(v) : v)));
      };
      conn.transaction(() => {
        for (const { table, batchId, keys } of removals) {
          for (const part of shapedChunks(keys)) {
            const q = this.knex(table).where('batch_id', batchId).whereIn('path_key', part).del().toSQL();
            run(q.sql, [...q.bindings]);
          }
        }
        for (const upsert of upserts) {
          for (const part of shapedChunks(upsert.records)) {
            const { sql, columns } = this.compile(upsert, part);
            run(sql, bindingsOf(part, columns));
          }
        }
      })();
    } finally {
      await client.releaseConnection(conn);
    }
  }

  private compile({ table, merge, setFirst }: Upsert, part: readonly Record<string, unknown>[]): Compiled {
    const columns = Object.keys(part[0]);
    const tkey = `${table}\0${columns.join(',')}\0${merge?.join(',') ?? 'insert'}\0${JSON.stringify(setFirst ?? null)}`;
    const key = `${tkey}\0${part.length}`;
    let c = this.compiled.get(key);
    if (!c) {
      if (this.compiled.size >= 64) this.compiled.clear(); // MySQL batches come in any size
      let t = this.templates.get(tkey);
      if (t === undefined) this.templates.set(tkey, (t = upsertTemplate((n) => compileUpsert(this.knex, table, columns, n, merge, setFirst))));
      c = t?.(part.length) ?? compileUpsert(this.knex, table, columns, part.length, merge, setFirst);
      this.compiled.set(key, c);
    }
    return c;
  }

  async lookupProcess(id: number): Promise<ProcessRow | undefined> {
    const row = await this.knex<ProcessRecord>('processes').where({ id }).first();
    return row && fromProcessRecord(row);
  }

  async countFilesOf(batchIds: readonly string[]): Promise<Map<string, FileCounts>> {
    const out = new Map<string, FileCounts>();
    for (const part of chunks(batchIds)) {
      const rows = await this.knex('file_distributions').whereIn('batch_id', part).groupBy('batch_id')
        .select<Record<string, unknown>[]>('batch_id', this.knex.raw('count(*) as total'), ...this.statusSums());
      for (const r of rows) {
        out.set(String(r.batch_id), { total: Number(r.total ?? 0), pending: Number(r.pending ?? 0), uploaded: Number(r.uploaded ?? 0), failed: Number(r.failed ?? 0), bytes: Number(r.bytes ?? 0) });
      }
    }
    return out;
  }

  async countFiles(batchId: string): Promise<FileCounts> {
    const row = await this.knex('file_distributions')
      .where('batch_id', batchId)
      .first<Record<string, unknown> | undefined>(
        this.knex.raw('count(*) as total'),
        ...this.statusSums(),
      );
    return {
      total: Number(row?.total ?? 0),
      pending: Number(row?.pending ?? 0),
      uploaded: Number(row?.uploaded ?? 0),
      failed: Number(row?.failed ?? 0),
      bytes: Number(row?.bytes ?? 0),
    };
  }

  /** Bytes count uploaded files only. Rows whose target is not chosen yet are left out. */
  async targetCounts(batchId: string): Promise<TargetCounts[]> {
    const rows = await this.knex('file_distributions')
      .where('batch_id', batchId)
      .whereNotNull('target')
      .groupBy('target')
      .orderBy('target')
      .select<Record<string, unknown>[]>('target', ...this.statusSums());
    return rows.map((r) => ({
      target: String(r.target),
      uploaded: Number(r.uploaded ?? 0),
      failed: Number(r.failed ?? 0),
      pending: Number(r.pending ?? 0),
      bytes: Number(r.bytes ?? 0),
    }));
  }

  private statusSums(): Knex.Raw[] {
    const count = (status: FileStatus) => this.knex.raw(`sum(case when status = ? then 1 else 0 end) as ??`, [status, status]);
    return [
      count('pending'),
      count('uploaded'),
      count('failed'),
      this.knex.raw(`sum(case when status = 'uploaded' then size_bytes else 0 end) as bytes`),
    ];
  }

  async listFiles(batchId: string, opts: { status?: FileStatus; limit?: number } = {}): Promise<FileRow[]> {
    const q = this.knex<FileRecord>('file_distributions').where('batch_id', batchId).orderBy([{ column: 'started_at' }, { column: 'id' }]);
    if (opts.status !== undefined) q.where('status', opts.status);
    if (opts.limit !== undefined) q.limit(opts.limit);
    return (await q).map(fromFileRecord);
  }

  async countCalls(batchId: string): Promise<number> {
    const row = await this.knex('calls').where('batch_id', batchId).first<{ n: unknown } | undefined>(this.knex.raw('count(*) as n'));
    return Number(row?.n ?? 0);
  }

  async settleMissing(batchId: string, error: string): Promise<number> {
    return this.knex<FileRecord>('file_distributions')
      .where({ batch_id: batchId, status: 'pending' })
      .update({ status: 'failed', error, finished_at: Date.now() });
  }
}
