import { sql, type Kysely } from 'kysely';
import { SqliteVectorIndex } from './sqlite-vector-index.js';
import type { SearchDialect, TextIndexedTable } from './types.js';

/**
 * SQLite search: an external-content FTS5 table per indexed table (porter stemming, BM25 ranking), kept in sync
 * by triggers so that no write path can forget it and a cascade delete leaves no index rows behind; vectors are
 * float32 blobs scored with sqlite-vec's `vec_distance_cosine`, which works for any dimension in one table; in large
 * archives only the candidates of an in-process binary prefilter are scored.
 */
const sqliteSearch: SearchDialect = {
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
    // sqlite-vec 0.1 has no ANN index; large archives use the in-process prefilter (sqlite-vector-index.ts).
  },

  async createVectorChangeCounters(db: Kysely<any>) {
    await sql`CREATE TABLE passage_vector_versions (archive_id TEXT PRIMARY KEY, inserts INTEGER NOT NULL, deletes INTEGER NOT NULL)`.execute(db);
    // Updates count as deletes: the in-process index then rebuilds instead of appending.
    const bump = (row: 'new' | 'old', column: 'inserts' | 'deletes') =>
      sql.raw(`INSERT INTO passage_vector_versions (archive_id, inserts, deletes) VALUES (${row}.archive_id, ${column === 'inserts' ? 1 : 0}, ${column === 'deletes' ? 1 : 0})
        ON CONFLICT (archive_id) DO UPDATE SET ${column} = ${column} + 1;`);
    await sql`CREATE TRIGGER passage_vectors_count_ai AFTER INSERT ON passage_vectors BEGIN ${bump('new', 'inserts')} END`.execute(db);
    await sql`CREATE TRIGGER passage_vectors_count_ad AFTER DELETE ON passage_vectors BEGIN ${bump('old', 'deletes')} END`.execute(db);
    await sql`CREATE TRIGGER passage_vectors_count_au AFTER UPDATE ON passage_vectors BEGIN ${bump('old', 'deletes')} ${bump('new', 'deletes')} END`.execute(db);
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

/** SQLite search for one database: the vector prefilter's in-memory index belongs to that database. */
export function createSqliteSearch(): SearchDialect {
  const index = new SqliteVectorIndex();
  return { ...sqliteSearch, vectorCandidates: (db, archiveIds, model, vector, candidates) => index.candidates(db, archiveIds, model, vector, candidates) };
}

function encodeBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}
