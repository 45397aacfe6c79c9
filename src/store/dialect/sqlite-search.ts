import { sql, type Kysely, type SqlBool } from 'kysely';
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
  },

  async enableVectors() {
    // sqlite-vec is loaded into every connection when the database is opened.
  },

  vectorColumnType: 'blob',

  async ensureVectorIndex() {
    // sqlite-vec 0.1 has no ANN index; large archives use the in-process prefilter (sqlite-vector-index.ts).
  },

  async createVectorChangeCounters(db: Kysely<any>) {
    // Updates count as deletes: the in-process index then rebuilds instead of appending.
    await createChangeCounters(db, 'passage_vector_versions', 'passage_vectors', 'passage_vectors_count', '');
  },

  async createTextChangeCounters(db: Kysely<any>) {
    // Cairn never rewrites a passage's text or archive; if anything does, it counts as a delete, so the index reconciles.
    await createChangeCounters(db, 'passage_text_versions', 'passages', 'passages_text_count', ' OF text, archive_id');
  },

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

  encodeVector: encodeBlob,
};

/** SQLite search for one database: the vector prefilter's in-memory index belongs to that database. */
export function createSqliteSearch(): SearchDialect {
  const index = new SqliteVectorIndex();
  return {
    ...sqliteSearch,
    async vectorCandidates(db, archiveIds, model, vector, candidates) {
      const ids = await index.candidates(db, archiveIds, model, vector, candidates);
      if (!ids) return undefined;
      // A JSON array in one parameter: binding hundreds of ids one by one cost more than scoring them.
      const list = JSON.stringify(ids);
      return {
        count: ids.length,
        includes: (column) => sql<SqlBool>`${sql.ref(column)} IN (SELECT value FROM json_each(${list}))`,
      };
    },
  };
}

/** A per-archive (inserts, deletes) counter table for `table`, kept by row triggers. */
async function createChangeCounters(
  db: Kysely<any>,
  counters: string,
  table: string,
  triggerPrefix: string,
  updateOf: string,
): Promise<void> {
  await sql`CREATE TABLE ${sql.table(counters)} (archive_id TEXT PRIMARY KEY, inserts INTEGER NOT NULL, deletes INTEGER NOT NULL)`.execute(
    db,
  );
  const bump = (row: 'new' | 'old', column: 'inserts' | 'deletes') =>
    sql.raw(`INSERT INTO ${counters} (archive_id, inserts, deletes) VALUES (${row}.archive_id, ${column === 'inserts' ? 1 : 0}, ${column === 'deletes' ? 1 : 0})
      ON CONFLICT (archive_id) DO UPDATE SET ${column} = ${column} + 1;`);
  const on = sql.table(table);
  await sql`CREATE TRIGGER ${sql.raw(`${triggerPrefix}_ai`)} AFTER INSERT ON ${on} BEGIN ${bump('new', 'inserts')} END`.execute(
    db,
  );
  await sql`CREATE TRIGGER ${sql.raw(`${triggerPrefix}_ad`)} AFTER DELETE ON ${on} BEGIN ${bump('old', 'deletes')} END`.execute(
    db,
  );
  await sql`CREATE TRIGGER ${sql.raw(`${triggerPrefix}_au`)} AFTER UPDATE${sql.raw(updateOf)} ON ${on} BEGIN ${bump('old', 'deletes')} ${bump('new', 'deletes')} END`.execute(
    db,
  );
}

function encodeBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}
