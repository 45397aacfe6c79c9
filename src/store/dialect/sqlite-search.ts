import { sql, type SqlBool } from 'kysely';
import type { SearchDialect, TextIndexedTable } from './types.js';

/**
 * SQLite search: an external-content FTS5 table per indexed table (porter stemming, BM25 ranking; migration 0003);
 * vectors are float32 blobs scored with sqlite-vec's `vec_distance_cosine`, which works for any dimension in one
 * table. sqlite-vec 0.1 has no ANN index, so in large archives only the candidates of src/search's in-process
 * prefilter are scored.
 */
export const sqliteSearch: SearchDialect = {
  hasVectorIndex: false,

  async ensureVectorIndex() {},

  textMatches(table: TextIndexedTable, terms: string[]) {
    const fts = sql.table(`${table}_fts`);
    // Each term quoted, so user text can never be read as FTS5 query syntax; OR gives BM25 its usual semantics.
    const match = terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' OR ');
    return sql<{
      seq: number;
      score: number;
    }>`(SELECT rowid AS seq, -bm25(${fts}) AS score FROM ${fts} WHERE ${fts} MATCH ${match})`;
  },

  vectorDistance(column: string, vector: Float32Array) {
    return sql<number>`vec_distance_cosine(${sql.ref(column)}, ${encodeBlob(vector)})`;
  },

  unindexed: (column) => sql`+${sql.ref(column)}`,

  // A JSON array in one parameter: binding hundreds of ids one by one cost more than the work they select.
  inList: (column, values) =>
    sql<SqlBool>`${sql.ref(column)} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`,

  encodeVector: encodeBlob,
};

function encodeBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}
