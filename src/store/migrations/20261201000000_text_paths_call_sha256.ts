import type { Knex } from 'knex';

/**
 * MySQL: `file_path` and `file_name` become TEXT (64 KiB) in both tables. As varchar(1024)
 * a path longer than 1,024 characters was refused (ER_DATA_TOO_LONG) while Linux allows
 * 4,096 bytes; nothing indexes these columns (rows are keyed on `path_key`), so nothing
 * needs their length. The table's utf8mb4_bin collation carries over to the new type.
 * SQLite ignores declared lengths: nothing to change there.
 *
 * `calls.sha256` names the bytes a call hands to the GPU stage, so a re-upload of the same
 * bytes keeps the call's status and new bytes queue it again (knexStore, recordOutcomes).
 */
const TABLES = ['file_distributions', 'calls'] as const;
const isMysql = (knex: Knex) => (knex.client as Knex.Client).dialect === 'mysql';

export async function up(knex: Knex): Promise<void> {
  if (isMysql(knex)) {
    for (const table of TABLES) await knex.raw('ALTER TABLE ?? MODIFY file_path TEXT NOT NULL, MODIFY file_name TEXT NOT NULL', [table]);
  }
  await knex.schema.alterTable('calls', (t) => {
    t.specificType('sha256', 'char(64)').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('calls', (t) => {
    t.dropColumn('sha256');
  });
  // fails (ER_DATA_TOO_LONG) while a row holds a longer path: such rows cannot go back
  if (isMysql(knex)) {
    for (const table of TABLES) await knex.raw('ALTER TABLE ?? MODIFY file_path varchar(1024) NOT NULL, MODIFY file_name varchar(1024) NOT NULL', [table]);
  }
}
