import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sql } from 'kysely';
import type { DatabaseConfig } from './database.js';
import type { Dialect } from './dialect/types.js';

/** PostgreSQL's identifier limit: a longer database name is silently truncated, so two could collide. */
const PG_NAME_MAX = 63;

/**
 * One database per organisation, next to the main one: `<dataDir>/orgs/<org id>.db` beside SQLite's `cairn.db`,
 * and on PostgreSQL a database named after the main database and the organisation. Its name keeps a hash of the
 * main database's full name, so two Cairn installations sharing a PostgreSQL server cannot share a tenant.
 */
export function tenantDatabaseName(mainDatabase: string, organizationId: string): string {
  const org = organizationId.replace(/^org-/, '').replaceAll('-', '');
  const hash = createHash('sha256').update(mainDatabase).digest('hex').slice(0, 8);
  const head = mainDatabase
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, PG_NAME_MAX - org.length - hash.length - 2);
  return `${head}_${hash}_${org}`;
}

function sqliteFile(main: { file: string }, organizationId: string): string {
  return join(dirname(main.file), 'orgs', `${organizationId}.db`);
}

function pgDatabaseUri(uri: string, organizationId: string): { uri: string; name: string } {
  const url = new URL(uri);
  const name = tenantDatabaseName(decodeURIComponent(url.pathname.slice(1)) || 'postgres', organizationId);
  url.pathname = `/${name}`;
  return { uri: url.toString(), name };
}

/** The tenant's database, created on PostgreSQL when missing (its migrations run when it is opened). */
export async function tenantDatabaseConfig(
  main: DatabaseConfig,
  mainDialect: Dialect,
  organizationId: string,
): Promise<DatabaseConfig> {
  if (main.kind === 'sqlite') return { kind: 'sqlite', file: sqliteFile(main, organizationId) };
  const { uri, name } = pgDatabaseUri(main.uri, organizationId);
  const exists = await sql`select 1 from pg_database where datname = ${name}`.execute(mainDialect.db);
  if (exists.rows.length === 0) {
    try {
      await sql`CREATE DATABASE ${sql.id(name)}`.execute(mainDialect.db);
    } catch (error) {
      // Another process created it first (duplicate_database, or the catalog's unique index in a close race).
      const code = (error as { code?: string }).code;
      if (code !== '42P04' && code !== '23505') throw error;
    }
  }
  return { kind: 'postgres', uri, pool: main.pool };
}

/** Removes a deleted organisation's data for good; its tenant must be closed first. */
export async function dropTenantDatabase(
  main: DatabaseConfig,
  mainDialect: Dialect,
  organizationId: string,
): Promise<void> {
  if (main.kind === 'sqlite') {
    const file = sqliteFile(main, organizationId);
    await Promise.all(['', '-wal', '-shm'].map((suffix) => rm(`${file}${suffix}`, { force: true })));
    return;
  }
  const { name } = pgDatabaseUri(main.uri, organizationId);
  // FORCE ends the connections other Cairn processes still hold to it.
  await sql`DROP DATABASE IF EXISTS ${sql.id(name)} WITH (FORCE)`.execute(mainDialect.db);
}
