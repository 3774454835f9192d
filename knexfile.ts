import type { Knex } from 'knex';
import { parseDbUrl } from './src/store/parseDbUrl.js';
import { FanoutMigrationSource } from './src/store/migrationSource.js';

/**
 * For the knex CLI (run it with tsx loaded, e.g.
 * `NODE_OPTIONS='--import tsx' npx knex migrate:status`): the database named by
 * FANOUT_DB (a fanout URL: sqlite:PATH or mysql://…), else sqlite:fanout.sqlite,
 * with the migrations loaded from code exactly as `fanout migrate` loads them.
 */
const config: Knex.Config = {
  ...parseDbUrl(process.env.FANOUT_DB || 'sqlite:fanout.sqlite'),
  migrations: { migrationSource: new FanoutMigrationSource() },
};

export default config;
