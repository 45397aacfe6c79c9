import { APIError } from '@letta-ai/letta-client';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';
import { http } from '../support/http.js';
import { DEFAULT_PG_POOL } from '../../src/store/dialect/postgres-pool.js';

describe("PostgreSQL pool settings (Letta's names)", () => {
  const poolOf = (env: NodeJS.ProcessEnv) => loadConfig({}, env).pgPool;

  it('defaults, and each variable read as a whole number', () => {
    expect(poolOf({})).toEqual(DEFAULT_PG_POOL);
    expect(
      poolOf({
        LETTA_PG_POOL_SIZE: '25',
        LETTA_PG_MAX_OVERFLOW: '0',
        LETTA_PG_POOL_TIMEOUT: '5',
        LETTA_PG_POOL_RECYCLE: '600',
      }),
    ).toEqual({
      size: 25,
      overflow: 0,
      timeoutSeconds: 5,
      recycleSeconds: 600,
    });
  });

  it('refuses values that are not whole numbers in range, naming the variable', () => {
    expect(() => poolOf({ LETTA_PG_POOL_SIZE: '0' })).toThrow(
      "invalid LETTA_PG_POOL_SIZE: '0' (a whole number from 1 to",
    );
    expect(() => poolOf({ LETTA_PG_MAX_OVERFLOW: '-1' })).toThrow('invalid LETTA_PG_MAX_OVERFLOW');
    expect(() => poolOf({ LETTA_PG_MAX_OVERFLOW: '1e3' })).toThrow('invalid LETTA_PG_MAX_OVERFLOW');
    expect(() => poolOf({ LETTA_PG_POOL_TIMEOUT: '2.5' })).toThrow('invalid LETTA_PG_POOL_TIMEOUT');
    // Longer than a Node timer can wait: it would fire at once and fail every request.
    expect(() => poolOf({ LETTA_PG_POOL_TIMEOUT: '2147484' })).toThrow(
      "invalid LETTA_PG_POOL_TIMEOUT: '2147484' (a whole number from 1 to 2147483)",
    );
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
      const refused = await client.agents
        .create({ name: 'during-the-wait', include_base_tools: false })
        .catch((error: unknown) => error);
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

  /**
   * A sync turn during which the pool's only connection is taken for `holdMs` from the moment the model is called
   * (the turn has started and given its connection back by then); returns the turn's response and the agent.
   */
  async function turnDuringHold(holdMs: number) {
    llm = await startFakeLlm();
    server = await startCairn(dialect, {}, llm.env(onePooledConnection));
    const { client, cairn, baseURL } = server;
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini', include_base_tools: false });
    const before = (await client.agents.messages.list(agent.id)).getPaginatedItems().length;
    let hold: Promise<{ release(): Promise<void> }> | undefined;
    llm.script(() => {
      hold = holdTheConnection(cairn);
      void hold.then((h) => setTimeout(() => void h.release(), holdMs));
      return { text: 'never stored', delayMs: 50 };
    });
    const response = await http('POST', `${baseURL}/v1/agents/${agent.id}/messages`, { input: 'lost in the wait' });
    await (await hold!).release();
    return { response, agent, before, client: server.client, baseURL };
  }

  async function expectFailedAndFree({ agent, before, client, baseURL }: Awaited<ReturnType<typeof turnDuringHold>>) {
    const run = (await client.runs.list({ agent_id: agent.id })).getPaginatedItems()[0]!;
    expect(run).toMatchObject({ status: 'failed', stop_reason: 'error' });
    const messages = (await client.agents.messages.list(agent.id)).getPaginatedItems();
    expect(messages).toHaveLength(before);
    expect(JSON.stringify(messages)).not.toContain('lost in the wait');
    llm!.script({ text: 'back again' });
    const after = await http('POST', `${baseURL}/v1/agents/${agent.id}/messages`, { input: 'hello again' });
    expect(after.status).toBe(200);
    expect(JSON.stringify(after.body)).toContain('back again');
  }

  it('a turn whose step cannot be written in time ends with 503, writes none of the step, and frees the thread', async () => {
    // 1.5 s: the step's write waits out the 1 s timeout; the run's final record, tried after it, gets in.
    const turn = await turnDuringHold(1500);
    expect(turn.response.status).toBe(503);
    expect(turn.response.body.detail).toContain('LETTA_PG_POOL_TIMEOUT');
    await expectFailedAndFree(turn);
  });

  it("records the turn's end on a later attempt when the first also finds no connection", async () => {
    // 2.4 s: the step's write and the first attempt at the run's end both time out; the retry 0.5 s later gets in, so
    // the thread is not left locked for the stale-run sweeper.
    const turn = await turnDuringHold(2400);
    expect(turn.response.status).toBe(503);
    await expectFailedAndFree(turn);
  });
});
