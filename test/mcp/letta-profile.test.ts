import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBuiltCairn } from '../support/build.js';
import { callTool, checkToolListing, mcpTransports, ok, type McpClient } from './helpers.js';

const PASSWORD = 'letta-profile-password';
const HUBS = [
  'letta_agent_advanced',
  'letta_file_folder_ops',
  'letta_job_monitor',
  'letta_mcp_ops',
  'letta_memory_unified',
  'letta_source_manager',
  'letta_tool_manager',
];
const PLAIN = [
  'attach_memory_block',
  'create_agent',
  'create_memory_block',
  'create_passage',
  'delete_agent',
  'list_agents',
  'list_memory_blocks',
  'list_passages',
  'modify_agent',
  'read_memory_block',
  'retrieve_agent',
  'search_passages',
  'update_memory_block',
];

const live = useBuiltCairn(PASSWORD, { llm: true });

const transports = mcpTransports(() => ({ baseURL: live.server.baseURL, password: PASSWORD, cli: live.built.cli }));

describe.each(transports)('MCP letta profile over %s', (name, connect) => {
  let client: McpClient;
  let agentId: string;
  beforeAll(async () => {
    agentId = (
      await live.server.client.agents.create({
        name: `letta-${name}`,
        tags: ['hub'],
        memory_blocks: [{ label: 'human', value: 'Name: Grace' }],
      })
    ).id;
    client = await connect(agentId, 'letta');
  }, 60_000);
  afterAll(() => client?.close());

  it('lists the seven hubs and the classic names with Claude-compatible schemas', async () => {
    expect(await checkToolListing(client)).toEqual([...HUBS, ...PLAIN].sort());
  });

  it('letta_agent_advanced: agent operations and messaging', async () => {
    const hub = (operation: string, args: Record<string, unknown> = {}) =>
      ok(client, 'letta_agent_advanced', { operation, ...args });
    const created = await hub('create', {
      name: `hub-made-${name}`,
      description: 'made by the hub',
      tags: ['hub', `made-${name}`],
    });
    expect(created.operation).toBe('create');
    const id = created.data.id;
    expect((await hub('list', { filters: { agent_tag_filter: `made-${name}` } })).data.map((a: any) => a.id)).toEqual([
      id,
    ]);
    expect((await hub('list', { pagination: { limit: 1 } })).next_offset).toBe(1);
    expect((await hub('search', { query: `hub-made-${name}` })).data.map((a: any) => a.id)).toContain(id);
    expect((await hub('count')).data.count).toBeGreaterThanOrEqual(2);
    const got = await hub('get', { agent_id: id });
    expect(got.data).toMatchObject({ id, description: 'made by the hub' });
    expect(got.data.blocks).toBeInstanceOf(Array);
    expect((await hub('update', { agent_id: id, update_data: { description: 'changed' } })).data.description).toBe(
      'changed',
    );
    expect((await hub('list_tools', { agent_id: id })).data).toBeInstanceOf(Array);
    expect((await hub('context')).data).toBeTypeOf('object');
    live.llm.script({ text: 'Hello Grace.' });
    expect((await hub('send_message', { messages: [{ role: 'user', content: 'Hi, I am Grace' }] })).data.reply).toBe(
      'Hello Grace.',
    );
    expect((await hub('search_messages', { query: 'Grace' })).data.length).toBeGreaterThan(0);
    expect((await hub('reset_messages')).data.reset).toBe(agentId);
    const conv = await live.server.client.conversations.create({ agent_id: agentId });
    expect((await hub('list_conversations')).data.map((c: any) => c.id)).toContain(conv.id);
    expect((await hub('get_conversation', { conversation_id: conv.id })).data.id).toBe(conv.id);
    expect((await hub('delete', { agent_id: id })).data.deleted).toBe(id);
    const doomed = (await hub('create', { name: `doomed-${name}` })).data.id;
    expect((await hub('bulk_delete', { filters: { agent_ids: [doomed] } })).data.deleted).toEqual([doomed]);

    const unsupported = await callTool(client, 'letta_agent_advanced', { operation: 'export', agent_id: agentId });
    expect(unsupported.isError).toBe(true);
    expect(unsupported.json).toMatchObject({ success: false, operation: 'export' });
    expect(unsupported.json.error).toMatch(/^unsupported/);
    const unknown = await callTool(client, 'letta_agent_advanced', { operation: 'fly' });
    expect(unknown.json.error).toMatch(/unknown operation 'fly'.*valid operations: list, search/);
  });

  it('letta_memory_unified: blocks, passages and memory search', async () => {
    const hub = (operation: string, args: Record<string, unknown> = {}) =>
      ok(client, 'letta_memory_unified', { operation, ...args });
    const core = await hub('get_core_memory');
    expect(core.data.blocks.map((b: any) => b.label)).toContain('human');
    await hub('update_core_memory', { block_label: 'human', value: 'Name: Grace Hopper' });
    expect((await hub('get_block_by_label', { block_label: 'human' })).data.value).toBe('Name: Grace Hopper');
    const block = (await hub('create_block', { label: `notes-${name}`, value: 'first' })).data;
    expect((await hub('get_block', { block_id: block.id })).data.value).toBe('first');
    expect((await hub('update_block', { block_id: block.id, value: 'second' })).data.value).toBe('second');
    expect((await hub('list_blocks', { label: `notes-${name}` })).data.map((b: any) => b.id)).toEqual([block.id]);
    await hub('attach_block', { block_id: block.id });
    expect((await hub('list_blocks', { agent_id: agentId })).data.map((b: any) => b.id)).toContain(block.id);
    expect((await hub('list_agents_using_block', { block_id: block.id })).data.map((a: any) => a.id)).toEqual([
      agentId,
    ]);
    await hub('detach_block', { block_id: block.id });
    expect((await hub('list_agents_using_block', { block_id: block.id })).data).toEqual([]);

    const passage = (await hub('create_passage', { text: 'COBOL was designed in 1959', tags: ['history'] })).data[0];
    expect((await hub('list_passages', { limit: 10 })).data.map((p: any) => p.id)).toContain(passage.id);
    expect((await hub('search_archival', { query: 'COBOL design year' })).data[0].id).toBe(passage.id);
    const both = await hub('search_memory', { query: 'COBOL' });
    expect(both.data.archival[0].id).toBe(passage.id);
    expect(both.data.recall).toBeInstanceOf(Array);
    const failedUpdate = await callTool(client, 'letta_memory_unified', {
      operation: 'update_passage',
      passage_id: passage.id,
      text: 'x',
    });
    expect(failedUpdate.json.error).toMatch(/delete_passage, then create_passage/);
    await hub('delete_passage', { passage_id: passage.id });
    expect((await hub('list_passages')).data).toEqual([]);
    expect((await callTool(client, 'letta_memory_unified', { operation: 'list_archives' })).json.error).toMatch(
      /^unsupported/,
    );
  });

  it('the other hubs answer an explicit "unsupported" for every operation', async () => {
    for (const [tool, operation] of [
      ['letta_tool_manager', 'list'],
      ['letta_source_manager', 'count'],
      ['letta_job_monitor', 'list_active'],
      ['letta_file_folder_ops', 'list_folders'],
      ['letta_mcp_ops', 'list_servers'],
    ] as const) {
      const reply = await callTool(client, tool, { operation });
      expect(reply.isError, tool).toBe(true);
      expect(reply.json.error, tool).toMatch(new RegExp(`^unsupported: ${tool} operation '${operation}'`));
    }
  });

  it('the classic flat names', async () => {
    const made = (await ok(client, 'create_agent', { name: `flat-${name}`, description: 'flat', tags: ['flat'] })).data;
    expect((await ok(client, 'list_agents', { filter: `flat-${name}` })).data.map((a: any) => a.id)).toEqual([made.id]);
    expect((await ok(client, 'retrieve_agent', { agent_id: made.id })).data.name).toBe(`flat-${name}`);
    expect(
      (await ok(client, 'modify_agent', { agent_id: made.id, update_data: { name: `flat2-${name}` } })).data.name,
    ).toBe(`flat2-${name}`);
    const block = (await ok(client, 'create_memory_block', { label: 'scratch', value: 'v1', agent_id: made.id })).data;
    expect(block.attached_to).toBe(made.id);
    expect((await ok(client, 'read_memory_block', { block_id: block.id })).data.value).toBe('v1');
    expect((await ok(client, 'update_memory_block', { block_id: block.id, value: 'v2' })).data.value).toBe('v2');
    const loose = (await ok(client, 'create_memory_block', { label: 'loose', value: 'x' })).data;
    await ok(client, 'attach_memory_block', { block_id: loose.id, agent_id: made.id });
    expect(
      (await ok(client, 'list_memory_blocks', { agent_id: made.id })).data.map((b: any) => b.label).sort(),
    ).toEqual(['loose', 'scratch']);
    await ok(client, 'create_passage', { agent_id: made.id, text: 'Flat passages still work', tags: ['t'] });
    expect((await ok(client, 'list_passages', { agent_id: made.id, search: 'Flat' })).data).toHaveLength(1);
    expect(
      (await ok(client, 'search_passages', { agent_id: made.id, query: 'flat passages', tags: ['t'] })).data,
    ).toHaveLength(1);
    expect((await ok(client, 'delete_agent', { agent_id: made.id })).data.deleted).toBe(made.id);
  });
});

describe('profile "all"', () => {
  it('offers the memory tools and the letta tools together', async () => {
    const [, connect] = transports[0]!;
    const agentId = (await live.server.client.agents.create({ name: 'all' })).id;
    const client = await connect(agentId, 'all');
    const names = await checkToolListing(client);
    expect(names).toEqual(
      expect.arrayContaining([...HUBS, ...PLAIN, 'memory_get_core', 'archival_search', 'log_session_entry']),
    );
    expect(new Set(names).size).toBe(names.length);
    await client.close();
  });
});
