import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type SqliteDatabase as SqliteDatabaseLike,
  type SqliteDialectConfig,
} from 'kysely';
import * as sqliteVec from 'sqlite-vec';
import type { Database } from '../schema.js';
import { startCheckpointer } from './sqlite-checkpointer.js';
import { sqliteSearch } from './sqlite-search.js';
import type { Dialect } from './types.js';

export function openSqlite(file: string, onBackgroundError: (error: Error) => void = () => {}): Dialect {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const connection = new SqliteDatabase(file);
  connection.pragma('journal_mode = WAL');
  // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the last commits.
  connection.pragma('synchronous = NORMAL');
  connection.pragma('foreign_keys = ON');
  connection.pragma('busy_timeout = 5000');
  // Reads through a memory map instead of a read() per page: a vector rescore touches hundreds of scattered 2 KB
  // rows, and the syscalls were a third of its cost (docs/benchmarks/2026-11-lab-notebook.md). Address space only; pages stay the OS's.
  connection.pragma('mmap_size = 1073741824');
  sqliteVec.load(connection);
  const checkpointer =
    file === ':memory:'
      ? undefined
      : startCheckpointer(connection, file, (message) => onBackgroundError(new Error(message)));
  const kysely = new RollbackTolerantSqliteDialect({ database: withStatementCache(connection) }, connection);
  const db = new Kysely<Database>({ dialect: kysely });
  return {
    name: 'sqlite',
    db,
    kysely,
    // In-process: one transaction costs no round trips, only its commit.
    remote: false,
    supportsSkipLocked: false,
    runTogether: (queries) =>
      db.transaction().execute(async (trx) => {
        const results = [];
        for (const query of queries) results.push(await trx.executeQuery(query));
        return results;
      }),
    likeOperator: 'like',
    isUniqueViolation: (error) =>
      sqliteCode(error).startsWith('SQLITE_CONSTRAINT_UNIQUE') || sqliteCode(error) === 'SQLITE_CONSTRAINT_PRIMARYKEY',
    isForeignKeyViolation: (error) => sqliteCode(error) === 'SQLITE_CONSTRAINT_FOREIGNKEY',
    close: async () => {
      // The worker's connection closes first, so the server's, the last one, checkpoints and removes the WAL.
      await checkpointer?.stop();
      await db.destroy();
    },
    search: sqliteSearch,
  };
}

/**
 * SQLite rolls a transaction back by itself on some errors (SQLITE_FULL on a full disk among them); Kysely's
 * ROLLBACK after that fails with "no transaction is active" and replaces the error that says what happened, so
 * the disk-full 507 became an opaque 500. Nothing is left to roll back then, so the ROLLBACK is skipped.
 */
class RollbackTolerantSqliteDialect extends SqliteDialect {
  constructor(
    private readonly settings: SqliteDialectConfig,
    private readonly connection: SqliteDatabase.Database,
  ) {
    super(settings);
  }

  override createDriver(): SqliteDriver {
    const connection = this.connection;
    return new (class extends SqliteDriver {
      override async rollbackTransaction(kyselyConnection: DatabaseConnection): Promise<void> {
        if (connection.inTransaction) await super.rollbackTransaction(kyselyConnection);
      }
    })(this.settings);
  }
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every statement it runs; preparing costs as much as running a point query, and the SQL of a
 * given query shape never changes (values are bound), so compiled statements are reused. Kysely runs one
 * statement at a time on this single connection, so a cached statement is never busy when it is reused.
 */
function withStatementCache(connection: SqliteDatabase.Database): SqliteDatabaseLike {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => connection.close(),
    prepare: (sql: string) => {
      let statement = cache.get(sql);
      if (!statement) {
        statement = connection.prepare(sql);
        // Evict the oldest entry: ad-hoc shapes (IN lists of varying length) must not grow the cache unbounded.
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

function sqliteCode(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
}
