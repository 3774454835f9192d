import type { Knex } from 'knex';

/**
 * On MySQL every table is utf8mb4 with a binary collation, whatever the database's
 * default: unicode paths are stored byte-exactly. Uniqueness of a path never relies on
 * a collation anyway: it is keyed on `path_key`, the hex sha256 of the UTF-8 path,
 * because an index on 1024 utf8mb4 characters is too wide and the default collations
 * would merge paths that differ in case, accents or trailing spaces.
 */
function utf8mb4(knex: Knex, table: Knex.CreateTableBuilder): void {
  if ((knex.client as Knex.Client).dialect !== 'mysql') return;
  table.charset('utf8mb4');
  table.collate('utf8mb4_bin');
  table.engine('InnoDB');
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('batches', (t) => {
    utf8mb4(knex, t);
    t.string('id', 64).primary();
    t.text('source_dir').notNullable();
    t.text('targets').notNullable(); // JSON array of URLs, credentials removed
    t.string('assign', 64).notNullable();
    t.string('status', 32).notNullable();
    t.integer('total').notNullable().defaultTo(0);
    t.integer('uploaded').notNullable().defaultTo(0);
    t.integer('failed').notNullable().defaultTo(0);
    t.integer('skipped').notNullable().defaultTo(0);
    t.bigInteger('bytes').notNullable().defaultTo(0);
    t.bigInteger('started_at').notNullable(); // epoch ms, as every time below
    t.bigInteger('finished_at').nullable();
  });

  await knex.schema.createTable('file_distributions', (t) => {
    utf8mb4(knex, t);
    t.increments('id');
    t.string('batch_id', 64).notNullable();
    t.string('file_path', 1024).notNullable();
    t.specificType('path_key', 'char(64)').notNullable();
    t.string('file_name', 1024).notNullable();
    t.string('target', 2048).nullable();
    t.bigInteger('size_bytes').notNullable();
    t.bigInteger('mtime_ms').notNullable();
    t.specificType('sha256', 'char(64)').nullable();
    t.boolean('verified').notNullable().defaultTo(false);
    t.string('status', 16).notNullable(); // pending | uploaded | failed
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('error').nullable();
    t.bigInteger('started_at').nullable();
    t.bigInteger('finished_at').nullable();
    t.unique(['batch_id', 'path_key'], { indexName: 'file_distributions_batch_path_key' });
    t.index(['batch_id', 'status'], 'file_distributions_batch_status');
  });

  await knex.schema.createTable('calls', (t) => {
    utf8mb4(knex, t);
    t.increments('id');
    t.string('batch_id', 64).notNullable();
    t.string('file_path', 1024).notNullable();
    t.specificType('path_key', 'char(64)').notNullable();
    t.string('file_name', 1024).notNullable();
    t.string('target', 2048).notNullable();
    t.integer('process_id').nullable();
    t.integer('audit_form_id').nullable();
    t.string('status', 32).notNullable().defaultTo('queued');
    t.bigInteger('created_at').notNullable();
    t.unique(['batch_id', 'path_key'], { indexName: 'calls_batch_path_key' });
    // the processing stage polls for queued calls
    t.index(['status'], 'calls_status');
  });

  await knex.schema.createTable('processes', (t) => {
    utf8mb4(knex, t);
    t.increments('id');
    t.string('name', 255).notNullable();
    t.integer('audit_form_id').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['processes', 'calls', 'file_distributions', 'batches']) {
    await knex.schema.dropTableIfExists(table);
  }
}
