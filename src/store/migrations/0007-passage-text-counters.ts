import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect/types.js';

/**
 * Per-archive counters of passage inserts and deletes in `passage_text_versions`, kept by triggers, which keep the
 * in-process lexical index current. Cairn never rewrites a passage's text or archive; if anything does, it counts
 * as a delete, so the index reconciles.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  if (dialect === 'sqlite')
    await sqliteChangeCounters(db, 'passage_text_versions', 'passages', 'passages_text_count', ' OF text, archive_id');
  else await postgresChangeCounters(db);
}

/** PostgreSQL: trigger functions over transition tables, and a row trigger for the rare rewrite. */
async function postgresChangeCounters(db: Kysely<any>): Promise<void> {
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
