import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { DialectName } from '../dialect/types.js';

/**
 * Archival memory: archives (shareable passage stores), their agents, passages with tags, vectors and the
 * embedding queue; full-text indexes over passages and over message text (recall search).
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await withSeq(dialect, db.schema.createTable('archives'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    // The embedding handle every passage of this archive is embedded with; one vector space per archive.
    .addColumn('embedding', 'text', (c) => c.notNull())
    .addColumn('embedding_config', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text')
    // The agent this archive was created for as its default store; deleted with that agent when no other uses it.
    .addColumn('owner_agent_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('archives_owner_idx').on('archives').column('owner_agent_id').execute();

  await db.schema
    .createTable('agent_archives')
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('archive_id', 'text', (c) => c.notNull().references('archives.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('agent_archives_pk', ['agent_id', 'archive_id'])
    .execute();
  await db.schema.createIndex('agent_archives_archive_idx').on('agent_archives').column('archive_id').execute();

  await withSeq(dialect, db.schema.createTable('passages'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('archive_id', 'text', (c) => c.notNull().references('archives.id').onDelete('cascade'))
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    // The embedding queue lives in the row, so any process can take it over after a restart: `pending` rows are
    // claimed with a lease (`embed_lease_until`), retried with backoff (`embed_next_at`) after a failure.
    .addColumn('embed_status', 'text', (c) => c.notNull())
    .addColumn('embed_attempts', 'integer', (c) => c.notNull())
    .addColumn('embed_next_at', 'text', (c) => c.notNull())
    .addColumn('embed_lease_until', 'text')
    .addColumn('embed_error', 'text')
    .execute();
  await db.schema.createIndex('passages_archive_idx').on('passages').columns(['archive_id', 'created_at']).execute();
  // Insertion-order neighbours within an archive (search context) and keyset pages of one archive.
  await db.schema.createIndex('passages_archive_seq_idx').on('passages').columns(['archive_id', 'seq']).execute();
  await db.schema
    .createIndex('passages_embed_queue_idx')
    .on('passages')
    .columns(['embed_status', 'embed_next_at'])
    .execute();

  await db.schema
    .createTable('passage_tags')
    .addColumn('owner_id', 'text', (c) => c.notNull().references('passages.id').onDelete('cascade'))
    .addColumn('tag', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('passage_tags_pk', ['owner_id', 'tag'])
    .execute();
  await db.schema.createIndex('passage_tags_tag_idx').on('passage_tags').columns(['tag', 'owner_id']).execute();

  // One table for vectors of every model and dimension: each row says which it is, and queries filter on both.
  if (dialect === 'postgres') await sql`CREATE EXTENSION IF NOT EXISTS vector`.execute(db);
  await db.schema
    .createTable('passage_vectors')
    .addColumn('passage_id', 'text', (c) => c.primaryKey().references('passages.id').onDelete('cascade'))
    .addColumn('archive_id', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('dim', 'integer', (c) => c.notNull())
    .addColumn('embedding', dialect === 'sqlite' ? 'blob' : sql`vector`, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('passage_vectors_archive_idx')
    .on('passage_vectors')
    .columns(['archive_id', 'model', 'dim'])
    .execute();
  if (dialect === 'sqlite') {
    await sqliteTextIndex(db, 'passages');
    await sqliteTextIndex(db, 'messages');
  } else {
    // The default embedder (USE-lite) is 512-dimensional; other dimensions get their index when first stored.
    await sql`CREATE INDEX IF NOT EXISTS passage_vectors_hnsw_512 ON passage_vectors
      USING hnsw ((embedding::vector(512)) vector_cosine_ops) WHERE dim = 512`.execute(db);
    // Passages keep their tsvector in a stored column, so ranking reads it instead of re-parsing each match's text;
    // messages, read with `select *` by the runtime, get an expression index only.
    await sql`ALTER TABLE passages ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED`.execute(
      db,
    );
    await sql`CREATE INDEX passages_text_gin ON passages USING gin (search_tsv)`.execute(db);
    await sql`CREATE INDEX messages_text_gin ON messages USING gin (to_tsvector('english', text))`.execute(db);
  }
}

/** The monotonic `seq` primary key of every ordered table, as each engine spelled it when this shipped. */
function withSeq<T extends string>(dialect: DialectName, table: CreateTableBuilder<T, never>) {
  return dialect === 'sqlite'
    ? table.addColumn('seq', 'integer', (col) => col.primaryKey().autoIncrement())
    : table.addColumn('seq', 'bigserial', (col) => col.primaryKey());
}

/**
 * An external-content FTS5 table over `table.text` (porter stemming, BM25), kept in sync by triggers so that no
 * write path can forget it and a cascade delete leaves no index rows behind.
 */
async function sqliteTextIndex(db: Kysely<any>, table: 'passages' | 'messages'): Promise<void> {
  const fts = sql.table(`${table}_fts`);
  const t = sql.table(table);
  await sql`CREATE VIRTUAL TABLE ${fts} USING fts5(text, content=${sql.lit(table)}, content_rowid='seq', tokenize='porter unicode61 remove_diacritics 2')`.execute(
    db,
  );
  await sql`CREATE TRIGGER ${sql.raw(`${table}_fts_ai`)} AFTER INSERT ON ${t} BEGIN INSERT INTO ${fts}(rowid, text) VALUES (new.seq, new.text); END`.execute(
    db,
  );
  await sql`CREATE TRIGGER ${sql.raw(`${table}_fts_ad`)} AFTER DELETE ON ${t} BEGIN INSERT INTO ${fts}(${fts}, rowid, text) VALUES ('delete', old.seq, old.text); END`.execute(
    db,
  );
  await sql`CREATE TRIGGER ${sql.raw(`${table}_fts_au`)} AFTER UPDATE OF text ON ${t} BEGIN
      INSERT INTO ${fts}(${fts}, rowid, text) VALUES ('delete', old.seq, old.text);
      INSERT INTO ${fts}(rowid, text) VALUES (new.seq, new.text);
    END`.execute(db);
  // Rows written before the index existed (messages from an earlier migration).
  await sql`INSERT INTO ${fts}(${fts}) VALUES ('rebuild')`.execute(db);
}
