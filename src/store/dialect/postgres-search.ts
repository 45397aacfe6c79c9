import { sql, type Kysely } from 'kysely';
import type { SearchDialect, TextIndexedTable } from './types.js';

/**
 * PostgreSQL search: `english` text search (stemming, stop words) over a GIN index, and pgvector. Vectors live in
 * one untyped `vector` column with their dimension beside them; each dimension gets its own partial HNSW index
 * on `embedding::vector(dim)`, so several models coexist and a query only ever meets vectors of its own size.
 */
/**
 * Passages keep their tsvector in a stored generated column: ranking then reads it instead of re-parsing every
 * matching row's text (5k matches cost ~100 ms that way). Messages, whose table the runtime owns and reads with
 * `select *`, get an expression index only.
 */
const STORED_TSVECTOR: Record<TextIndexedTable, boolean> = { passages: true, messages: false };

function document(table: TextIndexedTable) {
  return STORED_TSVECTOR[table] ? sql.ref('search_tsv') : sql`to_tsvector('english', text)`;
}

export const postgresSearch: SearchDialect = {
  async createTextIndex(db: Kysely<any>, table: TextIndexedTable) {
    if (STORED_TSVECTOR[table]) {
      await sql`ALTER TABLE ${sql.table(table)} ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED`.execute(
        db,
      );
    }
    await sql`CREATE INDEX ${sql.raw(`${table}_text_gin`)} ON ${sql.table(table)} USING gin (${document(table)})`.execute(
      db,
    );
  },

  async enableVectors(db: Kysely<any>) {
    await sql`CREATE EXTENSION IF NOT EXISTS vector`.execute(db);
  },

  vectorColumnType: sql`vector`,

  async ensureVectorIndex(db: Kysely<any>, dim: number) {
    if (!Number.isInteger(dim) || dim <= 0 || dim > 16_000) throw new Error(`invalid vector dimension ${dim}`);
    // HNSW indexes vectors of at most 2,000 dimensions; larger models (3072) are scanned exactly.
    if (dim > 2000) return;
    await sql`CREATE INDEX IF NOT EXISTS ${sql.raw(`passage_vectors_hnsw_${dim}`)} ON passage_vectors
      USING hnsw ((embedding::vector(${sql.raw(String(dim))})) vector_cosine_ops) WHERE dim = ${sql.raw(String(dim))}`.execute(
      db,
    );
  },

  async createVectorChangeCounters() {
    // HNSW indexes are maintained by PostgreSQL; there is no in-process index to keep current.
  },

  async createTextChangeCounters(db: Kysely<any>) {
    await sql`CREATE TABLE passage_text_versions (archive_id TEXT PRIMARY KEY, inserts BIGINT NOT NULL, deletes BIGINT NOT NULL)`.execute(
      db,
    );
    // Statement-level triggers over transition tables: a batch insert bumps each archive's row once, not per passage.
    const counter = (name: string, rows: string, inserts: string, deletes: string) =>
      sql.raw(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO passage_text_versions (archive_id, inserts, deletes)
          SELECT archive_id, ${inserts}, ${deletes} FROM ${rows} GROUP BY archive_id
          ON CONFLICT (archive_id) DO UPDATE SET inserts = passage_text_versions.inserts + EXCLUDED.inserts, deletes = passage_text_versions.deletes + EXCLUDED.deletes;
        RETURN NULL;
      END $$`);
    await counter('passages_text_count_insert', 'new_rows', 'count(*)', '0').execute(db);
    await counter('passages_text_count_delete', 'old_rows', '0', 'count(*)').execute(db);
    await sql`CREATE TRIGGER passages_text_count_ai AFTER INSERT ON passages REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION passages_text_count_insert()`.execute(
      db,
    );
    await sql`CREATE TRIGGER passages_text_count_ad AFTER DELETE ON passages REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION passages_text_count_delete()`.execute(
      db,
    );
    // Cairn never rewrites a passage's text or archive; if anything does, both archives reconcile. (Row level:
    // PostgreSQL allows no transition tables on a trigger with a column list, and embedding bookkeeping updates
    // passages constantly without touching either column.)
    await sql`CREATE FUNCTION passages_text_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO passage_text_versions (archive_id, inserts, deletes) SELECT DISTINCT unnest(ARRAY[OLD.archive_id, NEW.archive_id]), 0, 1
          ON CONFLICT (archive_id) DO UPDATE SET deletes = passage_text_versions.deletes + 1;
        RETURN NULL;
      END $$`.execute(db);
    await sql`CREATE TRIGGER passages_text_count_au AFTER UPDATE OF text, archive_id ON passages FOR EACH ROW EXECUTE FUNCTION passages_text_count_update()`.execute(
      db,
    );
  },

  textMatches(table: TextIndexedTable, terms: string[]) {
    // Terms are [a-z0-9]+ words (the caller tokenises), so joining them with | is a valid tsquery.
    const query = terms.join(' | ');
    const doc = document(table);
    return sql<{ seq: number; score: number }>`(SELECT seq, ts_rank_cd(${doc}, q, 1) AS score
      FROM ${sql.table(table)}, to_tsquery('english', ${query}) q WHERE ${doc} @@ q)`;
  },

  vectorDistance(column: string, vector: Float32Array, dim: number) {
    const type = sql.raw(`vector(${dim})`);
    return sql<number>`(${sql.ref(column)}::${type} <=> ${encodeText(vector)}::${type})`;
  },

  unindexed: (column) => sql.ref(column),

  encodeVector: encodeText,
};

function encodeText(vector: Float32Array): string {
  return `[${Array.from(vector).join(',')}]`;
}
