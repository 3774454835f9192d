import type { Knex } from 'knex';

/**
 * `fanout watch` asks, for each file it finds, what its rolling batches already hold for
 * that path (store/watchQueries.ts): a lookup by `path_key` across batches, which the
 * (batch_id, path_key) key cannot serve without scanning every row of the watch.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('file_distributions', (t) => {
    t.index(['path_key', 'batch_id'], 'file_distributions_path_key_batch');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('file_distributions', (t) => {
    t.dropIndex(['path_key', 'batch_id'], 'file_distributions_path_key_batch');
  });
}
