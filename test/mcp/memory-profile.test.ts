import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBuiltCairn } from '../support/build.js';
import { http } from '../support/http.js';
import { callTool, checkToolListing, mcpTransports, ok, type McpClient } from './helpers.js';

const PASSWORD = 'mcp-test-password';
const MEMORY_TOOLS = [
  'archival_delete',
  'archival_insert',
  'archival_search',
  'ask_agent',
  'conversation_search',
  'log_session_entry',
  'memory_create_block',
  'memory_get_core',
  'memory_list_agents',
  'memory_update_block',
];

const live = useBuiltCairn(PASSWORD, {
  llm: true,
  // ask_agent is opt-in; the HTTP transport reads the server process's environment.
  setup: () => {
    process.env.CAIRN_MCP_ASK_AGENT = 'true';
  },
  teardown: () => {
    delete process.env.CAIRN_MCP_ASK_AGENT;
  },
});

const transports = mcpTransports(() => ({ baseURL: live.server.baseURL, password: PASSWORD, cli: live.built.cli }));

describe.each(transports)('MCP memory profile over %s', (_name, connect) => {
  let client: McpClient;
  let agentId: string;
  let otherAgentId: string;
  beforeAll(async () => {
    const agent = await live.server.client.agents.create({
      name: `mcp-${_name}`,
      tags: ['project:mcp-test'],
      memory_blocks: [
        { label: 'human', value: 'Name: Ada', limit: 100 },
        { label: 'policy', value: 'Never push to main.', read_only: true },
      ],
    });
    agentId = agent.id;
    otherAgentId = (await live.server.client.agents.create({ name: `other-${_name}` })).id;
    client = await connect(agentId);
  }, 60_000);
  afterAll(() => client?.close());

  it('lists the memory tools with Claude-compatible schemas', async () => {
    expect(await checkToolListing(client)).toEqual(MEMORY_TOOLS);
  });

  it('lists agents, filtered and paginated', async () => {
    const all = await ok(client, 'memory_list_agents', { limit: 1 });
    expect(all.data).toHaveLength(1);
    expect(all.next_offset).toBe(1);
    const tagged = await ok(client, 'memory_list_agents', { tags: ['project:mcp-test'], limit: 50 });
    expect(tagged.data.map((a: any) => a.id)).toContain(agentId);
    expect(tagged.data.map((a: any) => a.id)).not.toContain(otherAgentId);
  });

  it('reads core memory of the default agent and of an explicit one', async () => {
    const core = await ok(client, 'memory_get_core', {});
    const human = core.data.blocks.find((b: any) => b.label === 'human');
    expect(human).toMatchObject({ value: 'Name: Ada', chars: 9, limit: 100, read_only: false });
    const other = await ok(client, 'memory_get_core', { agent_id: otherAgentId });
    expect(other.data.agent_id).toBe(otherAgentId);
  });

  it('updates a block by replace, append and str_replace, respecting read-only and the limit', async () => {
    await ok(client, 'memory_update_block', { label: 'human', mode: 'replace', value: 'Name: Ada Lovelace' });
    await ok(client, 'memory_update_block', { label: 'human', mode: 'append', value: 'Likes: engines' });
    const edited = await ok(client, 'memory_update_block', {
      label: 'human',
      mode: 'str_replace',
      old_text: 'engines',
      new_text: 'analytical engines',
    });
    expect(edited.data.value).toBe('Name: Ada Lovelace\nLikes: analytical engines');
    expect((await live.server.client.agents.blocks.retrieve('human', { agent_id: agentId })).value).toBe(
      'Name: Ada Lovelace\nLikes: analytical engines',
    );

    const readOnly = await callTool(client, 'memory_update_block', { label: 'policy', mode: 'append', value: 'x' });
    expect(readOnly.isError).toBe(true);
    expect(readOnly.json.error).toMatch(/read-only/);
    const tooLong = await callTool(client, 'memory_update_block', {
      label: 'human',
      mode: 'replace',
      value: 'x'.repeat(101),
    });
    expect(tooLong.isError).toBe(true);
    expect(tooLong.json.error).toMatch(/100 character limit/);
    const missing = await callTool(client, 'memory_update_block', {
      label: 'human',
      mode: 'str_replace',
      old_text: 'not there',
      new_text: '',
    });
    expect(missing.json.error).toMatch(/not found/);
    const badMode = await callTool(client, 'memory_update_block', { label: 'human', mode: 'rewrite' });
    expect(badMode.isError).toBe(true);
    expect(badMode.json.error).toMatch(/invalid arguments: mode/);
  });

  it('creates a block attached to the agent', async () => {
    const created = await ok(client, 'memory_create_block', {
      label: 'project',
      value: 'Cairn: TypeScript',
      description: 'The project',
      limit: 500,
    });
    expect(created.data).toMatchObject({ label: 'project', attached_to: agentId, limit: 500 });
    const blocks = (await live.server.client.agents.blocks.list(agentId)).getPaginatedItems();
    expect(blocks.map((b) => b.label)).toContain('project');
  });

  it('inserts, searches and deletes archival memories', async () => {
    const inserted = await ok(client, 'archival_insert', {
      text: 'The deploy key rotates every Tuesday',
      tags: ['ops'],
    });
    const passageId = inserted.data[0].id;
    expect(passageId).toMatch(/^passage-/);
    await ok(client, 'archival_insert', { text: 'Lunch is at noon', tags: ['life'] });
    const found = await ok(client, 'archival_search', {
      query: 'deploy key rotation',
      tags: ['ops'],
      top_k: 5,
      start_datetime: '2000-01-01',
    });
    expect(found.data.map((r: any) => r.id)).toEqual([passageId]);
    const future = await ok(client, 'archival_search', { query: 'deploy key', start_datetime: '2999-01-01' });
    expect(future.data).toEqual([]);
    await ok(client, 'archival_delete', { passage_id: passageId });
    const after = await live.server.client.agents.passages.list(agentId);
    expect(after.map((p) => p.id)).not.toContain(passageId);
    const again = await callTool(client, 'archival_delete', { passage_id: passageId });
    expect(again.isError).toBe(true);
    expect(again.json.error).toMatch(/HTTP 404/);
  });

  it('logs session entries without running the LLM and finds them with conversation_search', async () => {
    const before = live.llm.requests.length;
    const logged = await ok(client, 'log_session_entry', {
      role: 'user',
      content: 'We chose PostgreSQL for the billing service',
      session_id: 's1',
      source: 'claude_code',
    });
    expect(logged.data).toMatchObject({ captured: 1, skipped: 0 });
    // Same session and content: idempotent.
    const repeat = await ok(client, 'log_session_entry', {
      role: 'user',
      content: 'We chose PostgreSQL for the billing service',
      session_id: 's1',
      source: 'claude_code',
    });
    expect(repeat.data).toMatchObject({ captured: 0, skipped: 1 });
    expect(live.llm.requests.length).toBe(before);
    const hits = await ok(client, 'conversation_search', { query: 'billing PostgreSQL', limit: 5 });
    expect(hits.data).toHaveLength(1);
    expect(hits.data[0]).toMatchObject({
      role: 'user',
      content: '[claude_code] We chose PostgreSQL for the billing service',
    });
    const noAssistant = await ok(client, 'conversation_search', { query: 'billing', roles: ['assistant'] });
    expect(noAssistant.data).toEqual([]);
    // Captured history is not part of the agent's context window.
    const agent = await live.server.client.agents.retrieve(agentId);
    expect(agent.message_ids ?? []).not.toContain(logged.data.message_ids[0]);
  });

  it('asks the agent (one LLM turn) when enabled', async () => {
    live.llm.script({ text: 'Ada likes analytical engines.' });
    const reply = await ok(client, 'ask_agent', { message: 'What does Ada like?' });
    expect(reply.data.reply).toBe('Ada likes analytical engines.');
  });

  it('answers a tool error, not a crash, for an unknown agent', async () => {
    const reply = await callTool(client, 'memory_get_core', { agent_id: 'agent-00000000-0000-4000-8000-000000000000' });
    expect(reply.isError).toBe(true);
    expect(reply.json.error).toMatch(/HTTP 404/);
  });
});

describe('MCP over HTTP: transport details', () => {
  const initialize = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  };
  const headers = { Authorization: `Bearer ${PASSWORD}`, accept: 'application/json, text/event-stream' };

  it('needs the server password', async () => {
    const res = await http('POST', `${live.server.baseURL}/mcp`, initialize, { accept: headers.accept });
    expect(res.status).toBe(401);
    const bare = await http('POST', `${live.server.baseURL}/mcp`, initialize, {
      accept: headers.accept,
      'X-BARE-PASSWORD': `password ${PASSWORD}`,
    });
    expect(bare.status).toBe(200);
  });

  it('serves /mcp and /mcp/ without redirecting or minting a session; DELETE 405', async () => {
    for (const path of ['/mcp', '/mcp/']) {
      const res = await http('POST', `${live.server.baseURL}${path}`, initialize, headers);
      expect(res.status).toBe(200);
      // The 2025 leg answers a request as a one-event SSE stream (the SDK's stateless transport).
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      expect(res.headers.get('mcp-session-id')).toBeNull();
      const result = JSON.parse(/^data: (.*)$/m.exec(res.body as string)![1]!).result;
      expect(result.serverInfo.name).toBe('cairn');
      expect(result.capabilities.tools).toBeDefined();
    }
    expect((await http('DELETE', `${live.server.baseURL}/mcp/`, undefined, headers)).status).toBe(405);
  });

  it('rejects an unknown profile and foreign origins', async () => {
    expect((await http('POST', `${live.server.baseURL}/mcp?tools=everything`, initialize, headers)).status).toBe(400);
    expect(
      (await http('POST', `${live.server.baseURL}/mcp`, initialize, { ...headers, origin: 'https://evil.example' }))
        .status,
    ).toBe(403);
    expect(
      (await http('POST', `${live.server.baseURL}/mcp`, initialize, { ...headers, origin: 'http://localhost:3000' }))
        .status,
    ).toBe(200);
  });

  it('takes the default agent from ?agent_id=', async () => {
    const agent = await live.server.client.agents.create({
      name: 'by-query',
      memory_blocks: [{ label: 'persona', value: 'from query' }],
    });
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${live.server.baseURL}/mcp/?agent_id=${agent.id}`), {
        requestInit: { headers: { Authorization: `Bearer ${PASSWORD}` } },
      }),
    );
    const core = await ok(client, 'memory_get_core', {});
    expect(core.data.blocks[0].value).toBe('from query');
    await client.close();
  });

  it('without a default agent, asks for agent_id', async () => {
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${live.server.baseURL}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${PASSWORD}` } },
      }),
    );
    const reply = await callTool(client, 'memory_get_core', {});
    expect(reply.isError).toBe(true);
    expect(reply.json.error).toMatch(/agent_id is required/);
    await client.close();
  });
});

describe('cairn mcp over stdio: process contract', () => {
  it('prints nothing but protocol on stdout and exits when stdin closes', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [live.built.cli, 'mcp'], {
      env: { PATH: process.env.PATH ?? '', LETTA_BASE_URL: live.server.baseURL, LETTA_API_KEY: PASSWORD },
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stdin.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } })}\n`,
    );
    await new Promise((r) => setTimeout(r, 1500));
    child.stdin.end();
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).result.serverInfo.name).toBe('cairn');
  });
});
