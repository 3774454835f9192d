import type { Knex } from 'knex';

/**
 * `path_key` becomes `<hex of the path's first 32 UTF-8 bytes>.<hex sha256 of the path>`
 * (rows.ts, pathKey). Still byte-exact and unique (the hash), now in walk order: the
 * walker visits paths in byte order, so each transaction's new keys land side by side in
 * the (batch_id, path_key) indexes instead of on a random leaf page each. Measured with
 * scripts/store-bench.mjs (10,000 files, 250-row transactions, SQLite): the record writes
 * cost ~35 % less CPU. Existing keys keep their hash and gain the prefix, in SQL.
 */
const TABLES = ['file_distributions', 'calls'] as const;
const isMysql = (knex: Knex) => (knex.client as Knex.Client).dialect === 'mysql';

export async function up(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    // SQLite: the column has TEXT affinity and no length limit; MySQL: 64 + 1 + 64
    if (isMysql(knex)) await knex.raw('ALTER TABLE ?? MODIFY path_key varchar(129) NOT NULL', [table]);
    await knex.raw(
      isMysql(knex)
        ? "UPDATE ?? SET path_key = CONCAT(LOWER(HEX(LEFT(CAST(file_path AS BINARY), 32))), '.', path_key)"
        : "UPDATE ?? SET path_key = lower(hex(substr(CAST(file_path AS BLOB), 1, 32))) || '.' || path_key",
      [table],
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    await knex.raw(
      isMysql(knex) ? "UPDATE ?? SET path_key = SUBSTRING_INDEX(path_key, '.', -1)" : "UPDATE ?? SET path_key = substr(path_key, instr(path_key, '.') + 1)",
      [table],
    );
    if (isMysql(knex)) await knex.raw('ALTER TABLE ?? MODIFY path_key char(64) NOT NULL', [table]);
  }
}
