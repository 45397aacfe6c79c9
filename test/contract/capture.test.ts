import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { http } from '../support/http.js';

describe.each(testDialects())('message capture and message search [%s]', (dialect) => {
  let server: TestCairn;
  let agentId: string;
  let url: string;
  beforeAll(async () => {
    server = await startCairn(dialect);
    agentId = (await server.client.agents.create({ name: 'capturer' })).id;
    url = `${server.baseURL}/v1/agents/${agentId}/messages/capture`;
  });
  afterAll(() => server?.close());

  it('stores messages as history (not in context), idempotently by otid, in order, with given timestamps', async () => {
    const body = {
      messages: [
        {
          role: 'user',
          content: 'We migrate the orders table on Sunday',
          otid: 'turn-1',
          created_at: '2026-03-01T10:00:00Z',
        },
        {
          role: 'assistant',
          content: 'Noted: orders migration Sunday',
          otid: 'turn-2',
          created_at: '2026-03-01T10:00:02Z',
        },
      ],
    };
    const first = await http('POST', url, body);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ captured: 2, skipped: 0 });
    const again = await http('POST', url, body);
    expect(again.body).toMatchObject({ captured: 0, skipped: 2, message_ids: [] });
    const listed = (await server.client.agents.messages.list(agentId, { order: 'asc' }))
      .getPaginatedItems()
      .filter((m) => m.message_type !== 'system_message');
    expect(listed.map((m: any) => [m.message_type, m.content])).toEqual([
      ['user_message', 'We migrate the orders table on Sunday'],
      ['assistant_message', 'Noted: orders migration Sunday'],
    ]);
    expect(listed[0]!.date).toBe('2026-03-01T10:00:00Z');
    const agent = await server.client.agents.retrieve(agentId);
    for (const id of first.body.message_ids) expect(agent.message_ids).not.toContain(id);
  });

  it('records into a conversation of the agent, and refuses one of another agent', async () => {
    const conversation = await server.client.conversations.create({ agent_id: agentId });
    const ok = await http('POST', url, {
      messages: [{ role: 'user', content: 'inside the conversation' }],
      conversation_id: conversation.id,
    });
    expect(ok.body.captured).toBe(1);
    const inConversation = (await server.client.conversations.messages.list(conversation.id)).getPaginatedItems();
    expect(inConversation.map((m: any) => m.content)).toContain('inside the conversation');
    const other = (await server.client.agents.create({ name: 'other' })).id;
    const foreign = await server.client.conversations.create({ agent_id: other });
    expect(
      (await http('POST', url, { messages: [{ role: 'user', content: 'x' }], conversation_id: foreign.id })).status,
    ).toBe(404);
  });

  it('answers bad input with 4xx', async () => {
    const bad: [unknown, number][] = [
      [{}, 422],
      [{ messages: [] }, 422],
      [{ messages: [{ role: 'tool', content: 'x' }] }, 422],
      [{ messages: [{ role: 'user', content: '' }] }, 422],
      [{ messages: [{ role: 'user', content: 'x', created_at: 'yesterday' }] }, 422],
      [{ messages: [{ role: 'user', content: 'x' }], conversation_id: 'nope' }, 422],
      ['not json', 400],
    ];
    for (const [body, status] of bad) expect((await http('POST', url, body)).status, JSON.stringify(body)).toBe(status);
    expect(
      (
        await http('POST', `${server.baseURL}/v1/agents/agent-00000000-0000-4000-8000-000000000000/messages/capture`, {
          messages: [{ role: 'user', content: 'x' }],
        })
      ).status,
    ).toBe(404);
  });

  it('POST /v1/messages/search finds captured history through the SDK', async () => {
    const hits = await server.client.messages.search({ query: 'orders migration', agent_id: agentId, limit: 5 });
    expect(hits.map((h: any) => h.content)).toEqual(
      expect.arrayContaining(['We migrate the orders table on Sunday', 'Noted: orders migration Sunday']),
    );
    expect(hits[0]).toMatchObject({ agent_id: agentId });
    const dated = await server.client.messages.search({ query: 'orders', agent_id: agentId, start_date: '2026-04-01' });
    // Hybrid search may return other messages of the period (vectors); none of the orders ones is in it.
    expect(dated.filter((h: any) => /orders/i.test(h.content))).toEqual([]);
    expect((await http('POST', `${server.baseURL}/v1/messages/search`, { agent_id: 'nope', query: 'x' })).status).toBe(
      422,
    );
  });
});
