import type { Knex } from 'knex';
import * as initial from './migrations/20261129000000_initial.js';
import * as pathKeyPrefix from './migrations/20261129120000_path_key_prefix.js';
import * as textPathsCallSha256 from './migrations/20261201000000_text_paths_call_sha256.js';
import * as runsAttemptsTargetEvents from './migrations/20261201110000_runs_attempts_target_events.js';
import * as leasesClaimsWorkers from './migrations/20261201120000_leases_claims_workers.js';
import * as pathKeyIndex from './migrations/20261202100000_path_key_index.js';
import * as attemptWorkerLimit from './migrations/20261202130000_attempt_worker_limit.js';

export interface NamedMigration extends Knex.Migration {
  name: string;
}

/** Every migration, oldest first: add new ones at the end, named `YYYYMMDDhhmmss_what`. */
const MIGRATIONS: readonly NamedMigration[] = [
  { name: '20261129000000_initial', up: initial.up, down: initial.down },
  { name: '20261129120000_path_key_prefix', up: pathKeyPrefix.up, down: pathKeyPrefix.down },
  { name: '20261201000000_text_paths_call_sha256', up: textPathsCallSha256.up, down: textPathsCallSha256.down },
  { name: '20261201110000_runs_attempts_target_events', up: runsAttemptsTargetEvents.up, down: runsAttemptsTargetEvents.down },
  { name: '20261201120000_leases_claims_workers', up: leasesClaimsWorkers.up, down: leasesClaimsWorkers.down },
  { name: '20261202100000_path_key_index', up: pathKeyIndex.up, down: pathKeyIndex.down },
  { name: '20261202130000_attempt_worker_limit', up: attemptWorkerLimit.up, down: attemptWorkerLimit.down },
];

/**
 * Migrations imported from code rather than read from a directory, so the same database
 * migrates alike from the TypeScript sources, a build, and the knex CLI.
 */
export class FanoutMigrationSource implements Knex.MigrationSource<NamedMigration> {
  constructor(private readonly migrations: readonly NamedMigration[] = MIGRATIONS) {}

  async getMigrations(): Promise<NamedMigration[]> {
    return [...this.migrations];
  }

  getMigrationName(migration: NamedMigration): string {
    return migration.name;
  }

  async getMigration(migration: NamedMigration): Promise<Knex.Migration> {
    return migration;
  }
}
