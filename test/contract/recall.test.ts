import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';

describe.each(testDialects())('recall search [%s]', (dialect) => {
  let server: TestCairn;
  let agentId: string;
  beforeAll(async () => {
    server = await startCairn(dialect);
    const agent = await server.client.agents.create({
      name: 'Recaller',
      include_base_tools: false,
      timezone: 'Europe/Berlin',
    });
    agentId = agent.id;
    // Messages arrive through the runtime later; here they are stored directly, as it will store them.
    const message = (role: string, text: string, created_at: string, extra: Record<string, unknown> = {}) => ({
      id: newId('message'),
      agent_id: agentId,
      conversation_id: null,
      role,
      content: JSON.stringify([{ type: 'text', text }]),
      text,
      name: null,
      tool_calls: null,
      tool_call_id: null,
      tool_returns: null,
      step_id: null,
      run_id: null,
      otid: null,
      group_id: null,
      sender_id: null,
      model: null,
      is_err: 0,
      approval_request_id: null,
      approve: null,
      denial_reason: null,
      approvals: null,
      created_at,
      ...extra,
    });
    await server.cairn.dialect.db
      .insertInto('messages')
      .values([
        message('user', 'I adopted a puppy named Pixel last weekend', '2024-05-01T09:00:00.000Z'),
        message('assistant', 'Congratulations on adopting Pixel! Puppies are a joy.', '2024-05-01T09:00:05.000Z'),
        message('user', 'Planning a hiking trip to the Alps in June', '2024-05-10T21:30:00.000Z'),
        message('assistant', 'Hiking the Alps sounds wonderful.', '2024-05-10T21:30:04.000Z'),
        message('tool', 'puppies search results', '2024-05-10T21:31:00.000Z'),
        message('assistant', 'Let me search.', '2024-05-11T08:00:00.000Z', {
          tool_calls: JSON.stringify([
            { id: 'c1', type: 'function', function: { name: 'conversation_search', arguments: '{"query":"puppy"}' } },
          ]),
        }),
      ])
      .execute();
  });
  afterAll(() => server.close());

  // Full text only: these tests pin down the lexical channel (hybrid search: test/contract/recall-vectors.test.ts).
  const search = (options: Parameters<TestCairn['cairn']['services']['recall']['search']>[1]) =>
    server.cairn.services.recall.search(agentId, { mode: 'fts', ...options });

  it('ranks by text, stems words and leaves out tool messages and its own calls', async () => {
    const hits = await search({ query: 'puppies adopted', limit: 10 });
    expect(hits.map((h) => h.message.text)).toEqual([
      'Congratulations on adopting Pixel! Puppies are a joy.',
      'I adopted a puppy named Pixel last weekend',
    ]);
    expect(hits[0]!.relevance).toBeGreaterThan(0);
    // Timestamps in the agent's timezone (CEST in May).
    expect(hits[1]!.timestamp).toBe('2024-05-01T11:00:00.000+02:00');
  });

  it('filters by role and by date range (naive dates in the agent timezone, date-only end = end of day)', async () => {
    expect((await search({ query: 'Pixel', roles: ['user'] })).map((h) => h.message.role)).toEqual(['user']);
    expect((await search({ query: 'puppies', roles: ['tool'] })).map((h) => h.message.text)).toEqual([
      'puppies search results',
    ]);
    // 2024-05-10T21:30Z is 23:30 on the 10th in Berlin: inside a date-only end of 2024-05-10.
    const may10 = await search({ query: 'hiking Alps', startDate: '2024-05-10', endDate: '2024-05-10' });
    expect(may10.map((h) => h.message.text).sort()).toEqual([
      'Hiking the Alps sounds wonderful.',
      'Planning a hiking trip to the Alps in June',
    ]);
    expect(await search({ query: 'hiking', startDate: '2024-05-11' })).toEqual([]);
    expect((await search({ query: 'Pixel', endDate: '2024-05-01T11:00' })).map((h) => h.message.text)).toEqual([
      'I adopted a puppy named Pixel last weekend',
    ]);
  });

  it('returns the newest messages without a query, and rejects bad bounds', async () => {
    expect((await search({ limit: 2 })).map((h) => h.message.text)).toEqual([
      'Hiking the Alps sounds wonderful.',
      'Planning a hiking trip to the Alps in June',
    ]);
    await expect(search({ query: 'x', startDate: '10/05/2024' })).rejects.toMatchObject({ status: 422 });
    await expect(search({ query: 'x', limit: 0 })).rejects.toMatchObject({ status: 422 });
  });
});
