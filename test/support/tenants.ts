import pg from 'pg';
import { tenantDatabaseName } from '../../src/store/tenant-database.js';

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.CAIRN_TEST_PG_URI });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function databaseExists(name: string): Promise<boolean> {
  return withAdmin(async (c) => (await c.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1);
}

/** The tenant databases a test server made next to its own (which the support code drops). */
export async function dropTenantDatabases(pgUri: string): Promise<void> {
  const main = new URL(pgUri).pathname.slice(1);
  const prefix = tenantDatabaseName(main, 'org-').replace(/_$/, '');
  await withAdmin(async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      'select datname from pg_database where starts_with(datname, $1)',
      [prefix],
    );
    for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  });
}
