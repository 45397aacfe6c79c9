import { sql } from 'kysely';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';
import { RequestFuzzer, type FuzzRequest, type KnownIds } from '../support/fuzz.js';
import { http } from '../support/http.js';
import { upstreamOpenapi } from '../support/openapi.js';

/**
 * Schema-guided fuzzing over every route of Cairn's own document and of Letta's: no request, however malformed,
 * may get a 5xx or take the server down, and the database must be sound afterwards. `npm test` sends a few
 * thousand requests per dialect; the full campaign is `CAIRN_FUZZ_REQUESTS=100000 npx vitest run
 * test/reliability/fuzz.test.ts` (figures in docs/benchmarks.md). `CAIRN_FUZZ_SEED` replays a run.
 */
const REQUESTS = Number(process.env.CAIRN_FUZZ_REQUESTS ?? 1_000);
const SEED = Number(process.env.CAIRN_FUZZ_SEED ?? Date.now() % 2 ** 31);
const REQUEST_TIMEOUT_MS = 30_000;
const BATCH = 500;
const IN_FLIGHT = 4;

async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: width }, lane));
}

interface Tally {
  sent: number;
  resent: number;
  byStatus: Map<number, number>;
  failures: { request: string; status: number; body: string }[];
}

async function send(baseURL: string, request: FuzzRequest): Promise<{ status: number; body: string }> {
  const withBody = request.method !== 'GET' && request.body !== undefined;
  const response = await fetch(baseURL + request.path, {
    method: request.method,
    headers: withBody ? request.headers : {},
    body: withBody ? request.body : undefined,
    redirect: 'manual',
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  // Streams (SSE) end when the turn ends; the body is read to make sure they do.
  return { status: response.status, body: (await response.text()).slice(0, 300) };
}

const causeOf = (error: unknown) => (error as { cause?: { code?: string; message?: string } }).cause;
const socketClosed = (error: unknown) => causeOf(error)?.code === 'UND_ERR_SOCKET';
// The cause (a reset, a socket closed by the server) is what tells a client-side failure from a crash.
const failedOutcome = (error: unknown) => ({
  status: 599,
  body: `${String(error)} (${causeOf(error)?.code ?? ''} ${causeOf(error)?.message ?? ''})`,
});

const describeRequest = (r: FuzzRequest) =>
  `${r.method} ${r.path.slice(0, 200)} ${typeof r.body === 'string' ? r.body.slice(0, 200) : ''}`;

async function seed(server: TestCairn): Promise<KnownIds> {
  const { client } = server;
  const agents = await Promise.all(
    [0, 1, 2].map((i) =>
      client.agents.create({
        name: `fuzz-${i}`,
        model: 'openai/fake-model',
        memory_blocks: [
          { label: 'human', value: 'Ada' },
          { label: 'persona', value: 'helpful' },
        ],
        tags: ['fuzz'],
      }),
    ),
  );
  const blocks = (await http('GET', `${server.baseURL}/v1/blocks/`)).body;
  const passages = await client.agents.passages.create(agents[0]!.id, { text: 'the fuzzer was here' });
  const conversation = await http('POST', `${server.baseURL}/v1/conversations/`, { agent_id: agents[0]!.id });
  const archives = await http('GET', `${server.baseURL}/v1/archives/`);
  const tools = await http('GET', `${server.baseURL}/v1/tools/`);
  const ids = (values: unknown) =>
    (Array.isArray(values) ? values : []).map((v) => (v as { id?: string }).id).filter((v): v is string => !!v);
  return {
    agent: agents.map((a) => a.id),
    block: ids(blocks),
    passage: ids(passages),
    memory: ids(passages),
    conversation: conversation.body?.id ? [conversation.body.id as string] : [],
    archive: ids(archives.body),
    tool: ids(tools.body),
    block_label: ['human', 'persona'],
    label: ['human', 'persona'],
  };
}

describe.each(testDialects())('fuzzing every route [%s]', (dialect) => {
  let server: TestCairn;
  let llm: FakeLlm;
  let ids: KnownIds;
  beforeAll(async () => {
    llm = await startFakeLlm();
    llm.setDefault({ text: 'noted' });
    server = await startCairn(dialect, {}, llm.env());
    ids = await seed(server);
  });
  afterAll(async () => {
    await server?.close();
    await llm?.close();
  });

  const campaign = async (doc: ConstructorParameters<typeof RequestFuzzer>[0], runs: number): Promise<Tally> => {
    const tally: Tally = { sent: 0, resent: 0, byStatus: new Map(), failures: [] };
    const requests = new RequestFuzzer(doc, ids).requests();
    // Requests are drawn in seeded batches and sent a few at a time: concurrency is part of what is fuzzed, and
    // it keeps the 100,000-request campaign within minutes.
    for (let batch = 0; tally.sent < runs; batch += 1) {
      const drawn = fc.sample(requests, { numRuns: Math.min(BATCH, runs - tally.sent), seed: SEED + batch });
      await inParallel(drawn, IN_FLIGHT, async (request) => {
        let outcome: { status: number; body: string };
        try {
          outcome = await send(server.baseURL, request);
        } catch (error) {
          // A kept-alive socket the server had closed ("other side closed") fails a request that never reached it;
          // HTTP clients resend in that case (RFC 9110 §9.2.2), and so does this one, once, and counts it. A crash
          // or a server that drops requests fails the second attempt too.
          if (socketClosed(error)) {
            tally.resent += 1;
            outcome = await send(server.baseURL, request).catch((again: unknown) => failedOutcome(again));
          } else outcome = failedOutcome(error);
        }
        tally.sent += 1;
        tally.byStatus.set(outcome.status, (tally.byStatus.get(outcome.status) ?? 0) + 1);
        if (outcome.status >= 500 && tally.failures.length < 20)
          tally.failures.push({ request: describeRequest(request), ...outcome });
      });
    }
    return tally;
  };

  const expectSound = async (tally: Tally) => {
    const statuses = Object.fromEntries([...tally.byStatus].sort(([a], [b]) => a - b));
    console.info(
      `fuzz [${dialect}] seed ${SEED}: ${tally.sent} requests (${tally.resent} resent on a closed socket), statuses ${JSON.stringify(statuses)}`,
    );
    expect(tally.failures).toEqual([]);
    expect((await http('GET', `${server.baseURL}/v1/health/`)).status).toBe(200);
    const db = server.cairn.dialect.db;
    if (dialect === 'sqlite') {
      expect((await sql<{ integrity_check: string }>`PRAGMA integrity_check`.execute(db)).rows).toEqual([
        { integrity_check: 'ok' },
      ]);
      expect((await sql`PRAGMA foreign_key_check`.execute(db)).rows).toEqual([]);
    } else {
      expect((await sql`SELECT conname FROM pg_constraint WHERE NOT convalidated`.execute(db)).rows).toEqual([]);
    }
    // Everything stored still reads back through the API.
    const agents = await http('GET', `${server.baseURL}/v1/agents/?limit=1000`);
    expect(agents.status).toBe(200);
    for (const agent of agents.body as { id: string }[])
      expect((await http('GET', `${server.baseURL}/v1/agents/${agent.id}`)).status).toBe(200);
  };

  // Found by this campaign on PostgreSQL, whose text type cannot hold a NUL: each was a 500.
  it('refuses a NUL character in a query or a path with a 400', async () => {
    for (const url of ['/v1/agents/count?tags=%00', '/v1/messages/?after=%00', `/v1/agents/${ids.agent![0]}%00`])
      expect((await http('GET', server.baseURL + url)).status, url).toBe(400);
    // In a body, a NUL is stripped where Letta strips it, and otherwise refused: never a 500.
    const described = await http('POST', `${server.baseURL}/v1/agents/`, { name: 'nul', description: 'a\u0000b' });
    expect(described.status).toBeLessThan(500);
  });

  it("answers no request on Cairn's own document with a 5xx, and stays sound", async () => {
    const own = (await http('GET', `${server.baseURL}/openapi.json`)).body;
    await expectSound(await campaign(own, REQUESTS));
  }, 1_800_000);

  it("answers no request on Letta's document with a 5xx, and stays sound", async () => {
    await expectSound(await campaign(upstreamOpenapi() as never, REQUESTS));
  }, 1_800_000);
});
