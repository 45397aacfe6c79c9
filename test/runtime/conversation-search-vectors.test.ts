import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { testDialects } from '../support/cairn.js';
import { http } from '../support/http.js';
import { useRuntime, waitFor } from './harness.js';

interface ToolResult {
  message: string;
  results: { role: string; content: string; timestamp: string; relevance?: Record<string, unknown> }[];
}

/**
 * `conversation_search` as the model calls it: recall search fuses full text with the messages' vectors (embedded
 * in the background by USE-lite, really run), inside the role and date filters the tool was given.
 */
describe.each(testDialects())('conversation_search over message vectors [%s]', (dialect) => {
  const h = useRuntime(dialect);
  const bins = 'Bins go out on Tuesday night; the truck comes early Wednesday.';

  const seed = async () => {
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini', tools: ['conversation_search'] });
    const captured = await http('POST', `${h.server.baseURL}/v1/agents/${agent.id}/messages/capture`, {
      messages: [
        { role: 'user', content: bins, created_at: '2026-03-01T09:00:00Z' },
        { role: 'assistant', content: 'Noted, I will remind you on Tuesdays.', created_at: '2026-03-01T09:00:05Z' },
        { role: 'user', content: 'Emma is taught by Mr Okafor this year.', created_at: '2026-03-03T09:00:00Z' },
        { role: 'user', content: 'I swallow 50 mg of sertraline with breakfast.', created_at: '2026-03-04T09:00:00Z' },
        { role: 'user', content: 'Our rubbish bags are in the garage.', created_at: '2026-03-05T09:00:00Z' },
      ],
    });
    expect(captured.status).toBe(200);
    const db = h.server.cairn.dialect.db;
    await waitFor(async () => {
      const { rows } = await sql<{
        n: number;
      }>`SELECT count(*) AS n FROM message_embed_queue WHERE agent_id = ${agent.id}`.execute(db);
      return Number(rows[0]!.n) === 0 ? true : undefined;
    }, 30_000);
    return agent.id;
  };

  /** Runs one turn in which the model calls conversation_search with `args`; returns the tool's result. */
  const search = async (agentId: string, args: Record<string, unknown>): Promise<ToolResult> => {
    h.llm.script({ toolCalls: [{ name: 'conversation_search', arguments: args }] }, { text: 'done' });
    const turn = await h.server.client.agents.messages.create(agentId, { input: 'look it up' });
    const ret = turn.messages.find((m) => m.message_type === 'tool_return_message') as {
      status: string;
      tool_return: string;
    };
    expect(ret.status).toBe('success');
    return JSON.parse(ret.tool_return) as ToolResult;
  };

  it('finds a message asked about in other words, ranked by its vector', async () => {
    const agentId = await seed();
    const query = 'Which day is the garbage collected?';
    // Full text alone finds nothing: no content word is shared.
    const fts = await http('POST', `${h.server.baseURL}/v1/messages/search`, {
      query,
      agent_id: agentId,
      search_mode: 'fts',
    });
    expect(fts.body).toEqual([]);
    const found = await search(agentId, { query, limit: 2 });
    expect(found.results[0]).toMatchObject({
      role: 'user',
      content: bins,
      relevance: { search_mode: 'hybrid', vector_rank: 1, fts_rank: null },
    });
  }, 60_000);

  it('keeps to the role and date filters in the vector channel', async () => {
    const agentId = await seed();
    const query = 'When is the waste picked up?';
    const assistantOnly = await search(agentId, { query, roles: ['assistant'], limit: 5 });
    expect(assistantOnly.results.map((r) => r.content)).toEqual(['Noted, I will remind you on Tuesdays.']);
    // The bins message (1 March) is the closest in meaning but outside the range.
    const later = await search(agentId, { query, start_date: '2026-03-03', end_date: '2026-03-04', limit: 5 });
    expect(later.results.map((r) => r.content).sort()).toEqual([
      'Emma is taught by Mr Okafor this year.',
      'I swallow 50 mg of sertraline with breakfast.',
    ]);
    // The turn's own messages (the prompt "look it up", the assistant's tool call) are embedded too; the range
    // keeps them out.
    for (const r of later.results) expect(r.timestamp.slice(0, 10) >= '2026-03-03').toBe(true);
  }, 60_000);
});
