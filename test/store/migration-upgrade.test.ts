import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, migrate, type DatabaseConfig } from '../../src/store/database.js';
import { DEFAULT_PG_POOL } from '../../src/store/dialect/postgres-pool.js';
import type { Dialect } from '../../src/store/dialect/types.js';
import { migrations } from '../../src/store/migrations/index.js';
import { createTestDatabase, testDialects } from '../support/cairn.js';

/**
 * A database left by any earlier release must upgrade to today's schema with every row it held intact. For each
 * migration, a database is built as that release left it, every table is given rows (every column set, nullable
 * ones both set and NULL), the remaining migrations run as Cairn's start-up runs them, and each row is looked up
 * again by every column that still exists.
 */

/** Tables a later migration removes on purpose, with the migration that moved their rows elsewhere. */
const DROPPED: Record<string, string> = { turn_locks: '0008-run-thread-lock moved each lock into its run' };

type Row = Record<string, unknown>;
interface Seeded {
  table: string;
  row: Row;
}

// Tables untyped: each schema version has its own.
type AnyDb = Kysely<any>;

function valueFor(dataType: string, column: string, table: string, i: number): unknown {
  const type = dataType.toLowerCase();
  if (/int|serial/.test(type)) return i + 1;
  if (/real|float|double|numeric/.test(type)) return i + 0.5;
  if (type === 'bool' || type === 'boolean') return i % 2 === 0;
  if (type === 'blob' || type === 'bytea') return Buffer.from([i, 7, 255]);
  if (type === 'json' || type === 'jsonb') return JSON.stringify({ seeded: `${table}.${column}.${i}` });
  if (type === 'timestamptz' || type === 'timestamp') return new Date(Date.UTC(2026, 0, 1 + i)).toISOString();
  if (type === 'vector') return '[0.25,0.5,0.75]';
  if (type === 'tsvector') return 'seeded';
  // Text: dates where the name says so (the code compares them as ISO strings), else a value unique per row.
  if (column.endsWith('_at')) return new Date(Date.UTC(2026, 0, 1 + i)).toISOString();
  return `${table}.${column}.${i}`;
}

/** The tables rows can be written to directly: no virtual tables (FTS5, vec0), their shadows, or the migrator's. */
async function plainTables(dialect: Dialect) {
  const tables = await dialect.db.introspection.getTables();
  let virtual: string[] = [];
  if (dialect.name === 'sqlite') {
    const rows = await sql<{ name: string }>`
      SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'`.execute(dialect.db);
    virtual = rows.rows.map((r) => r.name);
  }
  return tables.filter(
    (t) =>
      !t.isView &&
      !t.name.startsWith('cairn_migrations') &&
      !t.name.startsWith('sqlite_') &&
      !virtual.some((v) => t.name === v || t.name.startsWith(`${v}_`)),
  );
}

/** Two rows in every table; foreign keys are off for the seeding, as each table's rows stand for themselves. */
async function seedEveryTable(dialect: Dialect): Promise<Seeded[]> {
  const seeded: Seeded[] = [];
  const tables = await plainTables(dialect);
  // Generated columns (PostgreSQL's search vectors) take no value of their own.
  const generated = new Set<string>();
  if (dialect.name === 'postgres') {
    const rows = await sql<{ table_name: string; column_name: string }>`
      SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND is_generated = 'ALWAYS'`.execute(dialect.db);
    for (const r of rows.rows) generated.add(`${r.table_name}.${r.column_name}`);
  }
  const write = async (db: AnyDb) => {
    for (const table of tables)
      for (const i of [0, 1]) {
        const row: Row = {};
        for (const column of table.columns) {
          if (column.isAutoIncrementing || column.name === 'seq' || generated.has(`${table.name}.${column.name}`))
            continue;
          row[column.name] =
            column.isNullable && i === 1 ? null : valueFor(column.dataType, column.name, table.name, i);
        }
        await db.insertInto(table.name).values(row).execute();
        seeded.push({ table: table.name, row });
      }
  };
  if (dialect.name === 'sqlite') {
    await sql`PRAGMA foreign_keys = OFF`.execute(dialect.db);
    await write(dialect.db);
    await sql`PRAGMA foreign_keys = ON`.execute(dialect.db);
  } else {
    await dialect.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL session_replication_role = replica`.execute(trx);
      await write(trx);
    });
  }
  return seeded;
}

async function stillThere(db: AnyDb, existing: Map<string, Set<string>>, { table, row }: Seeded): Promise<number> {
  const columns = existing.get(table)!;
  let query = db.selectFrom(table).select(sql<number>`count(*)`.as('n'));
  for (const [column, value] of Object.entries(row)) {
    if (!columns.has(column)) continue;
    query = value === null ? query.where(column, 'is', null) : query.where(column, '=', value);
  }
  return Number((await query.executeTakeFirstOrThrow()).n);
}

describe.each(testDialects())('upgrading from every earlier schema [%s]', (dialect) => {
  const names = Object.keys(migrations);
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });

  it.each(names.slice(0, -1))('keeps every row of a database left at %s', async (version) => {
    const database = await createTestDatabase(dialect);
    cleanup.push(database.drop);
    const config: DatabaseConfig =
      dialect === 'sqlite'
        ? { kind: 'sqlite', file: join(database.dataDir, 'cairn.db') }
        : { kind: 'postgres', uri: database.pgUri!, pool: DEFAULT_PG_POOL };
    const old =
      dialect === 'sqlite'
        ? (await import('../../src/store/dialect/sqlite.js')).openSqlite(join(database.dataDir, 'cairn.db'))
        : (await import('../../src/store/dialect/postgres.js')).openPostgres(database.pgUri!, DEFAULT_PG_POOL);
    let seeded: Seeded[];
    try {
      await migrate(old, version);
      seeded = await seedEveryTable(old);
    } finally {
      await old.close();
    }
    expect(seeded.length).toBeGreaterThan(0);

    const upgraded = await openDatabase(config);
    cleanup.push(() => upgraded.close());
    const existing = new Map(
      (await upgraded.db.introspection.getTables()).map((t) => [t.name, new Set(t.columns.map((c) => c.name))]),
    );
    const missing: string[] = [];
    const dropped = new Set<string>();
    for (const entry of seeded) {
      if (!existing.has(entry.table)) {
        dropped.add(entry.table);
        continue;
      }
      if ((await stillThere(upgraded.db, existing, entry)) !== 1)
        missing.push(`${entry.table} ${JSON.stringify(entry.row).slice(0, 200)}`);
    }
    expect(missing).toEqual([]);
    expect([...dropped].filter((t) => !(t in DROPPED))).toEqual([]);
  });
});
