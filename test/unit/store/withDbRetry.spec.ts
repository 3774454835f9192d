import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import knexFactory, { type Knex } from 'knex';
import { StoreUnavailableError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';
import { createStore } from '../../../src/store/createStore.js';
import type { Store } from '../../../src/store/types.js';
import { withDbRetry } from '../../../src/store/withDbRetry.js';
import { forEachDatabase } from '../../helpers/db.js';

function capturedLogger() {
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => lines.push(...c.toString('utf8').split('\n').filter(Boolean)));
  return { logger: createLogger({ level: 'debug', stream }), lines };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

forEachDatabase('withDbRetry', (ctx) => {
  let store: Store;
  before(async () => {
    store = await createStore(ctx.url);
    await store.knex.schema.createTable('retry_probe', (t) => {
      t.string('v', 8).notNullable();
    });
  });
  after(() => store.close());

  it('should throw a value the database refuses at once, untouched and unlogged', async () => {
    const { logger, lines } = capturedLogger();
    let tries = 0;
    // MySQL: a value too long for varchar(8); SQLite (no lengths): a NOT NULL column given null
    const value = ctx.dialect === 'mysql' ? '/secret/'.repeat(20) : null;
    const t0 = Date.now();
    const err = await rejection(withDbRetry(() => (tries++, store.knex('retry_probe').insert({ v: value })), { retryMs: 5_000, logger, what: 'plan' }));
    expect(err).to.not.be.instanceOf(StoreUnavailableError);
    expect((err as { code?: string }).code).to.match(ctx.dialect === 'mysql' ? /^ER_DATA_TOO_LONG$/ : /^SQLITE_CONSTRAINT/);
    expect(tries).to.equal(1);
    expect(Date.now() - t0).to.be.below(4_000);
    expect(lines.filter((l) => l.includes('db_retry'))).to.deep.equal([]);
  });

  it('should retry while the database cannot be reached, logging its message but never the SQL', async () => {
    const { logger, lines } = capturedLogger();
    // nothing listens on port 1: every connect is refused
    const away: Knex = knexFactory({ client: 'mysql2', connection: { host: '127.0.0.1', port: 1, user: 'x', database: 'x' }, pool: { min: 0, max: 1 }, log: { error: () => undefined, warn: () => undefined } });
    let tries = 0;
    try {
      const err = await rejection(withDbRetry(() => (tries++, away.raw("insert into t values ('/secret/path')")), { retryMs: 400, logger, what: 'record' }));
      expect(err).to.be.instanceOf(StoreUnavailableError);
      expect(err.message).to.contain('ECONNREFUSED').and.not.contain('/secret/');
    } finally {
      await away.destroy();
    }
    expect(tries).to.be.above(1);
    const retries = lines.filter((l) => l.includes('db_retry')).map((l) => JSON.parse(l) as { error: string; what: string });
    expect(retries.length).to.equal(tries - 1);
    for (const r of retries) expect(r).to.include({ what: 'record' }).and.have.property('error').that.contains('ECONNREFUSED').and.not.contains('/secret/');
  });

  it("should log a retried statement's error without its SQL", async () => {
    const { logger, lines } = capturedLogger();
    let tries = 0;
    const busy = () => {
      tries++;
      return tries === 1
        ? Promise.reject(Object.assign(new Error("update `t` set `p` = '/secret/path' - Deadlock found when trying to get lock"), { code: 'ER_LOCK_DEADLOCK', sqlMessage: 'Deadlock found when trying to get lock' }))
        : store.knex('retry_probe').count({ n: '*' });
    };
    await withDbRetry(busy, { retryMs: 5_000, logger });
    expect(tries).to.equal(2);
    const [line] = lines.filter((l) => l.includes('db_retry'));
    expect(JSON.parse(line)).to.include({ error: 'ER_LOCK_DEADLOCK: Deadlock found when trying to get lock' });
  });
});
