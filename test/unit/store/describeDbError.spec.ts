import { expect } from 'chai';
import { describeDbError } from '../../../src/store/describeDbError.js';

describe('describeDbError', () => {
  it("should give mysql2's server message with its code, without knex's SQL", () => {
    const e = Object.assign(new Error("insert into `t` (`v`) values ('/secret/path - x') - Data too long for column 'v' at row 1"), {
      code: 'ER_DATA_TOO_LONG', sqlMessage: "Data too long for column 'v' at row 1",
    });
    expect(describeDbError(e)).to.equal("ER_DATA_TOO_LONG: Data too long for column 'v' at row 1");
  });

  it("should cut knex's SQL prefix where the driver keeps no separate message (SQLite)", () => {
    const e = Object.assign(new Error("select `a` from `t` where `p` = 'x - y' - no such column: a"), { code: 'SQLITE_ERROR' });
    expect(describeDbError(e)).to.equal('SQLITE_ERROR: no such column: a');
  });

  it('should keep a message that carries no SQL, and its code once', () => {
    expect(describeDbError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3999'), { code: 'ECONNREFUSED' }))).to.equal('connect ECONNREFUSED 127.0.0.1:3999');
    expect(describeDbError(Object.assign(new Error('NOT NULL constraint failed: t.v'), { code: 'SQLITE_CONSTRAINT_NOTNULL' }))).to.equal('SQLITE_CONSTRAINT_NOTNULL: NOT NULL constraint failed: t.v');
  });
});
