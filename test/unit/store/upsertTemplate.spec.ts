import { expect } from 'chai';
import knexFactory from 'knex';
import { compileUpsert, upsertTemplate } from '../../../src/store/knexStore.js';
import { FILE_MERGE_COLUMNS } from '../../../src/store/rows.js';

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
  });
}

describe('upsertTemplate on output that does not repeat', () => {
  it('should give up (null) rather than guess', () => {
    // a compiler whose statements are not head + n terms + tail
    const odd = (n: number) => ({ sql: `insert ${n % 2 ? 'odd' : 'even'} ${'(?)'.repeat(n)}`, columns: ['a'] });
    expect(upsertTemplate(odd)).to.equal(null);
  });
});
