import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { http } from '../support/http.js';
import { waitForEmbeddings } from '../support/archival.js';

/** Served routes where Cairn answered differently from Letta, each found by a real client (issue 14). */
describe.each(testDialects())('served routes as Letta answers them [%s]', (dialect) => {
  let server: TestCairn;
  beforeAll(async () => {
    server = await startCairn(dialect);
  });
  afterAll(() => server.close());

  const capture = (agentId: string, content: string, conversationId?: string) =>
    http('POST', `${server.baseURL}/v1/agents/${agentId}/messages/capture`, {
      messages: [{ role: 'user', content }],
      ...(conversationId ? { conversation_id: conversationId } : {}),
    });

  it('POST /v1/messages/search searches every agent without agent_id and takes conversation_id "default"', async () => {
    const a = await server.client.agents.create({ name: 'search-a' });
    const b = await server.client.agents.create({ name: 'search-b' });
    await capture(a.id, 'the walrus sings at dawn');
    await capture(b.id, 'a walrus dances at dusk');
    const conversation = await server.client.conversations.create({ agent_id: a.id });
    await capture(a.id, 'walrus inside a conversation', conversation.id);

    // Letta Code's `/search` body, exactly.
    const everywhere = await server.client.messages.search({ query: 'walrus', search_mode: 'hybrid', limit: 10 });
    expect(everywhere.map((h: any) => h.content).sort()).toEqual([
      'a walrus dances at dusk',
      'the walrus sings at dawn',
      'walrus inside a conversation',
    ]);
    expect(new Set(everywhere.map((h: any) => h.agent_id))).toEqual(new Set([a.id, b.id]));

    const defaultThread = await server.client.messages.search({
      query: 'walrus',
      agent_id: a.id,
      conversation_id: 'default',
    });
    expect(defaultThread.map((h: any) => h.content)).toEqual(['the walrus sings at dawn']);
    const inConversation = await server.client.messages.search({
      query: 'walrus',
      conversation_id: conversation.id,
    });
    expect(inConversation.map((h: any) => h.content)).toEqual(['walrus inside a conversation']);

    const bad = await http('POST', `${server.baseURL}/v1/messages/search`, { query: 'x', conversation_id: 'nope' });
    expect(bad.status).toBe(422);
    const unknown = await http('POST', `${server.baseURL}/v1/messages/search`, {
      query: 'x',
      agent_id: 'agent-00000000-0000-4000-8000-000000000000',
    });
    expect(unknown.status).toBe(404);
  });

  it('POST /v1/passages/search without agent_id or archive_id searches every archive', async () => {
    const a = await server.client.agents.create({ name: 'passages-a', include_base_tools: false });
    const b = await server.client.agents.create({ name: 'passages-b', include_base_tools: false });
    await server.client.agents.passages.create(a.id, { text: 'The heron nests by the river.' });
    await server.client.agents.passages.create(b.id, { text: 'A heron was seen at the lake.' });
    await server.client.agents.passages.create(b.id, { text: 'Unrelated note about taxes.' });
    await waitForEmbeddings(server, a.id);
    await waitForEmbeddings(server, b.id);

    // Hybrid search: the vector side ranks the unrelated passage too, but below both herons.
    const hits = await server.client.passages.search({ query: 'heron' });
    expect(
      hits
        .slice(0, 2)
        .map((h) => h.passage.text)
        .sort(),
    ).toEqual(['A heron was seen at the lake.', 'The heron nests by the river.']);
    for (const hit of hits) expect(hit.score).toBeGreaterThan(0);
    expect(await server.client.passages.search({ query: 'heron', limit: 1 })).toHaveLength(1);
    const onlyA = await server.client.passages.search({ query: 'heron', agent_id: a.id });
    expect(onlyA.map((h) => h.passage.text)).toEqual(['The heron nests by the river.']);
    const scores = hits.map((h) => h.score);
    expect(scores).toEqual([...scores].sort((x, y) => y - x));
  });

  it("a new agent's model_settings carry Letta's defaults: 16384 output tokens, parallel tool calls on", async () => {
    const openai = await server.client.agents.create({ model: 'openai/gpt-4o-mini' });
    expect(openai.model_settings).toMatchObject({
      max_output_tokens: 16384,
      parallel_tool_calls: true,
      provider_type: 'openai',
      strict: false,
    });
    const haiku = await server.client.agents.create({ model: 'anthropic/claude-haiku-4-5' });
    expect(haiku.model_settings).toMatchObject({ max_output_tokens: 8192, parallel_tool_calls: true });
    const noParallel = await server.client.agents.create({ model: 'openai/gpt-4o-mini', parallel_tool_calls: false });
    expect(noParallel.model_settings).toMatchObject({ parallel_tool_calls: false });
  });

  it('GET /context counts each part of the system message once', async () => {
    const agent = await server.client.agents.create({
      memory_blocks: [{ label: 'human', value: 'Name: Ada. '.repeat(200) }],
      tool_rules: [{ type: 'exit_loop', tool_name: 'memory_insert' }],
    });
    const response = await http('GET', `${server.baseURL}/v1/agents/${agent.id}/context`);
    expect(response.status).toBe(200);
    const c = response.body;
    expect(c.system_prompt).toMatch(/^<base_instructions>[\s\S]*<\/base_instructions>$/);
    expect(c.system_prompt).not.toContain('<memory_blocks>');
    expect(c.core_memory).toMatch(/^<memory_blocks>[\s\S]*Name: Ada[\s\S]*<\/memory_blocks>$/);
    expect(c.tool_usage_rules).toMatch(/^<tool_usage_rules>[\s\S]*memory_insert[\s\S]*<\/tool_usage_rules>$/);
    expect(c.external_memory_summary).toMatch(/^<memory_metadata>[\s\S]*<\/memory_metadata>$/);
    // The big block is core memory's, not the system prompt's.
    expect(c.num_tokens_core_memory).toBeGreaterThan(500);
    expect(c.num_tokens_system).toBeLessThan(c.num_tokens_core_memory);
    const parts =
      c.num_tokens_system +
      c.num_tokens_core_memory +
      c.num_tokens_memory_filesystem +
      c.num_tokens_tool_usage_rules +
      c.num_tokens_directories +
      c.num_tokens_external_memory_summary +
      c.num_tokens_summary_memory +
      c.num_tokens_messages +
      c.num_tokens_functions_definitions;
    expect(c.context_window_size_current).toBe(parts);
  });
});
