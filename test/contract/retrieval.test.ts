import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createCairn } from '../../src/server.js';
import { waitForEmbeddings } from '../support/archival.js';
import { createTestDatabase, startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { http } from '../support/http.js';

/** Retrieval beyond the archival contract: per-query trust in the vector channel, units indexed with context. */
describe.each(testDialects())('retrieval [%s]', (dialect) => {
  let server: TestCairn;
  beforeAll(async () => {
    server = await startCairn(dialect);
  });
  afterAll(() => server.close());

  const search = async (agentId: string, query: string, mode: string) =>
    (
      await http(
        'GET',
        `${server.baseURL}/v1/agents/${agentId}/archival-memory/search?${new URLSearchParams({ query, mode, top_k: '3' })}`,
      )
    ).body.results.map((r: { content: string }) => r.content);

  it('lets a clear vector winner lead over a full-text match on one incidental word', async () => {
    const agent = await server.client.agents.create({ name: 'Paraphrase', include_base_tools: false });
    const memory = 'The forecast says showers all Thursday afternoon, so take an umbrella.';
    const trap = 'Cycling in the rain ruined my shoes.';
    const texts = [
      memory,
      trap,
      'Bins go out on Tuesday night; the truck comes early Wednesday.',
      'Emma is taught by Mr Okafor this year.',
      'The pod is OOM-killed at 512 Mi; raise the limit or fix the leak.',
      'I swallow 50 mg of sertraline with breakfast.',
    ];
    // Written at different times: no unit, no neighbour text.
    for (const [i, text] of texts.entries())
      await server.client.agents.passages.create(agent.id, {
        text,
        created_at: new Date(Date.UTC(2025, 0, 1 + i)).toISOString(),
      });
    await waitForEmbeddings(server, agent.id);
    const query = 'Is it going to rain tomorrow?';
    expect((await search(agent.id, query, 'lexical'))[0]).toBe(trap);
    expect((await search(agent.id, query, 'vector'))[0]).toBe(memory);
    const hybrid = await search(agent.id, query, 'hybrid');
    expect(hybrid[0]).toBe(memory);
    // The lead moves one passage; full text's winner stays in the list right after it.
    expect(hybrid[1]).toBe(trap);
  });

  it('keeps a full-text winner that matches the whole query first', async () => {
    const agent = await server.client.agents.create({ name: 'Lexical', include_base_tools: false });
    for (const [i, text] of [
      'Caroline: I went to the LGBTQ support group yesterday and it was so powerful.',
      'Melanie: we painted a lake sunrise last year.',
      'Caroline: my mentor helped me find counseling courses.',
      'Melanie: the kids love the beach in summer.',
      'Caroline: I am researching adoption agencies now.',
      'Melanie: I ran a charity race for mental health.',
    ].entries())
      await server.client.agents.passages.create(agent.id, {
        text,
        created_at: new Date(Date.UTC(2025, 1, 1 + i)).toISOString(),
      });
    await waitForEmbeddings(server, agent.id);
    expect((await search(agent.id, 'When did Caroline go to the LGBTQ support group?', 'hybrid'))[0]).toBe(
      'Caroline: I went to the LGBTQ support group yesterday and it was so powerful.',
    );
  });

  it('indexes a unit passage with its neighbours, and forgets a deleted one', async () => {
    const agent = await server.client.agents.create({ name: 'Unit', include_base_tools: false });
    const at = '2024-06-03T10:00:00Z';
    const ids: string[] = [];
    for (const text of ['Melanie: what did you name the new puppy?', 'Caroline: we went with Biscuit'])
      ids.push((await server.client.agents.passages.create(agent.id, { text, created_at: at }))[0]!.id!);
    await server.client.agents.passages.create(agent.id, {
      text: 'Caroline: the puppy sleeps a lot',
      created_at: '2024-06-04T10:00:00Z',
    });
    expect(await search(agent.id, 'puppy name', 'lexical')).toEqual([
      'Melanie: what did you name the new puppy?',
      'Caroline: the puppy sleeps a lot',
      'Caroline: we went with Biscuit',
    ]);
    await server.client.agents.passages.delete(ids[0]!, { agent_id: agent.id });
    // The deleted question's words no longer find its neighbour.
    expect(await search(agent.id, 'puppy name', 'lexical')).toEqual(['Caroline: the puppy sleeps a lot']);
  });
});

describe.each(testDialects())('hybrid search without a usable embedder [%s]', (dialect) => {
  const logged: { msg: string; owner?: string }[] = [];
  let close: () => Promise<void>;
  let baseURL: string;
  let client: TestCairn['client'];
  beforeAll(async () => {
    // The config's environment has no OPENAI_API_KEY, whatever the test process has.
    const database = await createTestDatabase(dialect);
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logged.push(JSON.parse(line));
        done();
      },
    });
    const cairn = await createCairn(
      loadConfig({ port: 0, host: '127.0.0.1', dataDir: database.dataDir }, { LETTA_PG_URI: database.pgUri }),
      pino({ level: 'warn' }, stream),
    );
    await cairn.app.listen({ host: '127.0.0.1', port: 0 });
    const address = cairn.app.server.address();
    if (!address || typeof address === 'string') throw new Error('no address');
    baseURL = `http://127.0.0.1:${address.port}`;
    const { default: Letta } = await import('@letta-ai/letta-client');
    client = new Letta({ baseURL, apiKey: null, maxRetries: 0 });
    close = async () => {
      await cairn.close();
      await database.drop();
    };
  });
  afterAll(() => close());
  const fallbackLines = () => logged.filter((l) => l.msg.startsWith('hybrid search answers from full text'));
  const unkeyed = (name: string) =>
    client.agents.create({ name, include_base_tools: false, embedding: 'openai/text-embedding-3-small' });
  const unkeyedReason =
    "lexical; Embedding handle 'openai/text-embedding-3-small' is not usable: OPENAI_API_KEY is not set";

  it('answers from full text with a header and one warning per agent; mode=vector stays a 400', async () => {
    const agent = await unkeyed('Unkeyed');
    await client.agents.passages.create(agent.id, { text: 'The launch code is tulip.' });
    const url = (mode: string) =>
      `${baseURL}/v1/agents/${agent.id}/archival-memory/search?${new URLSearchParams({ query: 'launch code', mode })}`;
    for (let i = 0; i < 2; i++) {
      const hybrid = await http('GET', url('hybrid'));
      expect(hybrid.status).toBe(200);
      expect(hybrid.body.results.map((r: { content: string }) => r.content)).toEqual(['The launch code is tulip.']);
      expect(hybrid.headers.get('x-cairn-search-fallback')).toBe(unkeyedReason);
    }
    // The SDK's own search (hybrid by default) gets the results too.
    const viaSdk = await client.agents.passages.search(agent.id, { query: 'launch code' });
    expect(viaSdk.results.map((r) => r.content)).toEqual(['The launch code is tulip.']);
    expect(fallbackLines().map((l) => l.owner)).toEqual([agent.id]);

    const vector = await http('GET', url('vector'));
    expect(vector.status).toBe(400);
    expect(vector.body.detail).toContain('OPENAI_API_KEY is not set');
    const lexical = await http('GET', url('lexical'));
    expect(lexical.headers.get('x-cairn-search-fallback')).toBeNull();
  });

  it('answers recall search from full text too, with the header; one warning per agent across both memories', async () => {
    const agent = await unkeyed('Unkeyed recall');
    const captured = await http('POST', `${baseURL}/v1/agents/${agent.id}/messages/capture`, {
      messages: [
        { role: 'user', content: 'The spare key is under the blue flowerpot.' },
        { role: 'assistant', content: 'Got it: the blue flowerpot.' },
      ],
    });
    expect(captured.status).toBe(200);
    const before = fallbackLines().length;
    const searchMessages = (body: Record<string, unknown>) =>
      http('POST', `${baseURL}/v1/messages/search`, { query: 'spare key flowerpot', agent_id: agent.id, ...body });
    for (let i = 0; i < 2; i++) {
      const hybrid = await searchMessages({ roles: ['user'] });
      expect(hybrid.status).toBe(200);
      expect(hybrid.headers.get('x-cairn-search-fallback')).toBe(unkeyedReason);
      expect(hybrid.body.map((m: { content: string }) => m.content)).toEqual([
        'The spare key is under the blue flowerpot.',
      ]);
    }
    // The official SDK's message search is hybrid by default: it gets the full-text results.
    const viaSdk = await client.messages.search({ query: 'spare key flowerpot', agent_id: agent.id });
    expect(viaSdk.map((m) => (m as { content: string }).content)).toHaveLength(2);
    await client.agents.passages.create(agent.id, { text: 'The spare key is under the blue flowerpot.' });
    const archival = await http(
      'GET',
      `${baseURL}/v1/agents/${agent.id}/archival-memory/search?${new URLSearchParams({ query: 'spare key' })}`,
    );
    expect(archival.headers.get('x-cairn-search-fallback')).toBe(unkeyedReason);
    // One line for this agent, whichever memory it searched and however often.
    expect(
      fallbackLines()
        .slice(before)
        .map((l) => l.owner),
    ).toEqual([agent.id]);

    const vector = await searchMessages({ search_mode: 'vector' });
    expect(vector.status).toBe(400);
    expect(vector.body.detail).toContain('OPENAI_API_KEY is not set');
    const fts = await searchMessages({ search_mode: 'fts' });
    expect(fts.status).toBe(200);
    expect(fts.headers.get('x-cairn-search-fallback')).toBeNull();
  });
});
