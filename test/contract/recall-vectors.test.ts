import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { http } from '../support/http.js';

/**
 * Recall memory's vectors (migration 0011): messages are queued by triggers as they are written, embedded in the
 * background with the agent's model (USE-lite here, really run), and `POST /v1/messages/search` fuses their ranks
 * with full text, within the role, date and conversation filters.
 */
describe.each(testDialects())('recall vectors [%s]', (dialect) => {
  let server: TestCairn;
  let agentId: string;
  const db = () => server.cairn.dialect.db;
  const pending = async (id: string) =>
    Number(
      (await sql<{ n: number }>`SELECT count(*) AS n FROM message_embed_queue WHERE agent_id = ${id}`.execute(db()))
        .rows[0]!.n,
    );
  const waitForVectors = async (id: string) => {
    const deadline = Date.now() + 20_000;
    while ((await pending(id)) > 0) {
      if (Date.now() > deadline) throw new Error('messages still queued');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const capture = (id: string, messages: { role: string; content: string; created_at: string }[]) =>
    http('POST', `${server.baseURL}/v1/agents/${id}/messages/capture`, { messages });

  beforeAll(async () => {
    server = await startCairn(dialect);
    agentId = (await server.client.agents.create({ name: 'Remembers', include_base_tools: false })).id;
    const captured = await capture(agentId, [
      {
        role: 'user',
        content: 'Bins go out on Tuesday night; the truck comes early Wednesday.',
        created_at: '2026-03-01T09:00:00Z',
      },
      { role: 'assistant', content: 'Noted, I will remind you on Tuesdays.', created_at: '2026-03-01T09:00:05Z' },
      {
        role: 'user',
        content: 'The pod is OOM-killed at 512 Mi; raise the limit or fix the leak.',
        created_at: '2026-03-02T09:00:00Z',
      },
      { role: 'user', content: 'Emma is taught by Mr Okafor this year.', created_at: '2026-03-03T09:00:00Z' },
      { role: 'user', content: 'I swallow 50 mg of sertraline with breakfast.', created_at: '2026-03-04T09:00:00Z' },
      { role: 'user', content: 'Our rubbish bags are in the garage.', created_at: '2026-03-05T09:00:00Z' },
    ]);
    expect(captured.status).toBe(200);
  }, 60_000);
  afterAll(() => server.close());

  it('queues user and assistant messages as they are written and embeds them in the background', async () => {
    expect(await pending(agentId)).toBeGreaterThan(0);
    await waitForVectors(agentId);
    const rows = (
      await sql<{
        model: string;
        dim: number;
      }>`SELECT model, dim FROM message_vectors WHERE agent_id = ${agentId}`.execute(db())
    ).rows;
    expect(rows).toHaveLength(6);
    expect(new Set(rows.map((r) => `${r.model}:${Number(r.dim)}`))).toEqual(new Set(['local/use-lite:512']));
  });

  it('finds a message in other words through the SDK, fused with full text', async () => {
    await waitForVectors(agentId);
    const query = 'Which day is the garbage collected?';
    const fts = await server.client.messages.search({ query, agent_id: agentId, search_mode: 'fts', limit: 3 });
    expect(fts).toEqual([]);
    const vector = await server.client.messages.search({ query, agent_id: agentId, search_mode: 'vector', limit: 3 });
    expect((vector[0] as { content: string }).content).toBe(
      'Bins go out on Tuesday night; the truck comes early Wednesday.',
    );
    const hybrid = await server.client.messages.search({ query, agent_id: agentId, limit: 3 });
    expect((hybrid[0] as { content: string }).content).toBe(
      'Bins go out on Tuesday night; the truck comes early Wednesday.',
    );
    // A message that shares a word still ranks by full text too.
    const lexical = await server.client.messages.search({ query: 'rubbish', agent_id: agentId, limit: 2 });
    expect((lexical[0] as { content: string }).content).toBe('Our rubbish bags are in the garage.');
  });

  it('applies the role and date filters to the vector channel', async () => {
    await waitForVectors(agentId);
    const query = 'When is the waste picked up?';
    const march2 = await server.client.messages.search({
      query,
      agent_id: agentId,
      search_mode: 'vector',
      start_date: '2026-03-02',
      end_date: '2026-03-03',
      limit: 10,
    });
    expect(march2.map((h) => (h as { content: string }).content).sort()).toEqual([
      'Emma is taught by Mr Okafor this year.',
      'The pod is OOM-killed at 512 Mi; raise the limit or fix the leak.',
    ]);
    // `roles` (a Cairn extension the SDK does not send) over HTTP: the vector channel keeps to it too.
    const assistant = await http('POST', `${server.baseURL}/v1/messages/search`, {
      query,
      agent_id: agentId,
      roles: ['assistant'],
      search_mode: 'vector',
    });
    expect(assistant.body.map((m: { message_type: string; content: string }) => [m.message_type, m.content])).toEqual([
      ['assistant_message', 'Noted, I will remind you on Tuesdays.'],
    ]);
    const hits = await server.cairn.services.recall.search(agentId, { query, roles: ['assistant'], limit: 10 });
    expect(hits.map((h) => h.message.role)).toEqual(['assistant']);
    expect(hits[0]).toMatchObject({ mode: 'hybrid', ranks: { vector: 1 } });
  });

  it('re-embeds an agent’s messages when its embedding model changes, and drops them with the agent', async () => {
    const other = await server.client.agents.create({ name: 'Switches', include_base_tools: false });
    await capture(other.id, [{ role: 'user', content: 'Hello there', created_at: '2026-03-06T09:00:00Z' }]);
    await waitForVectors(other.id);
    // A model change queues every message again (the old model's vectors are dropped).
    await server.cairn.stores.transaction((tx) =>
      server.cairn.services.recall.embeddingChanged(tx, other.id, 'openai-compatible/none'),
    );
    expect(await pending(other.id)).toBe(1);
    await server.client.agents.delete(other.id);
    expect(await pending(other.id)).toBe(0);
  });
});
