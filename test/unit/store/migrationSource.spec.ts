import { expect } from 'chai';
import { FanoutMigrationSource } from '../../../src/store/migrationSource.js';

describe('FanoutMigrationSource', () => {
  it('should list the migrations from code, oldest first, with timestamped names', async () => {
    const source = new FanoutMigrationSource();
    const names = (await source.getMigrations()).map((m) => source.getMigrationName(m));
    expect(names).to.include('20261129000000_initial');
    for (const name of names) expect(name).to.match(/^\d{14}_[a-z0-9_]+$/);
    expect(names).to.deep.equal([...names].sort());
  });

  it('should give each migration an up and a down', async () => {
    const source = new FanoutMigrationSource();
    for (const spec of await source.getMigrations()) {
      const migration = await source.getMigration(spec);
      expect(migration.up).to.be.a('function');
      expect(migration.down).to.be.a('function');
    }
  });

  it('should serve the migrations it is given', async () => {
    const up = async () => undefined;
    const source = new FanoutMigrationSource([{ name: '20990101000000_later', up }]);
    const [only] = await source.getMigrations();
    expect(source.getMigrationName(only)).to.equal('20990101000000_later');
    expect((await source.getMigration(only)).up).to.equal(up);
  });
});
