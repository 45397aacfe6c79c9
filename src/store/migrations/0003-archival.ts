import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect/types.js';
import { LOCAL_EMBEDDING_DIM } from '../../services/model-config.js';

/**
 * Archival memory: archives (shareable passage stores), their agents, passages with tags, vectors and the
 * embedding queue; full-text indexes over passages and over message text (recall search).
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await dialect
    .addSeqColumn(db.schema.createTable('archives'))
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

  await dialect
    .addSeqColumn(db.schema.createTable('passages'))
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
  await dialect.search.enableVectors(db);
  await db.schema
    .createTable('passage_vectors')
    .addColumn('passage_id', 'text', (c) => c.primaryKey().references('passages.id').onDelete('cascade'))
    .addColumn('archive_id', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('dim', 'integer', (c) => c.notNull())
    .addColumn('embedding', dialect.search.vectorColumnType, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('passage_vectors_archive_idx')
    .on('passage_vectors')
    .columns(['archive_id', 'model', 'dim'])
    .execute();
  await dialect.search.ensureVectorIndex(db, LOCAL_EMBEDDING_DIM);
  await dialect.search.createTextIndex(db, 'passages');
  await dialect.search.createTextIndex(db, 'messages');
}
