import type { Knex } from 'knex';

/**
 * Several runners on one batch (issue 9):
 *
 * - `batches` gets a lease: the run that holds the batch (holder id, host, pid) and until
 *   when. `upload` takes it for its whole run and renews it, so a second run of the same
 *   batch refuses instead of sending every file again.
 * - `file_distributions` rows become a work queue: `claimed_by` (a worker id), a fencing
 *   `claim_token` that goes up by one at every claim of the row, and when the claim
 *   expires. A worker writes an outcome only where its token still holds; `claimed_by`
 *   stays on a finished row, so status can say which worker did it.
 * - `workers`: one row per `fanout work` process (heartbeat, stop time).
 * - `target_leases`: one row per (batch, target): the worker that drives that target and
 *   until when, so a target's per-target limit holds across the cluster. Keyed on a hash
 *   of the URL (a 2048-character URL is too wide for an index).
 */
const isMysql = (knex: Knex) => (knex.client as Knex.Client).dialect === 'mysql';

function utf8mb4(knex: Knex, table: Knex.CreateTableBuilder): void {
  if (!isMysql(knex)) return;
  table.charset('utf8mb4');
  table.collate('utf8mb4_bin');
  table.engine('InnoDB');
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('batches', (t) => {
    t.string('lease_holder', 64).nullable();
    t.string('lease_host', 255).nullable();
    t.integer('lease_pid').nullable();
    t.bigInteger('lease_expires_at').nullable();
  });
  await knex.schema.alterTable('file_distributions', (t) => {
    t.string('claimed_by', 64).nullable();
    t.bigInteger('claim_token').notNullable().defaultTo(0);
    t.bigInteger('claim_expires_at').nullable();
    t.index(['batch_id', 'claimed_by'], 'file_distributions_batch_claimed_by');
  });
  await knex.schema.createTable('workers', (t) => {
    utf8mb4(knex, t);
    t.string('id', 64).primary();
    t.string('batch_id', 64).notNullable();
    t.string('host', 255).notNullable();
    t.integer('pid').notNullable();
    t.bigInteger('started_at').notNullable();
    t.bigInteger('heartbeat_at').notNullable();
    t.bigInteger('stopped_at').nullable();
    t.index(['batch_id', 'heartbeat_at'], 'workers_batch_heartbeat');
  });
  await knex.schema.createTable('target_leases', (t) => {
    utf8mb4(knex, t);
    t.string('batch_id', 64).notNullable();
    t.specificType('target_key', 'char(64)').notNullable();
    t.string('target', 2048).notNullable();
    t.string('holder', 64).nullable();
    t.bigInteger('expires_at').nullable();
    t.primary(['batch_id', 'target_key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('target_leases');
  await knex.schema.dropTableIfExists('workers');
  await knex.schema.alterTable('file_distributions', (t) => {
    t.dropIndex(['batch_id', 'claimed_by'], 'file_distributions_batch_claimed_by');
    t.dropColumns('claimed_by', 'claim_token', 'claim_expires_at');
  });
  await knex.schema.alterTable('batches', (t) => {
    t.dropColumns('lease_holder', 'lease_host', 'lease_pid', 'lease_expires_at');
  });
}
