import type { CreateTableBuilder, Kysely } from 'kysely';
import type { DialectName } from '../dialect/types.js';

/**
 * Folders (Letta's sources): uploaded files, their chunks and which agents see them. A folder's chunks are archival
 * passages in an archive the folder owns (`archive_id`), so embedding, full-text and vector search are the archival
 * machinery's and not a second copy; `folder_file_passages` says which file each passage came from.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await withSeq(dialect, db.schema.createTable('folders'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text')
    .addColumn('instructions', 'text')
    .addColumn('metadata', 'text')
    // Deleting the archive through `/v1/archives` takes the folder with it rather than failing on the reference.
    .addColumn('archive_id', 'text', (c) => c.notNull().references('archives.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('folders_archive_idx').on('folders').column('archive_id').execute();

  await withSeq(dialect, db.schema.createTable('folder_files'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('folder_id', 'text', (c) => c.notNull().references('folders.id').onDelete('cascade'))
    // `{folder name}/{original name}`, with Letta's `_(n)` suffix for duplicates: what agents and tools call it.
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('original_file_name', 'text', (c) => c.notNull())
    .addColumn('file_type', 'text', (c) => c.notNull())
    .addColumn('file_size', 'integer', (c) => c.notNull())
    .addColumn('processing_status', 'text', (c) => c.notNull())
    .addColumn('error_message', 'text')
    .addColumn('total_chunks', 'integer')
    .addColumn('content', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('folder_files_folder_idx')
    .on('folder_files')
    .columns(['folder_id', 'original_file_name'])
    .execute();

  await db.schema
    .createTable('folder_file_passages')
    .addColumn('passage_id', 'text', (c) => c.primaryKey().references('passages.id').onDelete('cascade'))
    .addColumn('file_id', 'text', (c) => c.notNull().references('folder_files.id').onDelete('cascade'))
    .execute();
  await db.schema.createIndex('folder_file_passages_file_idx').on('folder_file_passages').column('file_id').execute();

  await db.schema
    .createTable('agent_folders')
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('folder_id', 'text', (c) => c.notNull().references('folders.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('agent_folders_pk', ['agent_id', 'folder_id'])
    .execute();
  await db.schema.createIndex('agent_folders_folder_idx').on('agent_folders').column('folder_id').execute();

  // Per agent and file: whether it is open in the prompt, and what part of it (Letta's `files_agents`).
  await withSeq(dialect, db.schema.createTable('agent_files'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('file_id', 'text', (c) => c.notNull().references('folder_files.id').onDelete('cascade'))
    .addColumn('folder_id', 'text', (c) => c.notNull().references('folders.id').onDelete('cascade'))
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('is_open', 'integer', (c) => c.notNull())
    .addColumn('visible_content', 'text')
    .addColumn('start_line', 'integer')
    .addColumn('end_line', 'integer')
    .addColumn('last_accessed_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('agent_files_agent_file_uq', ['agent_id', 'file_id'])
    .execute();
  await db.schema.createIndex('agent_files_file_idx').on('agent_files').column('file_id').execute();
}

/** The monotonic `seq` primary key of every ordered table, as each engine spelled it when this shipped. */
function withSeq<T extends string>(dialect: DialectName, table: CreateTableBuilder<T, never>) {
  return dialect === 'sqlite'
    ? table.addColumn('seq', 'integer', (col) => col.primaryKey().autoIncrement())
    : table.addColumn('seq', 'bigserial', (col) => col.primaryKey());
}
