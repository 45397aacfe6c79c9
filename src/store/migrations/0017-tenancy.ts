import type { CreateTableBuilder, Kysely } from 'kysely';
import type { DialectName } from '../dialect/types.js';

/**
 * The control plane of organisations, their users and API keys. It lives in the main database, whose data is the
 * default organisation's; every other organisation's objects live in a database of their own (docs/decisions.md),
 * so no data table gains an organisation column. A key is kept as its SHA-256 (it is shown once, never stored) and
 * found by its public prefix; a revoked key keeps its row so that `cairn keys list` still shows what it was.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await withSeq(dialect, db.schema.createTable('organizations'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('privileged_tools', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await withSeq(dialect, db.schema.createTable('users'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('users_org_idx').on('users').column('organization_id').execute();

  await withSeq(dialect, db.schema.createTable('api_keys'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull().unique())
    .addColumn('key_hash', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('is_admin', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
}

/** The monotonic `seq` primary key of every ordered table, as each engine spelled it when this shipped. */
function withSeq<T extends string>(dialect: DialectName, table: CreateTableBuilder<T, never>) {
  return dialect === 'sqlite'
    ? table.addColumn('seq', 'integer', (col) => col.primaryKey().autoIncrement())
    : table.addColumn('seq', 'bigserial', (col) => col.primaryKey());
}
