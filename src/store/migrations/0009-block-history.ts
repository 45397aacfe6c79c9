import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { DialectName } from '../dialect/types.js';

/**
 * Every write of a block keeps a copy of what it wrote (`block_history`), so the memory inspector and
 * `cairn blocks history` can show who changed a block and restore an earlier version. Blocks that exist already get
 * their current state as the first entry (actor `system`): a later change then has something to be compared with.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await withSeq(dialect, db.schema.createTable('block_history'))
    .addColumn('block_id', 'text', (c) => c.notNull().references('blocks.id').onDelete('cascade'))
    // The block's `version` after the write; not unique: two concurrent writes on PostgreSQL can read one version.
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('char_limit', 'integer', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('read_only', 'integer', (c) => c.notNull())
    .addColumn('actor_kind', 'text', (c) => c.notNull())
    .addColumn('actor_name', 'text')
    .addColumn('restored_from', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('block_history_block_idx').on('block_history').columns(['block_id', 'seq']).execute();
  const copied = ['version', 'label', 'value', 'char_limit', 'description', 'read_only'] as const;
  await db
    .insertInto('block_history')
    .columns(['block_id', ...copied, 'actor_kind', 'actor_name', 'created_at'])
    .expression(
      db
        .selectFrom('blocks')
        .select([
          'id',
          ...copied,
          sql.lit('system').as('actor_kind'),
          sql.lit('existing before history').as('actor_name'),
          'updated_at',
        ])
        .orderBy('seq'),
    )
    .execute();
}

/** The monotonic `seq` primary key of every ordered table, as each engine spelled it when this shipped. */
function withSeq<T extends string>(dialect: DialectName, table: CreateTableBuilder<T, never>) {
  return dialect === 'sqlite'
    ? table.addColumn('seq', 'integer', (col) => col.primaryKey().autoIncrement())
    : table.addColumn('seq', 'bigserial', (col) => col.primaryKey());
}
