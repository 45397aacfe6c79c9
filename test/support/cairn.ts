import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Letta from '@letta-ai/letta-client';
import pg from 'pg';
import { loadConfig, type CairnConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createCairn, type Cairn } from '../../src/server.js';

export type TestDialect = 'sqlite' | 'postgres';

/** SQLite always; PostgreSQL when `CAIRN_TEST_PG_URI` is set (always under CI). `CAIRN_TEST_DIALECTS` narrows it. */
export function testDialects(): TestDialect[] {
  const wanted = (process.env.CAIRN_TEST_DIALECTS ?? 'sqlite,postgres').split(',').map((d) => d.trim());
  const available: TestDialect[] = ['sqlite'];
  if (process.env.CAIRN_TEST_PG_URI) available.push('postgres');
  return available.filter((d) => wanted.includes(d));
}

export interface TestCairn {
  cairn: Cairn;
  baseURL: string;
  config: CairnConfig;
  /** The official SDK, unmodified, pointed at this server. */
  client: Letta;
  close(): Promise<void>;
}

/** A fresh database per server: a temp directory for SQLite, a new database (from template1, with pgvector) for PostgreSQL. */
export async function createTestDatabase(
  dialect: TestDialect,
): Promise<{ dataDir: string; pgUri: string | undefined; drop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cairn-test-'));
  if (dialect === 'sqlite')
    return { dataDir, pgUri: undefined, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  const base = process.env.CAIRN_TEST_PG_URI;
  if (!base) throw new Error('CAIRN_TEST_PG_URI is not set');
  const name = `cairn_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE template1`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    dataDir,
    pgUri: url.toString(),
    drop: async () => {
      rmSync(dataDir, { recursive: true, force: true });
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export async function startCairn(
  dialect: TestDialect,
  overrides: Partial<CairnConfig> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<TestCairn> {
  const database = await createTestDatabase(dialect);
  const config = {
    ...loadConfig({ port: 0, host: '127.0.0.1', dataDir: database.dataDir }, { ...env, LETTA_PG_URI: database.pgUri }),
    ...overrides,
  };
  const cairn = await createCairn(config, createLogger(process.env.CAIRN_TEST_LOG_LEVEL ?? 'silent'));
  await cairn.app.listen({ host: '127.0.0.1', port: 0 });
  const address = cairn.app.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no TCP address');
  const baseURL = `http://127.0.0.1:${address.port}`;
  return {
    cairn,
    baseURL,
    config,
    client: new Letta({ baseURL, apiKey: config.password ?? null, maxRetries: 0 }),
    close: async () => {
      await cairn.close();
      await database.drop();
    },
  };
}

/** Has the test PostgreSQL server end every connection to `pgUri`'s database but its own; returns how many it ended. */
export async function terminateConnections(pgUri: string): Promise<number> {
  const admin = new pg.Client({ connectionString: process.env.CAIRN_TEST_PG_URI });
  await admin.connect();
  try {
    const ended = await admin.query<{ n: string }>(
      'select count(*) filter (where pg_terminate_backend(pid)) as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [new URL(pgUri).pathname.slice(1)],
    );
    return Number(ended.rows[0]!.n);
  } finally {
    await admin.end();
  }
}
