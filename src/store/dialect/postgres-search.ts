import { sql, type Kysely, type SqlBool } from 'kysely';
import type { SearchDialect, TextIndexedTable } from './types.js';

/**
 * PostgreSQL search: `english` text search (stemming, stop words) over a GIN index, and pgvector. Vectors live in
 * one untyped `vector` column with their dimension beside them; each dimension gets its own partial HNSW index
 * on `embedding::vector(dim)`, so several models coexist and a query only ever meets vectors of its own size.
 *
 * Passages keep their tsvector in a stored generated column: ranking then reads it instead of re-parsing every
 * matching row's text (5k matches cost ~100 ms that way). Messages, whose table the runtime owns and reads with
 * `select *`, get an expression index only.
 */
const STORED_TSVECTOR: Record<TextIndexedTable, boolean> = { passages: true, messages: false };

function document(table: TextIndexedTable) {
  return STORED_TSVECTOR[table] ? sql.ref('search_tsv') : sql`to_tsvector('english', text)`;
}

export const postgresSearch: SearchDialect = {
  hasVectorIndex: true,

  async ensureVectorIndex(db: Kysely<any>, dim: number) {
    if (!Number.isInteger(dim) || dim <= 0 || dim > 16_000) throw new Error(`invalid vector dimension ${dim}`);
    // HNSW indexes vectors of at most 2,000 dimensions; larger models (3072) are scanned exactly.
    if (dim > 2000) return;
    await sql`CREATE INDEX IF NOT EXISTS ${sql.raw(`passage_vectors_hnsw_${dim}`)} ON passage_vectors
      USING hnsw ((embedding::vector(${sql.raw(String(dim))})) vector_cosine_ops) WHERE dim = ${sql.raw(String(dim))}`.execute(
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

  inList: (column, values) => sql<SqlBool>`${sql.ref(column)} = ANY(${values}::text[])`,

  encodeVector: encodeText,
};

function encodeText(vector: Float32Array): string {
  return `[${Array.from(vector).join(',')}]`;
}
