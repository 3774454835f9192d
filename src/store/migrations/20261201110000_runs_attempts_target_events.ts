import type { Knex } from 'knex';

/**
 * A batch's history, beside its outcome rows (times are epoch ms, as everywhere):
 * - `batch_runs`: one row per run of a batch (the first and each --resume), written when
 *   it starts and closed when it ends: host, pid, status and that run's counts. The
 *   `batches` row keeps the last run's counts; a batch's totals come from its file rows.
 * - `upload_attempts`: every try of a file on a host (failovers and retries included),
 *   written with the file's outcome, so the report draws a file on each host it was tried on.
 * - `target_events`: a target going down or coming back up during a run.
 */
function utf8mb4(knex: Knex, table: Knex.CreateTableBuilder): void {
  if ((knex.client as Knex.Client).dialect !== 'mysql') return;
  table.charset('utf8mb4');
  table.collate('utf8mb4_bin');
  table.engine('InnoDB');
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('batch_runs', (t) => {
    utf8mb4(knex, t);
    t.increments('id');
    t.string('batch_id', 64).notNullable();
    t.bigInteger('started_at').notNullable();
    t.bigInteger('finished_at').nullable();
    t.string('host', 255).notNullable();
    t.integer('pid').notNullable();
    t.string('status', 32).notNullable();
    t.integer('total').notNullable().defaultTo(0);
    t.integer('uploaded').notNullable().defaultTo(0);
    t.integer('failed').notNullable().defaultTo(0);
    t.integer('skipped').notNullable().defaultTo(0);
    t.bigInteger('bytes').notNullable().defaultTo(0);
    t.index(['batch_id'], 'batch_runs_batch');
  });
  await knex.schema.createTable('upload_attempts', (t) => {
    utf8mb4(knex, t);
    t.increments('id');
    t.string('batch_id', 64).notNullable();
    t.string('path_key', 129).notNullable(); // as file_distributions.path_key
    t.string('target', 2048).notNullable();
    t.integer('attempt').notNullable(); // 1, 2, ... over every target the file was tried on
    t.bigInteger('started_at').notNullable();
    t.bigInteger('finished_at').notNullable();
    t.string('outcome', 16).notNullable(); // uploaded | failed | retried | interrupted
    t.text('error').nullable();
    t.index(['batch_id', 'path_key'], 'upload_attempts_batch_path');
  });
  await knex.schema.createTable('target_events', (t) => {
    utf8mb4(knex, t);
    t.increments('id');
    t.string('batch_id', 64).notNullable();
    t.string('target', 2048).notNullable();
    t.string('state', 8).notNullable(); // down | up
    t.bigInteger('at').notNullable();
    t.index(['batch_id'], 'target_events_batch');
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['target_events', 'upload_attempts', 'batch_runs']) await knex.schema.dropTableIfExists(table);
}
