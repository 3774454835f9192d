import { expect } from 'chai';
import { Writable } from 'node:stream';
import { ConfigError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';
import { createStore } from '../../../src/store/createStore.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

/** A logger whose JSON lines land in `lines`. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', stream }), lines };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('createStore', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('sqlite');
  });
  after(() => db.cleanup());

  it('should open SQLite with WAL, synchronous=NORMAL and a busy timeout', async () => {
    const store = await createStore(db.url);
    try {
      expect(store.dialect).to.equal('sqlite');
      await store.ping();
      const pragma = async (name: string) => Object.values((await store.knex.raw(`pragma ${name}`))[0] as object)[0];
      expect(await pragma('journal_mode')).to.equal('wal');
      expect(await pragma('synchronous')).to.equal(1);
      expect(await pragma('busy_timeout')).to.equal(5000);
    } finally {
      await store.close();
    }
  });

  it('should keep an in-memory SQLite database across queries', async () => {
    const store = await createStore('sqlite::memory:');
    try {
      await store.migrate();
      expect(await store.knex.schema.hasTable('file_distributions')).to.equal(true);
      expect(await store.countFiles('nothing')).to.deep.equal({ total: 0, pending: 0, uploaded: 0, failed: 0, bytes: 0 });
    } finally {
      await store.close();
    }
  });

  it('should throw ConfigError for a bad URL without the password', async () => {
    const err = await rejection(createStore('postgres://fanout:hunter2@db/fanout'));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.include('postgres://fanout:***@db/fanout');
    expect(err.message).not.to.include('hunter2');
  });

  it('should throw ConfigError when the SQLite directory does not exist', async () => {
    const err = await rejection(createStore('sqlite:/nonexistent-fanout-dir/x/fanout.sqlite'));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.include('/nonexistent-fanout-dir/x');
  });

  it('should reject ping() for an unreachable MySQL, without the password', async function () {
    this.timeout(20_000);
    const { logger, lines } = capturingLogger();
    const store = await createStore('mysql://fanout:hunter2@127.0.0.1:1/fanout', { logger });
    try {
      expect(store.dialect).to.equal('mysql');
      const err = await rejection(store.ping());
      expect(err.message).to.match(/ECONNREFUSED|connect/i);
      expect(err.message).not.to.include('hunter2');
      expect(lines.join('\n')).not.to.include('hunter2');
    } finally {
      await store.close();
    }
  });

  it("should route knex's own messages into the logger, password removed", async () => {
    const { logger, lines } = capturingLogger();
    const store = await createStore('mysql://fanout:hunter2@127.0.0.1:1/fanout', { logger });
    try {
      const knexLogger = (store.knex.client as { logger: { warn(m: string): void; debug(m: unknown): void } }).logger;
      knexLogger.warn('pool trouble for fanout:hunter2');
      knexLogger.debug({ detail: 'hunter2 inside an object' });
      const parsed = lines.map((l) => JSON.parse(l) as { level: string; message: string; source?: string });
      expect(parsed.map((l) => [l.level, l.source])).to.deep.include.members([['warn', 'knex'], ['debug', 'knex']]);
      expect(parsed.find((l) => l.level === 'warn')?.message).to.equal('pool trouble for fanout:***');
      expect(lines.join('\n')).not.to.include('hunter2');
    } finally {
      await store.close();
    }
  });
});
