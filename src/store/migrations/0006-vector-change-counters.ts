import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect/types.js';

/**
 * Per-archive counters of vector writes, which keep SQLite's in-process vector prefilter current. Updates count as
 * deletes: the prefilter then rebuilds instead of appending. PostgreSQL's HNSW index needs no counters.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  if (dialect === 'sqlite')
    await sqliteChangeCounters(db, 'passage_vector_versions', 'passage_vectors', 'passage_vectors_count', '');
}

/** A per-archive (inserts, deletes) counter table for `table`, kept by SQLite row triggers. */
async function sqliteChangeCounters(
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
