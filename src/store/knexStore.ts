import type { Knex } from 'knex';
import type { Logger } from '../logger.js';
import type { Dialect } from './parseDbUrl.js';
import { FanoutMigrationSource } from './migrationSource.js';
import {
  FILE_MERGE_COLUMNS, fromBatchRecord, fromFileRecord, fromProcessRecord, pathKey, toBatchRecord, toCallRecord,
  toFileRecord, type BatchRecord, type FileRecord, type ProcessRecord,
} from './rows.js';
import type { BatchCounts, BatchRow, CallRow, FileRow, FileStatus, ProcessRow, Store, TargetCounts } from './types.js';

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

interface Compiled {
  sql: string;
  /** column order of one row's bindings */
  columns: string[];
}

/** Last row wins for a repeated (batch, path), so one statement never hits its own row twice. */
function lastPerKey<T extends { batch_id: string; path_key: string }>(rows: readonly T[]): T[] {
  return [...new Map(rows.map((r) => [`${r.batch_id}\0${r.path_key}`, r])).values()];
}

/** The Store on knex: the same queries on SQLite and MySQL/MariaDB. */
export class KnexStore implements Store {
  /** multi-row upsert SQL by table and row count: knex builds each shape once, not per batch */
  private readonly compiled = new Map<string, Compiled>();

  constructor(
    readonly knex: Knex,
    readonly dialect: Dialect,
    private readonly logger: Logger,
  ) {}

  async migrate(): Promise<void> {
    const [, applied] = (await this.knex.migrate.latest({ migrationSource: new FanoutMigrationSource() })) as [number, string[]];
    if (applied.length > 0) this.logger.info('database migrated', { migrations: applied });
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
    const keys = [...new Set(paths.map(pathKey))];
    for (const part of chunks(keys)) {
      const rows = await this.knex<FileRecord>('file_distributions').where('batch_id', batchId).whereIn('path_key', part);
      for (const row of rows) found.set(row.file_path, fromFileRecord(row));
    }
    return found;
  }

  async planPending(rows: readonly FileRow[]): Promise<void> {
    await this.knex.transaction((trx) => this.upsertFiles(trx, rows));
  }

  async recordOutcomes(rows: readonly FileRow[], calls: readonly CallRow[]): Promise<void> {
    const callRecords = lastPerKey(calls.map(toCallRecord)) as unknown as Record<string, unknown>[];
    await this.knex.transaction(async (trx) => {
      await this.upsertFiles(trx, rows);
      // insert-or-keep: an existing call keeps its status. A no-op update rather than
      // .ignore(), which on MySQL is INSERT IGNORE and would turn data errors into warnings.
      await this.upsert(trx, 'calls', callRecords, ['path_key']);
    });
  }

  private async upsertFiles(trx: Knex.Transaction, rows: readonly FileRow[]): Promise<void> {
    await this.upsert(trx, 'file_distributions', lastPerKey(rows.map(toFileRecord)) as unknown as Record<string, unknown>[], FILE_MERGE_COLUMNS);
  }

  /** `insert ... on conflict (batch_id, path_key) do update set <merge>` in multi-row statements. */
  private async upsert(trx: Knex.Transaction, table: string, records: readonly Record<string, unknown>[], merge: readonly string[]): Promise<void> {
    for (const part of this.dialect === 'sqlite' ? shapedChunks(records) : chunks(records)) {
      const { sql, columns } = this.compile(table, part, merge);
      const bindings: unknown[] = [];
      for (const r of part) for (const c of columns) bindings.push(r[c] ?? null);
      await trx.raw(sql, bindings as Knex.RawBinding[]);
    }
  }

  private compile(table: string, part: readonly Record<string, unknown>[], merge: readonly string[]): Compiled {
    const key = `${table}:${part.length}`;
    let c = this.compiled.get(key);
    if (!c) {
      if (this.compiled.size >= 64) this.compiled.clear(); // MySQL batches come in any size
      // compile with marker values, so the bindings of row 0 say the column order knex chose
      const columns = Object.keys(part[0]);
      const markers = part.map((_, i) => Object.fromEntries(columns.map((col) => [col, `${i}\0${col}`])));
      const q = this.knex(table).insert(markers).onConflict([...KEY]).merge([...merge]).toSQL();
      c = { sql: q.sql, columns: (q.bindings as string[]).slice(0, columns.length).map((b) => b.split('\0')[1]) };
      this.compiled.set(key, c);
    }
    return c;
  }

  async lookupProcess(id: number): Promise<ProcessRow | undefined> {
    const row = await this.knex<ProcessRecord>('processes').where({ id }).first();
    return row && fromProcessRecord(row);
  }

  async countFiles(batchId: string): Promise<{ total: number; pending: number; uploaded: number; failed: number; bytes: number }> {
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
}
