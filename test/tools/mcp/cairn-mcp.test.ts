import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpHttpConfig } from '../../../src/tools/mcp/config.js';
import { McpConnectionError } from '../../../src/tools/mcp/errors.js';
import { lettaToolFromMcp } from '../../../src/tools/mcp/letta-tool.js';
import { McpClientManager } from '../../../src/tools/mcp/manager.js';
import { startCairn, type TestCairn } from '../../support/cairn.js';

const PASSWORD = 'mcp-client-test';

/** Cairn's own `/mcp` endpoint, registered the way a user registers any streamable-HTTP server. */
describe("Cairn's /mcp as an MCP tool source", () => {
  let server: TestCairn;
  let agentId: string;
  const mcp = new McpClientManager({
    settings: { timeouts: { connectMs: 10_000, listToolsMs: 10_000, callToolMs: 30_000 }, disableStdio: true },
  });
  const config = (token = `Bearer ${PASSWORD}`): McpHttpConfig => ({
    type: 'streamable_http',
    serverName: 'cairn',
    serverUrl: `${server.baseURL}/mcp?tools=memory`,
    authHeader: 'Authorization',
    authToken: token,
    customHeaders: { 'X-Letta-Agent-Id': agentId },
  });

  beforeAll(async () => {
    server = await startCairn('sqlite', { password: PASSWORD });
    const agent = await server.client.agents.create({
      name: 'mcp-client-target',
      memory_blocks: [{ label: 'human', value: 'Name: Grace', limit: 200 }],
    });
    agentId = agent.id;
  }, 60_000);
  afterAll(async () => {
    await mcp.close();
    await server?.close();
  });

  it('lists its memory tools as Letta tools', async () => {
    const tools = await mcp.listTools(config());
    const names = tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['memory_get_core', 'memory_update_block', 'archival_search']));
    for (const tool of tools) {
      expect(tool.health?.status, tool.name).not.toBe('INVALID');
      const letta = lettaToolFromMcp({ id: 'mcp_server-1', name: 'cairn' }, tool);
      expect(letta.json_schema.name).toBe(tool.name);
      expect(letta.name.length, tool.name).toBeLessThanOrEqual(48);
    }
  });

  it('calls a tool that reads and one that writes the agent memory', async () => {
    const read = await mcp.callTool(config(), 'memory_get_core', {});
    expect(read.status).toBe('success');
    expect(read.funcReturn).toContain('Name: Grace');

    const write = await mcp.callTool(config(), 'memory_update_block', {
      label: 'human',
      mode: 'append',
      value: 'Likes: compilers',
    });
    expect(write.status).toBe('success');
    const block = await server.client.agents.blocks.retrieve('human', { agent_id: agentId });
    expect(block.value).toBe('Name: Grace\nLikes: compilers');
  });

  it('a wrong token is a connection error naming the authentication failure', async () => {
    const wrong = new McpClientManager();
    try {
      const error = await wrong.listTools(config('Bearer nope')).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(McpConnectionError);
      expect((error as Error).message).toMatch(/Authentication failed|401/);
    } finally {
      await wrong.close();
    }
  });
});
