import { expect } from 'chai';
import knexFactory from 'knex';
import { compileUpsert, upsertTemplate } from '../../../src/store/knexStore.js';
import { CALL_MERGE_COLUMNS, FILE_MERGE_COLUMNS } from '../../../src/store/rows.js';

const CALL_COLUMNS = ['batch_id', 'file_path', 'path_key', 'file_name', 'target', 'sha256', 'process_id', 'audit_form_id', 'created_at'];
const FILE_COLUMNS = ['batch_id', 'file_path', 'path_key', 'file_name', 'target', 'size_bytes', 'mtime_ms', 'sha256', 'verified', 'status', 'attempts', 'error', 'started_at', 'finished_at'];

for (const client of ['better-sqlite3', 'mysql2']) {
  describe(`upsertTemplate [${client}]`, () => {
    const knex = knexFactory({ client, useNullAsDefault: true });
    after(() => knex.destroy());
    const compileRows = (n: number) => compileUpsert(knex, 'file_distributions', FILE_COLUMNS, n, FILE_MERGE_COLUMNS);

    it('should build exactly the statement knex builds, for every row count a write uses', () => {
      const template = upsertTemplate(compileRows);
      expect(template).to.be.a('function');
      for (const n of [1, 2, 3, 4, 7, 64, 255, 256, 500]) {
        const want = compileRows(n);
        const got = template!(n);
        expect(got.sql, `${n} rows`).to.equal(want.sql);
        expect(got.columns, `${n} rows`).to.deep.equal(want.columns);
      }
    });

    it('should template the calls upsert too, its status expression set first and bound to nothing', () => {
      const status = "case when `calls`.`sha256` = values(`sha256`) then `calls`.`status` else 'queued' end";
      const calls = (n: number) => compileUpsert(knex, 'calls', CALL_COLUMNS, n, CALL_MERGE_COLUMNS, { status });
      const template = upsertTemplate(calls);
      expect(template).to.be.a('function');
      for (const n of [1, 2, 7, 500]) expect(template!(n)).to.deep.equal(calls(n));
      const { sql } = calls(2);
      const update = sql.slice(sql.search(/on (conflict|duplicate)/));
      expect(update.indexOf(status), 'status before the merged columns').to.be.below(update.indexOf('`sha256` ='));
      expect(update).to.contain(client === 'mysql2' ? '`target` = values(`target`)' : '`target` = excluded.`target`');
      expect(sql.split('?').length - 1, 'one binding a column a row').to.equal(2 * CALL_COLUMNS.length);
    });

    it('should template a plain insert (merge null: the attempts rows) too, as knex writes it, with no conflict clause', () => {
      const columns = ['batch_id', 'path_key', 'target', 'attempt', 'started_at', 'finished_at', 'outcome', 'error', 'worker_id', 'target_limit'];
      const tries = (n: number) => compileUpsert(knex, 'upload_attempts', columns, n, null);
      const template = upsertTemplate(tries);
      expect(template).to.be.a('function');
      for (const n of [1, 2, 7, 256, 500]) expect(template!(n)).to.deep.equal(tries(n));
      const rows = [{ batch_id: 'b', path_key: 'k', target: 't', attempt: 1, started_at: 1, finished_at: 2, outcome: 'uploaded', error: null, worker_id: null, target_limit: null }];
      expect(tries(1).sql).to.equal(knex('upload_attempts').insert(rows).toSQL().sql);
      expect(tries(2).sql).to.not.match(/conflict|duplicate/i);
    });
  });
}

describe('upsertTemplate on output that does not repeat', () => {
  it('should give up (null) rather than guess', () => {
    // a compiler whose statements are not head + n terms + tail
    const odd = (n: number) => ({ sql: `insert ${n % 2 ? 'odd' : 'even'} ${'(?)'.repeat(n)}`, columns: ['a'] });
    expect(upsertTemplate(odd)).to.equal(null);
  });
});
