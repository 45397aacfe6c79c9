import { sql, type Kysely } from 'kysely';
import type { SearchDialect, TextIndexedTable } from './types.js';

/**
 * SQLite search: an external-content FTS5 table per indexed table (porter stemming, BM25 ranking), kept in sync
 * by triggers so that no write path can forget it and a cascade delete leaves no index rows behind; vectors are
 * float32 blobs scored with sqlite-vec's `vec_distance_cosine`, which works for any dimension in one table.
 */
export const sqliteSearch: SearchDialect = {
  async createTextIndex(db: Kysely<any>, table: TextIndexedTable) {
    const fts = sql.table(`${table}_fts`);
    const t = sql.table(table);
    await sql`CREATE VIRTUAL TABLE ${fts} USING fts5(text, content=${sql.lit(table)}, content_rowid='seq', tokenize='porter unicode61 remove_diacritics 2')`.execute(db);
    await sql`CREATE TRIGGER ${sql.raw(`${table}_fts_ai`)} AFTER INSERT ON ${t} BEGIN INSERT INTO ${fts}(rowid, text) VALUES (new.seq, new.text); END`.execute(db);
    await sql`CREATE TRIGGER ${sql.raw(`${table}_fts_ad`)} AFTER DELETE ON ${t} BEGIN INSERT INTO ${fts}(${fts}, rowid, text) VALUES ('delete', old.seq, old.text); END`.execute(db);
    await sql`CREATE TRIGGER ${sql.raw(`${table}_fts_au`)} AFTER UPDATE OF text ON ${t} BEGIN
      INSERT INTO ${fts}(${fts}, rowid, text) VALUES ('delete', old.seq, old.text);
      INSERT INTO ${fts}(rowid, text) VALUES (new.seq, new.text);
    END`.execute(db);
    // Rows written before the index existed (messages from an earlier migration).
    await sql`INSERT INTO ${fts}(${fts}) VALUES ('rebuild')`.execute(db);
  },

  async enableVectors() {
    // sqlite-vec is loaded into every connection when the database is opened.
  },

  vectorColumnType: 'blob',

  async ensureVectorIndex() {
    // sqlite-vec 0.1 has no ANN index; the scan is over one archive's rows of one model (see docs/benchmarks.md).
  },

  textMatches(table: TextIndexedTable, terms: string[]) {
    const fts = sql.table(`${table}_fts`);
    // Each term quoted, so user text can never be read as FTS5 query syntax; OR gives BM25 its usual semantics.
    const match = terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' OR ');
    return sql<{ seq: number; score: number }>`(SELECT rowid AS seq, -bm25(${fts}) AS score FROM ${fts} WHERE ${fts} MATCH ${match})`;
  },

  vectorDistance(column: string, vector: Float32Array) {
    return sql<number>`vec_distance_cosine(${sql.ref(column)}, ${encodeBlob(vector)})`;
  },

  encodeVector: encodeBlob,
};

function encodeBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}
