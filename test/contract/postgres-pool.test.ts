import { APIError } from '@letta-ai/letta-client';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_PG_POOL } from '../../src/store/database.js';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';
import { http } from '../support/http.js';

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
    expect(() => poolOf({ LETTA_PG_POOL_SIZE: '0' })).toThrow("invalid LETTA_PG_POOL_SIZE: '0' (a whole number from 1 to");
    expect(() => poolOf({ LETTA_PG_MAX_OVERFLOW: '-1' })).toThrow('invalid LETTA_PG_MAX_OVERFLOW');
    expect(() => poolOf({ LETTA_PG_MAX_OVERFLOW: '1e3' })).toThrow('invalid LETTA_PG_MAX_OVERFLOW');
    expect(() => poolOf({ LETTA_PG_POOL_TIMEOUT: '2.5' })).toThrow('invalid LETTA_PG_POOL_TIMEOUT');
    // Longer than a Node timer can wait: it would fire at once and fail every request.
    expect(() => poolOf({ LETTA_PG_POOL_TIMEOUT: '2147484' })).toThrow("invalid LETTA_PG_POOL_TIMEOUT: '2147484' (a whole number from 1 to 2147483)");
    expect(() => poolOf({ LETTA_PG_POOL_RECYCLE: 'soon' })).toThrow('invalid LETTA_PG_POOL_RECYCLE');
  });

  it("takes Letta's -1 for never recycling, and a blank value as unset", () => {
    expect(poolOf({ LETTA_PG_POOL_RECYCLE: '-1' }).recycleSeconds).toBe(0);
    expect(poolOf({ LETTA_PG_MAX_OVERFLOW: ' ' }).overflow).toBe(DEFAULT_PG_POOL.overflow);
  });
});

describe.each(testDialects().filter((d) => d === 'postgres'))('PostgreSQL connection pool [%s]', (dialect) => {
  let server: TestCairn | undefined;
  let llm: FakeLlm | undefined;
  afterEach(async () => {
    await server?.close();
    await llm?.close();
    server = undefined;
    llm = undefined;
  });

  const onePooledConnection = { LETTA_PG_POOL_SIZE: '1', LETTA_PG_MAX_OVERFLOW: '0', LETTA_PG_POOL_TIMEOUT: '1' };

  /** Holds the pool's only connection in an open transaction until `release` is called. */
  async function holdTheConnection(cairn: TestCairn['cairn']): Promise<{ release(): Promise<void> }> {
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
    return {
      release: async () => {
        release();
        await holder;
      },
    };
  }

  it('a request that cannot get a connection within LETTA_PG_POOL_TIMEOUT gets 503, and nothing is lost', async () => {
    server = await startCairn(dialect, {}, onePooledConnection);
    const { client, cairn } = server;
    const kept = await client.agents.create({ name: 'before-the-wait', include_base_tools: false });

    const hold = await holdTheConnection(cairn);
    try {
      const started = Date.now();
      const refused = await client.agents.create({ name: 'during-the-wait', include_base_tools: false }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(APIError);
      expect((refused as APIError).status).toBe(503);
      expect(JSON.stringify((refused as APIError).error)).toContain('LETTA_PG_POOL_TIMEOUT');
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    } finally {
      await hold.release();
    }
    expect((await client.agents.list()).items.map((a) => a.name)).toEqual([kept.name]);
    await client.agents.create({ name: 'after-the-wait', include_base_tools: false });
    expect((await client.agents.list()).items.map((a) => a.name).sort()).toEqual(['after-the-wait', 'before-the-wait']);
  });

  it('a turn whose step cannot be written in time ends with 503, writes none of the step, and frees the thread', async () => {
    llm = await startFakeLlm();
    server = await startCairn(dialect, {}, llm.env(onePooledConnection));
    const { client, cairn, baseURL } = server;
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini', include_base_tools: false });
    const before = (await client.agents.messages.list(agent.id)).getPaginatedItems().length;

    // The model is called once the turn has started (and given its connection back); the connection is then taken
    // for 1.5 s, so the step's write waits out the 1 s timeout while the run's final record, tried after it, gets in.
    let hold: Promise<{ release(): Promise<void> }> | undefined;
    llm.script(() => {
      hold = holdTheConnection(cairn);
      void hold.then((h) => setTimeout(() => void h.release(), 1500));
      return { text: 'never stored', delayMs: 50 };
    });
    const failed = await http('POST', `${baseURL}/v1/agents/${agent.id}/messages`, { input: 'lost in the wait' });
    expect(failed.status).toBe(503);
    expect(failed.body.detail).toContain('LETTA_PG_POOL_TIMEOUT');
    await (await hold!).release();

    const run = (await client.runs.list({ agent_id: agent.id })).getPaginatedItems()[0]!;
    expect(run).toMatchObject({ status: 'failed', stop_reason: 'error' });
    const texts = (await client.agents.messages.list(agent.id)).getPaginatedItems();
    expect(texts).toHaveLength(before);
    expect(JSON.stringify(texts)).not.toContain('lost in the wait');

    llm.script({ text: 'back again' });
    const after = await http('POST', `${baseURL}/v1/agents/${agent.id}/messages`, { input: 'hello again' });
    expect(after.status).toBe(200);
    expect(JSON.stringify(after.body)).toContain('back again');
  });
});
