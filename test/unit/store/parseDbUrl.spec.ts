import { expect } from 'chai';
import { ConfigError } from '../../../src/errors.js';
import { dialectOf, parseDbUrl, redactDbUrl } from '../../../src/store/parseDbUrl.js';

type Conn = Record<string, unknown> & { typeCast: (f: { type: string; string(): string | null }, next: () => unknown) => unknown };

describe('parseDbUrl', () => {
  it('should read sqlite:PATH as a better-sqlite3 file with one connection', () => {
    const config = parseDbUrl('sqlite:data/fanout.sqlite');
    expect(config.client).to.equal('better-sqlite3');
    expect(config.connection).to.deep.equal({ filename: 'data/fanout.sqlite' });
    expect(config.useNullAsDefault).to.equal(true);
    expect(config.pool).to.include({ min: 1, max: 1 });
    expect(typeof config.pool?.afterCreate).to.equal('function');
    expect(dialectOf(config)).to.equal('sqlite');
  });

  it('should accept absolute paths, sqlite:///abs and :memory:', () => {
    expect(parseDbUrl('sqlite:/var/lib/fanout.sqlite').connection).to.deep.equal({ filename: '/var/lib/fanout.sqlite' });
    expect(parseDbUrl('sqlite:///var/lib/fanout.sqlite').connection).to.deep.equal({ filename: '/var/lib/fanout.sqlite' });
    expect(parseDbUrl('sqlite::memory:').connection).to.deep.equal({ filename: ':memory:' });
  });

  it('should read mysql:// and mariadb:// URLs, decoding user, password and database', () => {
    const config = parseDbUrl('mysql://fan%20out:p%40ss%3Aw0rd@db.example:3307/fanout', { poolMax: 8 });
    expect(config.client).to.equal('mysql2');
    expect(config.connection).to.include({
      host: 'db.example', port: 3307, user: 'fan out', password: 'p@ss:w0rd', database: 'fanout',
      supportBigNumbers: true, connectTimeout: 5000, charset: 'utf8mb4',
    });
    expect(config.pool).to.deep.equal({ min: 0, max: 8 });
    expect(dialectOf(config)).to.equal('mysql');
    const maria = parseDbUrl('mariadb://root@127.0.0.1/test');
    expect(maria.connection).to.include({ host: '127.0.0.1', port: 3306, user: 'root', password: undefined, database: 'test' });
    expect(maria.pool).to.deep.equal({ min: 0, max: 4 });
  });

  it('should turn BIGINT and DECIMAL columns into numbers and leave the rest to mysql2', () => {
    const { typeCast } = parseDbUrl('mysql://u@h/db').connection as Conn;
    const field = (type: string, text: string | null) => ({ type, string: () => text });
    expect(typeCast(field('LONGLONG', '1764384000123'), () => 'x')).to.equal(1764384000123);
    expect(typeCast(field('NEWDECIMAL', '5000000000000'), () => 'x')).to.equal(5e12);
    expect(typeCast(field('LONGLONG', null), () => 'x')).to.equal(null);
    expect(typeCast(field('VAR_STRING', 'abc'), () => 'next')).to.equal('next');
  });

  for (const url of [
    'postgres://user:s3cret@db/fanout',
    'mysql://user:s3cret@db',
    'mysql://user:s3cret@db/',
    'mysql://user:s3cret@db/a/b',
    'mysql://user:s3cret@db/fanout?ssl=true',
    'mysql://user:s3cret@db:notaport/fanout',
    'mysql://user:s3cret%ZZ@db/fanout',
    'mysql://user:s3c/ret@db/fanout',
    'sqlite:',
    'fanout.sqlite',
    '',
  ]) {
    it(`should throw a one-line ConfigError without the password for ${JSON.stringify(url)}`, () => {
      let caught: unknown;
      try {
        parseDbUrl(url);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(ConfigError);
      const message = (caught as ConfigError).message;
      expect(message).to.match(/database URL/);
      expect(message).not.to.include('s3cret');
      expect(message).not.to.include('ret@');
      expect(message).not.to.include('\n');
      if (url.includes('s3c')) expect(message).to.include('user:***@');
    });
  }

  it('should reject a pool size that is not a positive integer', () => {
    expect(() => parseDbUrl('mysql://u@h/db', { poolMax: 0 })).to.throw(ConfigError, /pool size/);
    expect(() => parseDbUrl('mysql://u@h/db', { poolMax: 1.5 })).to.throw(ConfigError, /pool size/);
  });
});

describe('redactDbUrl', () => {
  it('should replace the password with ***', () => {
    expect(redactDbUrl('mysql://root:hunter2@127.0.0.1:3306/test')).to.equal('mysql://root:***@127.0.0.1:3306/test');
  });

  it('should hide a password holding @, / or :', () => {
    expect(redactDbUrl('mysql://root:a@b/c:d@host/db')).to.equal('mysql://root:***@host/db');
  });

  it('should leave URLs without a password alone', () => {
    expect(redactDbUrl('mysql://root@127.0.0.1/test')).to.equal('mysql://root@127.0.0.1/test');
    expect(redactDbUrl('sqlite:fanout.sqlite')).to.equal('sqlite:fanout.sqlite');
    expect(redactDbUrl('sqlite::memory:')).to.equal('sqlite::memory:');
  });
});
