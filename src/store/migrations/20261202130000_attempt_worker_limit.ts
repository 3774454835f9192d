import type { Knex } from 'knex';

/**
 * Two facts about each try, for the report (issues 9 and 12), both nullable so older
 * rows stay as they were:
 * - `worker_id`: the `fanout work` (or watch) process that made the try, written by its
 *   fenced store. Per try, not per file: a file re-claimed after its worker died has
 *   tries by two workers. Null for a plain `fanout upload`.
 * - `target_limit`: the target's limit on uploads in flight when the try got its slot
 *   (fixed `--per-target N`, or the adaptive limit at that moment).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('upload_attempts', (t) => {
    t.string('worker_id', 64).nullable();
    t.integer('target_limit').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('upload_attempts', (t) => {
    t.dropColumns('worker_id', 'target_limit');
  });
}
