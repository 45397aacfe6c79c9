import { APIError } from '@letta-ai/letta-client';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_PG_POOL } from '../../src/store/database.js';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';

describe("PostgreSQL pool settings (Letta's names)", () => {
  const poolOf = (env: NodeJS.ProcessEnv) => loadConfig({}, env).pgPool;

  it('defaults, and each variable read as a whole number', () => {
    expect(poolOf({})).toEqual(DEFAULT_PG_POOL);
    expect(poolOf({ LETTA_PG_POOL_SIZE: '25', LETTA_PG_MAX_OVERFLOW: '0', LETTA_PG_POOL_TIMEOUT: '5', LETTA_PG_POOL_RECYCLE: '600' })).toEqual({
      size: 25,
      overflow: 0,
      timeoutSeconds: 5,
      recycleSeconds: 600,
    });
  });

  it('refuses values that are not whole numbers in range, naming the variable', () => {
    expect(() => poolOf({ LETTA_PG_POOL_SIZE: '0' })).toThrow("invalid LETTA_PG_POOL_SIZE: '0' (a whole number, at least 1)");
    expect(() => poolOf({ LETTA_PG_MAX_OVERFLOW: '-1' })).toThrow('invalid LETTA_PG_MAX_OVERFLOW');
    expect(() => poolOf({ LETTA_PG_POOL_TIMEOUT: '2.5' })).toThrow('invalid LETTA_PG_POOL_TIMEOUT');
    expect(() => poolOf({ LETTA_PG_POOL_RECYCLE: 'soon' })).toThrow('invalid LETTA_PG_POOL_RECYCLE');
  });
});

describe.each(testDialects().filter((d) => d === 'postgres'))('PostgreSQL connection pool [%s]', (dialect) => {
  let server: TestCairn | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('a request that cannot get a connection within LETTA_PG_POOL_TIMEOUT gets 503, and nothing is lost', async () => {
    server = await startCairn(dialect, {}, { LETTA_PG_POOL_SIZE: '1', LETTA_PG_MAX_OVERFLOW: '0', LETTA_PG_POOL_TIMEOUT: '1' });
    const { client, cairn } = server;
    const kept = await client.agents.create({ name: 'before-the-wait', include_base_tools: false });

    // Hold the pool's only connection in an open transaction.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const holder = cairn.dialect.db.transaction().execute(async (trx) => {
      await sql`SELECT 1`.execute(trx);
      holding();
      await released;
    });
    await held;

    const started = Date.now();
    const refused = await client.agents.create({ name: 'during-the-wait', include_base_tools: false }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(APIError);
    expect((refused as APIError).status).toBe(503);
    expect(JSON.stringify((refused as APIError).error)).toContain('LETTA_PG_POOL_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);

    release();
    await holder;
    const names = (await client.agents.list()).items.map((a) => a.name);
    expect(names).toEqual([kept.name]);
    await client.agents.create({ name: 'after-the-wait', include_base_tools: false });
    expect((await client.agents.list()).items.map((a) => a.name).sort()).toEqual(['after-the-wait', 'before-the-wait']);
  });
});
