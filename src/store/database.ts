import { join } from 'node:path';
import { Migrator, type Kysely, type Migration } from 'kysely';
import type { Dialect } from './dialect/types.js';
import { migrations } from './migrations/index.js';
import { DEFAULT_PG_POOL, type PgPoolSettings } from './dialect/postgres-pool.js';

export type DatabaseConfig = { kind: 'sqlite'; file: string } | { kind: 'postgres'; uri: string; pool: PgPoolSettings };

export function databaseConfigFor(options: {
  pgUri?: string | undefined;
  pgPool?: PgPoolSettings | undefined;
  dataDir: string;
}): DatabaseConfig {
  return options.pgUri
    ? { kind: 'postgres', uri: options.pgUri, pool: options.pgPool ?? DEFAULT_PG_POOL }
    : { kind: 'sqlite', file: join(options.dataDir, 'cairn.db') };
}

/** `onBackgroundError`: failures outside any request (a PostgreSQL pool connection lost, a SQLite WAL checkpoint). */
export async function openDatabase(
  config: DatabaseConfig,
  onBackgroundError: (error: Error) => void = () => {},
): Promise<Dialect> {
  // Each driver is loaded only when used: importing `pg` alone adds ~60-100 ms to an embedded (SQLite) cold start.
  const dialect =
    config.kind === 'sqlite'
      ? (await import('./dialect/sqlite.js')).openSqlite(config.file, onBackgroundError)
      : (await import('./dialect/postgres.js')).openPostgres(config.uri, config.pool, onBackgroundError);
  try {
    await migrate(dialect);
  } catch (error) {
    await dialect.close();
    throw error;
  }
  return dialect;
}

/**
 * Kysely's migrator takes a lock (an advisory lock on PostgreSQL) so that several Cairn processes starting
 * against one database apply each migration exactly once. `until` stops after that migration: the upgrade tests
 * build databases as each earlier release left them.
 */
export async function migrate(dialect: Dialect, until?: string): Promise<void> {
  const provided: Record<string, Migration> = {};
  for (const [name, module] of Object.entries(migrations)) {
    provided[name] = { up: (db: Kysely<any>) => module.up(db, dialect.name) };
  }
  const migrator = new Migrator({
    db: dialect.db,
    provider: { getMigrations: async () => provided },
    migrationTableName: 'cairn_migrations',
    migrationLockTableName: 'cairn_migrations_lock',
  });
  const { error, results } = await (until ? migrator.migrateTo(until) : migrator.migrateToLatest());
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(
      `database migration ${failed ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
}
