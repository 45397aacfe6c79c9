import { NotFoundError, UnprocessableEntityError, BadRequestError } from '@letta-ai/letta-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { http } from '../support/http.js';
import { expectLettaSchema } from '../support/openapi.js';

describe.each(testDialects())('agents [%s]', (dialect) => {
  let server: TestCairn;
  beforeAll(async () => {
    server = await startCairn(dialect);
  });
  afterAll(() => server.close());

  it('creates an agent with memory blocks, tags and default tools, and returns it fully loaded', async () => {
    const agent = await server.client.agents.create({
      name: 'Create Test',
      model: 'openai/gpt-4o-mini',
      embedding: 'openai/text-embedding-3-small',
      memory_blocks: [
        { label: 'human', value: 'Name: Ada' },
        { label: 'persona', value: 'I am a helpful assistant.', limit: 5000 },
      ],
      tags: ['team:a', 'env:test'],
      description: 'd',
      metadata: { owner: 'me' },
    });
    expectLettaSchema('AgentState', agent);
    expect(agent.id).toMatch(/^agent-[0-9a-f-]{36}$/);
    expect(agent.agent_type).toBe('letta_v1_agent');
    expect(agent.model).toBe('openai/gpt-4o-mini');
    expect(agent.embedding).toBe('openai/text-embedding-3-small');
    expect(agent.llm_config.model).toBe('gpt-4o-mini');
    expect(agent.llm_config.context_window).toBe(128000);
    expect(agent.embedding_config?.embedding_dim).toBe(1536);
    expect(agent.blocks.map((b) => b.label)).toEqual(['human', 'persona']);
    expect(agent.memory.blocks.map((b) => b.value)).toEqual(['Name: Ada', 'I am a helpful assistant.']);
    expect(agent.blocks[1]!.limit).toBe(5000);
    expect(agent.blocks[0]!.description).toContain('human block');
    expect(agent.tags.sort()).toEqual(['env:test', 'team:a']);
    expect(agent.tools.map((t) => t.name).sort()).toEqual(['conversation_search', 'memory_insert', 'memory_replace']);
    expect(agent.metadata).toEqual({ owner: 'me' });
  });

  it('stores handles as given and needs no provider key to create', async () => {
    const agent = await server.client.agents.create({
      model: 'anthropic/claude-sonnet-4-5-20250929',
      include_base_tools: false,
    });
    expect(agent.model).toBe('anthropic/claude-sonnet-4-5-20250929');
    expect(agent.llm_config.model_endpoint_type).toBe('anthropic');
    expect(agent.embedding).toBe('local/use-lite');
    expect(agent.tools).toEqual([]);
    expect(agent.name).toMatch(/\S/);
  });

  it('accepts Letta Code’s create body, resolving tools by name and ignoring unknown fields', async () => {
    const response = await http('POST', `${server.baseURL}/v1/agents/`, {
      agent_type: 'letta_v1_agent',
      name: 'Letta Code',
      description: 'The default Letta Code agent with persistent memory',
      model: 'openai/gpt-4o-mini',
      system: 'custom system prompt',
      memory_blocks: [
        { label: 'persona', value: 'p', description: 'd' },
        { label: 'human', value: 'h', description: 'd' },
      ],
      tags: ['origin:letta-code'],
      tools: ['web_search', 'fetch_webpage'],
      include_base_tools: false,
      include_base_tool_rules: false,
      initial_message_sequence: [],
      parallel_tool_calls: true,
      compaction_settings: { model: 'letta/auto' },
      context_window_limit: 128000,
      some_future_field: { nested: true },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const agent = response.body;
    expect(agent.tools.map((t: { name: string }) => t.name)).toEqual(['web_search', 'fetch_webpage']);
    expect(agent.system).toBe('custom system prompt');
    expect(agent.compaction_settings).toEqual({ model: 'letta/auto' });
  });

  it('answers unknown tool names with Letta’s "tools not found by name" 400', async () => {
    const error = await server.client.agents.create({ tools: ['no_such_tool'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(String((error as BadRequestError).message).toLowerCase()).toContain('tools not found by name');
  });

  it('retrieves with the include rule: 1.x SDK callers get relationships only when asked', async () => {
    const created = await server.client.agents.create({
      memory_blocks: [{ label: 'human', value: 'x' }],
      tags: ['inc'],
    });
    const bare = await server.client.agents.retrieve(created.id);
    expect(bare.blocks).toEqual([]);
    expect(bare.tools).toEqual([]);
    expect(bare.tags).toEqual([]);
    expectLettaSchema('AgentState', bare);
    const full = await server.client.agents.retrieve(created.id, {
      include: ['agent.blocks', 'agent.tools', 'agent.tags'],
    });
    expect(full.blocks.map((b) => b.label)).toEqual(['human']);
    expect(full.memory.blocks.map((b) => b.label)).toEqual(['human']);
    expect(full.tools.length).toBe(3);
    expect(full.tags).toEqual(['inc']);

    const legacy = (
      await http('GET', `${server.baseURL}/v1/agents/${created.id}`, undefined, {
        'user-agent': 'python-requests/2.31',
      })
    ).body;
    expect(legacy.blocks.map((b: { label: string }) => b.label)).toEqual(['human']);
    expect(legacy.tags).toEqual(['inc']);
  });

  it('modifies an agent: name, tags, model, context window, block set', async () => {
    const created = await server.client.agents.create({
      name: 'before',
      tags: ['a'],
      memory_blocks: [{ label: 'human', value: 'h' }],
    });
    const extra = await server.client.blocks.create({ label: 'notes', value: 'n' });
    const updated = await server.client.agents.update(created.id, {
      name: 'after',
      tags: ['b', 'c'],
      model: 'openai/gpt-4.1',
      context_window_limit: 64000,
      model_settings: { provider_type: 'openai', parallel_tool_calls: true },
      block_ids: [extra.id],
    });
    expect(updated.name).toBe('after');
    expect(updated.tags.sort()).toEqual(['b', 'c']);
    expect(updated.model).toBe('openai/gpt-4.1');
    expect(updated.llm_config.context_window).toBe(64000);
    expect(updated.blocks.map((b) => b.label)).toEqual(['notes']);
    expect(updated.updated_at! >= created.updated_at!).toBe(true);
  });

  it('deletes an agent; its id is then 404 and its shared blocks survive', async () => {
    const shared = await server.client.blocks.create({ label: 'shared', value: 's' });
    const agent = await server.client.agents.create({ block_ids: [shared.id] });
    await server.client.agents.delete(agent.id);
    await expect(server.client.agents.retrieve(agent.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(server.client.agents.delete(agent.id)).rejects.toBeInstanceOf(NotFoundError);
    expect((await server.client.blocks.retrieve(shared.id)).value).toBe('s');
  });

  it('rejects malformed ids with 422 and unknown ids with 404', async () => {
    await expect(server.client.agents.retrieve('agent-123')).rejects.toBeInstanceOf(UnprocessableEntityError);
    await expect(server.client.agents.retrieve('block-00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(
      UnprocessableEntityError,
    );
    await expect(server.client.agents.retrieve('agent-00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('validates bodies with 422 naming the field, writes nothing on failure', async () => {
    const before = (await http('GET', `${server.baseURL}/v1/agents/count`)).body;
    const response = await http('POST', `${server.baseURL}/v1/agents/`, {
      name: 'ok',
      memory_blocks: [{ label: 'human', value: 'fine' }, { value: 'no label' }],
    });
    expect(response.status).toBe(422);
    expect(response.body.detail[0].loc).toEqual(['body', 'memory_blocks', 1, 'label']);
    // A failure after the first block was inserted (an unknown block id) must roll everything back.
    const rolledBack = await http('POST', `${server.baseURL}/v1/agents/`, {
      memory_blocks: [{ label: 'human', value: 'orphan-check' }],
      block_ids: ['block-00000000-0000-4000-8000-000000000000'],
    });
    expect(rolledBack.status).toBe(404);
    expect((await http('GET', `${server.baseURL}/v1/agents/count`)).body).toBe(before);
    const orphans = await server.client.blocks.list({ value_search: 'orphan-check' });
    expect(orphans.getPaginatedItems()).toEqual([]);
  });

  it('rejects a bad model handle, agent name or timezone with 422', async () => {
    await expect(server.client.agents.create({ model: 'gpt-4o' })).rejects.toBeInstanceOf(UnprocessableEntityError);
    await expect(server.client.agents.create({ name: 'bad/name' })).rejects.toBeInstanceOf(UnprocessableEntityError);
    const badZone = await http('POST', `${server.baseURL}/v1/agents/`, { timezone: 'Mars/Base' });
    expect(badZone.status).toBe(422);
    expect(badZone.body.detail[0].loc).toEqual(['body', 'timezone']);
  });

  it('answers invalid JSON with 400 and oversized bodies with 413', async () => {
    const invalid = await http('POST', `${server.baseURL}/v1/agents/`, '{"name":');
    expect(invalid.status).toBe(400);
    expect(invalid.body.detail).toMatch(/JSON/);
    const huge = await http('POST', `${server.baseURL}/v1/agents/`, {
      description: 'x'.repeat(server.config.bodyLimitBytes + 10),
    });
    expect(huge.status).toBe(413);
    expect(huge.body).toHaveProperty('detail');
  });
});

describe.each(testDialects())('agent listing [%s]', (dialect) => {
  let server: TestCairn;
  const ids: string[] = [];
  beforeAll(async () => {
    server = await startCairn(dialect);
    for (let i = 0; i < 7; i++) {
      const tags = [i % 2 === 0 ? 'even' : 'odd', ...(i % 3 === 0 ? ['three'] : [])];
      ids.push((await server.client.agents.create({ name: `lister-${i}`, tags, include_base_tools: false })).id);
    }
  });
  afterAll(() => server.close());

  it('lists newest first by default, as a bare array', async () => {
    const { body } = await http('GET', `${server.baseURL}/v1/agents`);
    expect(Array.isArray(body)).toBe(true);
    expect(body.map((a: { id: string }) => a.id)).toEqual([...ids].reverse());
    expectLettaSchema('AgentState', body[0]);
  });

  it('auto-paginates with for-await until an empty page', async () => {
    const seen: string[] = [];
    for await (const agent of server.client.agents.list({ limit: 2, order: 'asc' })) seen.push(agent.id);
    expect(seen).toEqual(ids);
    const desc: string[] = [];
    for await (const agent of server.client.agents.list({ limit: 3 })) desc.push(agent.id);
    expect(desc).toEqual([...ids].reverse());
  });

  it('pages with before and after cursors in both orders', async () => {
    const after = await server.client.agents.list({ after: ids[2], limit: 2, order: 'asc' });
    expect(after.getPaginatedItems().map((a) => a.id)).toEqual([ids[3], ids[4]]);
    const before = await server.client.agents.list({ before: ids[4], limit: 2, order: 'asc' });
    expect(before.getPaginatedItems().map((a) => a.id)).toEqual([ids[2], ids[3]]);
    const beforeDesc = await server.client.agents.list({ before: ids[2], limit: 2, order: 'desc' });
    expect(beforeDesc.getPaginatedItems().map((a) => a.id)).toEqual([ids[4], ids[3]]);
    const past = await server.client.agents.list({ after: ids[6], order: 'asc' });
    expect(past.getPaginatedItems()).toEqual([]);
  });

  it('filters by tags (any / all), name and query_text, and counts', async () => {
    const any = await server.client.agents.list({ tags: ['odd', 'three'], limit: 50 });
    expect(
      any
        .getPaginatedItems()
        .map((a) => a.name)
        .sort(),
    ).toEqual(['lister-0', 'lister-1', 'lister-3', 'lister-5', 'lister-6']);
    const all = await server.client.agents.list({ tags: ['even', 'three'], match_all_tags: true });
    expect(
      all
        .getPaginatedItems()
        .map((a) => a.name)
        .sort(),
    ).toEqual(['lister-0', 'lister-6']);
    const byName = await server.client.agents.list({ name: 'lister-4' });
    expect(byName.getPaginatedItems().map((a) => a.id)).toEqual([ids[4]]);
    const search = await server.client.agents.list({ query_text: 'LISTER-5' });
    expect(search.getPaginatedItems().map((a) => a.id)).toEqual([ids[5]]);
    const count = await http('GET', `${server.baseURL}/v1/agents/count`);
    expect(count.headers.get('content-type')).toMatch(/^application\/json/);
    expect(count.body).toBe(7);
  });

  it('orders by updated_at', async () => {
    await server.client.agents.update(ids[0]!, { description: 'touched' });
    const page = await server.client.agents.list({ order_by: 'updated_at', order: 'desc', limit: 1 });
    expect(page.getPaginatedItems()[0]!.id).toBe(ids[0]);
    const seen: string[] = [];
    for await (const agent of server.client.agents.list({ order_by: 'updated_at', order: 'asc', limit: 3 }))
      seen.push(agent.id);
    expect(seen).toEqual([...ids.slice(1), ids[0]]);
  });

  it('serves collection paths with and without the trailing slash, never redirecting', async () => {
    for (const path of [
      '/v1/agents',
      '/v1/agents/',
      '/v1/blocks',
      '/v1/blocks/',
      '/v1/tags',
      '/v1/tags/',
      '/v1/health',
      '/v1/health/',
    ]) {
      expect((await http('GET', `${server.baseURL}${path}`)).status, path).toBe(200);
    }
  });
});
