import type { CreateTableBuilder, Kysely } from 'kysely';
import type { DialectName } from '../dialect/types.js';

/**
 * Git-backed memory (Letta Code's memfs) and the per-agent file limits. The repository of each agent lives in the
 * database as raw git objects plus one head row, so every Cairn process sharing the database serves the same
 * history: a process's on-disk repository is only a cache rebuilt from these rows. The head row is the one place a
 * push or a block-to-commit sync is decided (compare-and-swap on `commit_sha`).
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await withSeq(dialect, db.schema.createTable('memory_git_objects'))
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('sha', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('data', dialect === 'sqlite' ? 'blob' : 'bytea', (c) => c.notNull())
    .addUniqueConstraint('memory_git_objects_agent_sha_uq', ['agent_id', 'sha'])
    .execute();

  await db.schema
    .createTable('memory_git_heads')
    .addColumn('agent_id', 'text', (c) => c.primaryKey().references('agents.id').onDelete('cascade'))
    .addColumn('commit_sha', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  // Letta's per-agent overrides of the open-file limits; null means "derived from the context window".
  await db.schema.alterTable('agents').addColumn('max_files_open', 'integer').execute();
  await db.schema.alterTable('agents').addColumn('per_file_view_window_char_limit', 'integer').execute();
}

/** The monotonic `seq` primary key of every ordered table, as each engine spelled it when this shipped. */
function withSeq<T extends string>(dialect: DialectName, table: CreateTableBuilder<T, never>) {
  return dialect === 'sqlite'
    ? table.addColumn('seq', 'integer', (col) => col.primaryKey().autoIncrement())
    : table.addColumn('seq', 'bigserial', (col) => col.primaryKey());
}
