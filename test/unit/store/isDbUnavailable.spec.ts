import { expect } from 'chai';
import { KnexTimeoutError } from 'knex';
import { isDbUnavailable } from '../../../src/store/isDbUnavailable.js';

const err = (code: string | undefined, extra: Record<string, unknown> = {}, message = 'boom') => Object.assign(new Error(message), { code, ...extra });

describe('isDbUnavailable', () => {
  const away: [string, unknown][] = [
    ['connection refused', err('ECONNREFUSED', { fatal: true })],
    ['connection reset', err('ECONNRESET')],
    ['connect timeout', err('ETIMEDOUT')],
    ['connection lost (mysql2)', err('PROTOCOL_CONNECTION_LOST', { fatal: true })],
    ['any fatal mysql2 error', err('SOMETHING_NEW', { fatal: true })],
    ['server gone away', err('CR_SERVER_GONE_ERROR')],
    ['server shutting down', err('ER_SERVER_SHUTDOWN', { errno: 1053 })],
    ['too many connections', err('ER_CON_COUNT_ERROR', { errno: 1040 })],
    ['deadlock', err('ER_LOCK_DEADLOCK', { errno: 1213 })],
    ['lock wait timeout', err('ER_LOCK_WAIT_TIMEOUT', { errno: 1205 })],
    ['read-only while failing over', err('ER_OPTION_PREVENTS_STATEMENT', { errno: 1290 })],
    ['SQLite busy', err('SQLITE_BUSY')],
    ['SQLite busy snapshot', err('SQLITE_BUSY_SNAPSHOT')],
    ['SQLite locked', err('SQLITE_LOCKED')],
    ['pool acquire timeout (knex)', new KnexTimeoutError('Knex: Timeout acquiring a connection. The pool is probably full.')],
    ['a cause that is away', new Error('wrapped', { cause: err('ECONNREFUSED') })],
    ['every address refused', Object.assign(new AggregateError([err('ECONNREFUSED'), err('ECONNREFUSED')], ''), { code: undefined })],
  ];
  const refused: [string, unknown][] = [
    ['value too long', err('ER_DATA_TOO_LONG', { errno: 1406, sqlState: '22001' })],
    ['value truncated', err('ER_TRUNCATED_WRONG_VALUE_FOR_FIELD', { errno: 1366 })],
    ['duplicate key', err('ER_DUP_ENTRY', { errno: 1062 })],
    ['not null', err('ER_BAD_NULL_ERROR', { errno: 1048 })],
    ['signal from a trigger', err('ER_SIGNAL_EXCEPTION', { errno: 1644 })],
    ['unknown column', err('ER_BAD_FIELD_ERROR', { errno: 1054 })],
    ['SQLite constraint', err('SQLITE_CONSTRAINT_NOTNULL')],
    ['SQLite trigger abort', err('SQLITE_CONSTRAINT_TRIGGER')],
    ['SQLite too big', err('SQLITE_TOOBIG')],
    ['an error without a code', new Error('nope')],
    ['a TypeError', new TypeError('x is not a function')],
    ['not an Error', 'ECONNREFUSED'],
    ['undefined', undefined],
  ];
  for (const [what, e] of away) it(`should retry: ${what}`, () => expect(isDbUnavailable(e)).to.equal(true));
  for (const [what, e] of refused) it(`should not retry: ${what}`, () => expect(isDbUnavailable(e)).to.equal(false));
});
