import { randomBytes } from 'node:crypto';
import Letta from '@letta-ai/letta-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createCairn, type Cairn } from '../../src/server.js';
import { createTestDatabase, testDialects } from '../support/cairn.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';
import { EVERYTHING_SERVER, FIXTURE_SERVER, httpFixture } from '../support/mcp-fixtures.js';
import { useRuntime } from './harness.js';

/** Short limits: a hung tool must end the call, not the test. */
const MCP_ENV = {
  MCP_DISABLE_STDIO: 'false',
  MCP_CONNECT_TO_SERVER_TIMEOUT: '20',
  MCP_LIST_TOOLS_TIMEOUT: '20',
  MCP_EXECUTE_TOOL_TIMEOUT: '3',
};

type Message = { message_type: string; tool_return?: string; status?: string; content?: string };

const toolReturns = (messages: unknown[]) =>
  (messages as Message[]).filter((m) => m.message_type === 'tool_return_message');

describe.each(testDialects())('MCP tools in an agent turn [%s]', (dialect) => {
  const h = useRuntime(dialect, MCP_ENV);

  const toolIds = async (serverId: string, names: string[]) => {
    const tools = await h.server.client.mcpServers.tools.list(serverId);
    return names.map((name) => {
      const tool = tools.find((t) => t.name === name);
      if (!tool) throw new Error(`no tool ${name} on ${serverId}: ${tools.map((t) => t.name).join(', ')}`);
      return tool.id!;
    });
  };

  it('calls a tool of server-everything (stdio, from npm) and continues the loop with its result', async () => {
    const server = await h.server.client.mcpServers.create({
      server_name: 'everything',
      config: { mcp_server_type: 'stdio', command: process.execPath, args: [EVERYTHING_SERVER, 'stdio'] },
    });
    const agent = await h.server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      tool_ids: await toolIds(server.id!, ['echo', 'get-sum']),
    });
    h.llm.script(
      { toolCalls: [{ name: 'get-sum', arguments: { a: 19, b: 23 } }] },
      { toolCalls: [{ name: 'echo', arguments: { message: 'from the agent' } }] },
      { text: 'Both tools answered.' },
    );
    const response = await h.server.client.agents.messages.create(agent.id, {
      messages: [{ role: 'user', content: 'Use your tools' }],
    });
    expect(response.stop_reason.stop_reason).toBe('end_turn');
    const returns = toolReturns(response.messages);
    expect(returns.map((r) => r.status)).toEqual(['success', 'success']);
    expect(returns[0]!.tool_return).toContain('42');
    expect(returns[1]!.tool_return).toBe('Echo: from the agent');
    // The model was offered the MCP tools and saw their results.
    const offered = (h.llm.calls[0]!.body.tools as { function: { name: string } }[]).map((t) => t.function.name);
    expect(offered).toEqual(expect.arrayContaining(['echo', 'get-sum']));
    expect(JSON.stringify(h.llm.calls[2]!.body.messages)).toContain('Echo: from the agent');
  });

  it("calls Cairn's own /mcp over streamable HTTP, which edits the agent's memory", async () => {
    const agent = await h.server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      memory_blocks: [{ label: 'human', value: 'Name: Grace', limit: 500 }],
    });
    const server = await h.server.client.mcpServers.create({
      server_name: 'cairn-self',
      config: {
        mcp_server_type: 'streamable_http',
        server_url: `${h.server.baseURL}/mcp?tools=memory`,
        custom_headers: { 'X-Letta-Agent-Id': agent.id },
      },
    });
    const registered = (await h.server.client.mcpServers.tools.list(server.id!)).map((t) => t.name);
    expect(registered).toEqual(expect.arrayContaining(['memory_get_core', 'memory_update_block']));
    // Its conversation_search has the name of a base tool, which an MCP tool never takes over.
    expect(registered).not.toContain('conversation_search');
    await h.server.client.agents.update(agent.id, {
      tool_ids: await toolIds(server.id!, ['memory_get_core', 'memory_update_block']),
    });
    h.llm.script(
      { toolCalls: [{ name: 'memory_get_core', arguments: {} }] },
      {
        toolCalls: [
          { name: 'memory_update_block', arguments: { label: 'human', mode: 'append', value: 'Likes: compilers' } },
        ],
      },
      { text: 'Noted.' },
    );
    const response = await h.server.client.agents.messages.create(agent.id, {
      messages: [{ role: 'user', content: 'Remember that I like compilers' }],
    });
    expect(response.stop_reason.stop_reason).toBe('end_turn');
    const returns = toolReturns(response.messages);
    expect(returns.map((r) => r.status)).toEqual(['success', 'success']);
    expect(returns[0]!.tool_return).toContain('Name: Grace');
    const block = await h.server.client.agents.blocks.retrieve('human', { agent_id: agent.id });
    expect(block.value).toBe('Name: Grace\nLikes: compilers');
  });

  it('a tool that hangs, a server that exits mid-call and one that is down give error results, not a hung turn', async () => {
    const remote = await httpFixture('streamable-http');
    const http = await h.server.client.mcpServers.create({
      server_name: 'remote',
      config: { mcp_server_type: 'streamable_http', server_url: remote.url },
    });
    await remote.stop();
    const agent = await h.server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      tool_ids: await toolIds(http.id!, ['pid']),
    });
    h.llm.script({ toolCalls: [{ name: 'pid', arguments: {} }] }, { text: 'The server is down.' });
    const started = Date.now();
    const down = await h.server.client.agents.messages.create(agent.id, {
      messages: [{ role: 'user', content: 'pid?' }],
    });
    expect(down.stop_reason.stop_reason).toBe('end_turn');
    const [downReturn] = toolReturns(down.messages);
    expect(downReturn!.status).toBe('error');
    expect(downReturn!.tool_return).toMatch(/^Error executing function pid: McpConnectionError: /);

    // Deleting the server deletes its tools; the same fixture over stdio registers them again.
    await h.server.client.mcpServers.delete(http.id!);
    const again = await h.server.client.mcpServers.create({
      server_name: 'misbehaving',
      config: { mcp_server_type: 'stdio', command: process.execPath, args: [FIXTURE_SERVER, 'stdio', 'normal'] },
    });
    await h.server.client.agents.update(agent.id, { tool_ids: await toolIds(again.id!, ['wedge', 'exit', 'pid']) });
    h.llm.script(
      { toolCalls: [{ name: 'exit', arguments: {} }] },
      { toolCalls: [{ name: 'pid', arguments: {} }] },
      { toolCalls: [{ name: 'wedge', arguments: {} }] },
      { text: 'Done.' },
    );
    const bad = await h.server.client.agents.messages.create(agent.id, {
      messages: [{ role: 'user', content: 'break things' }],
    });
    expect(bad.stop_reason.stop_reason).toBe('end_turn');
    const [exit, pid, wedge] = toolReturns(bad.messages);
    expect(exit).toMatchObject({ status: 'error' });
    expect(exit!.tool_return).toMatch(/^Error executing function exit: McpConnectionError: /);
    // After the exit the server is started again on demand and answers.
    expect(pid).toMatchObject({ status: 'success' });
    expect(Number(pid!.tool_return)).toBeGreaterThan(0);
    expect(wedge).toMatchObject({ status: 'error' });
    expect(wedge!.tool_return).toBe(
      'Error executing function wedge: McpTimeoutError: Timed out while calling a tool for MCP server misbehaving (timeout=3s).',
    );
    expect(Date.now() - started).toBeLessThan(40_000);
  }, 60_000);
});

// Only PostgreSQL can be shared between processes.
describe.each(testDialects().filter((d) => d === 'postgres'))('MCP tools across Cairn processes [%s]', () => {
  let llm: FakeLlm;
  const instances: { cairn: Cairn; client: Letta }[] = [];
  const drops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    llm = await startFakeLlm();
    const database = await createTestDatabase('postgres');
    drops.push(database.drop);
    // Processes on several machines share no data dir: the secret key must be given to each.
    const key = randomBytes(32).toString('hex');
    for (let i = 0; i < 2; i++) {
      const own = await createTestDatabase('sqlite');
      drops.push(own.drop);
      const config = loadConfig(
        { port: 0, host: '127.0.0.1', dataDir: own.dataDir },
        llm.env({ ...MCP_ENV, LETTA_PG_URI: database.pgUri!, CAIRN_SECRET_KEY: key }),
      );
      const cairn = await createCairn(config, createLogger('silent'));
      await cairn.app.listen({ host: '127.0.0.1', port: 0 });
      const address = cairn.app.server.address();
      if (!address || typeof address === 'string') throw new Error('no TCP address');
      instances.push({ cairn, client: new Letta({ baseURL: `http://127.0.0.1:${address.port}`, maxRetries: 0 }) });
    }
  }, 60_000);
  afterAll(async () => {
    for (const { cairn } of instances) await cairn.close();
    for (const drop of drops.reverse()) await drop();
    await llm?.close();
  });

  it('a tool registered through one process runs in another, which starts its own stdio server', async () => {
    const [a, b] = instances;
    const server = await a!.client.mcpServers.create({
      server_name: 'shared-fixture',
      config: { mcp_server_type: 'stdio', command: process.execPath, args: [FIXTURE_SERVER, 'stdio', 'normal'] },
    });
    const pid = (await a!.client.mcpServers.tools.list(server.id!)).find((t) => t.name === 'pid')!;
    const inA = await a!.client.mcpServers.tools.run(pid.id!, { mcp_server_id: server.id! });
    const agent = await b!.client.agents.create({ model: 'openai/gpt-4o-mini', tool_ids: [pid.id!] });
    llm.script({ toolCalls: [{ name: 'pid', arguments: {} }] }, { text: 'ok' });
    const response = await b!.client.agents.messages.create(agent.id, {
      messages: [{ role: 'user', content: 'pid?' }],
    });
    const [inB] = toolReturns(response.messages);
    expect(inB).toMatchObject({ status: 'success' });
    expect(Number(inB!.tool_return)).toBeGreaterThan(0);
    expect(inB!.tool_return).not.toBe(String(inA.func_return));
  });
});
