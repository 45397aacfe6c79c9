import { NotFoundError } from '@letta-ai/letta-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSealed } from '../../src/lib/secrets.js';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { http } from '../support/http.js';
import { deadUrl, EVERYTHING_SERVER, FIXTURE_SERVER, httpFixture, type HttpFixture } from '../support/mcp-fixtures.js';
import { expectLettaSchema } from '../support/openapi.js';

const MISSING_SERVER = 'mcp_server-00000000-0000-4000-8000-000000000000';
const MISSING_TOOL = 'tool-00000000-0000-4000-8000-000000000000';
/** Stdio is off by default, as in Letta; these servers turn it on. Limits stay well under the test timeout. */
const STDIO_ON = {
  MCP_DISABLE_STDIO: 'false',
  MCP_CONNECT_TO_SERVER_TIMEOUT: '20',
  MCP_LIST_TOOLS_TIMEOUT: '20',
  MCP_EXECUTE_TOOL_TIMEOUT: '20',
};

const everything = {
  mcp_server_type: 'stdio' as const,
  command: process.execPath,
  args: [EVERYTHING_SERVER, 'stdio'],
  env: { EVERYTHING_SECRET: 'sk-everything-123' },
};

/** The stdio fixture with extra tools named by `FIXTURE_EXTRA_TOOLS`, which lets a test change the server's tool list. */
const fixture = (extra: string) => ({
  command: process.execPath,
  args: [FIXTURE_SERVER, 'stdio', 'normal'],
  env: { FIXTURE_EXTRA_TOOLS: extra },
});

async function events(response: Response): Promise<Record<string, unknown>[]> {
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => JSON.parse(frame.slice('data: '.length)) as Record<string, unknown>);
}

describe.each(testDialects())('MCP servers, id-keyed API [%s]', (dialect) => {
  let server: TestCairn;
  let serverId: string;

  beforeAll(async () => {
    server = await startCairn(dialect, {}, STDIO_ON);
  }, 60_000);
  afterAll(() => server?.close());

  it('lists no servers on a fresh database, in both APIs', async () => {
    expect(await server.client.mcpServers.list()).toEqual([]);
    expect((await http('GET', `${server.baseURL}/v1/mcp-servers`)).body).toEqual([]);
    expect((await http('GET', `${server.baseURL}/v1/tools/mcp/servers/`)).body).toEqual({});
    const paths = Object.keys((await http('GET', `${server.baseURL}/openapi.json`)).body.paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/v1/mcp-servers/',
        '/v1/mcp-servers/{mcp_server_id}/tools/{tool_id}/run',
        '/v1/tools/mcp/servers/{mcp_server_name}/{mcp_tool_name}',
      ]),
    );
  });

  it('adds a stdio server from npm and registers its tools, secrets sealed at rest and masked on the wire', async () => {
    const created = await server.client.mcpServers.create({ server_name: 'everything', config: everything });
    expectLettaSchema('StdioMCPServer', created);
    expect(created).toMatchObject({
      server_name: 'everything',
      mcp_server_type: 'stdio',
      command: process.execPath,
      args: everything.args,
      env: { EVERYTHING_SECRET: '****' },
    });
    expect(created.id).toMatch(/^mcp_server-[0-9a-f-]{36}$/);
    serverId = created.id!;

    const row = await server.cairn.stores.mcpServers.findById(serverId);
    expect(isSealed(row!.secrets)).toBe(true);
    expect(JSON.stringify(row)).not.toContain('sk-everything-123');

    const listed = await server.client.mcpServers.list();
    expect(listed.map((s) => s.id)).toEqual([serverId]);
    expect(await server.client.mcpServers.retrieve(serverId)).toEqual(created);

    const tools = await server.client.mcpServers.tools.list(serverId);
    const echo = tools.find((tool) => tool.name === 'echo');
    expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['echo', 'get-sum']));
    for (const tool of tools) expectLettaSchema('Tool', tool);
    expect(echo).toMatchObject({
      tool_type: 'external_mcp',
      tags: ['mcp:everything'],
      metadata_: { mcp: { server_name: 'everything', server_id: serverId } },
    });
    expect(await server.client.mcpServers.tools.retrieve(echo!.id!, { mcp_server_id: serverId })).toEqual(echo);
  });

  it('runs a registered tool and reports the server’s own failure as an error result', async () => {
    const tools = await server.client.mcpServers.tools.list(serverId);
    const byName = (name: string) => tools.find((tool) => tool.name === name)!.id!;
    const echo = await server.client.mcpServers.tools.run(byName('echo'), {
      mcp_server_id: serverId,
      args: { message: 'hi' },
    });
    expectLettaSchema('ToolExecutionResult', echo);
    expect(echo).toMatchObject({ status: 'success', func_return: 'Echo: hi' });
    const sum = await server.client.mcpServers.tools.run(byName('get-sum'), {
      mcp_server_id: serverId,
      args: { a: 2, b: 40 },
    });
    expect(sum.status).toBe('success');
    expect(String(sum.func_return)).toContain('42');
    // Arguments the server's schema rejects come back from the tool as its own error.
    const bad = await server.client.mcpServers.tools.run(byName('get-sum'), {
      mcp_server_id: serverId,
      args: { a: 'two' },
    });
    expect(bad.status).toBe('error');
  });

  it('answers unknown ids with 404 and a bad body with 422', async () => {
    await expect(server.client.mcpServers.retrieve(MISSING_SERVER)).rejects.toBeInstanceOf(NotFoundError);
    await expect(server.client.mcpServers.tools.list(MISSING_SERVER)).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      server.client.mcpServers.tools.retrieve(MISSING_TOOL, { mcp_server_id: serverId }),
    ).rejects.toBeInstanceOf(NotFoundError);
    const run = await http('POST', `${server.baseURL}/v1/mcp-servers/${serverId}/tools/${MISSING_TOOL}/run`, {});
    expect(run.status).toBe(404);
    const deleteMissing = await http('DELETE', `${server.baseURL}/v1/mcp-servers/${MISSING_SERVER}`);
    expect(deleteMissing.status).toBe(404);
    const noConfig = await http('POST', `${server.baseURL}/v1/mcp-servers/`, { server_name: 'x' });
    expect(noConfig.status).toBe(422);
    const badUrl = await http('POST', `${server.baseURL}/v1/mcp-servers/`, {
      server_name: 'x',
      config: { mcp_server_type: 'sse', server_url: 'ftp://example.com' },
    });
    expect(badUrl.status).toBe(422);
  });

  it('refuses a second server of the same name with 409', async () => {
    const duplicate = await http('POST', `${server.baseURL}/v1/mcp-servers/`, {
      server_name: 'everything',
      config: everything,
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.detail).toContain('everything');
  });

  it('refresh adds new tools and removes vanished ones, detaching them from agents', async () => {
    const source = await server.client.mcpServers.create({
      server_name: 'changing',
      config: { mcp_server_type: 'stdio', ...fixture('alpha_tool,beta_tool') },
    });
    const id = source.id!;
    const names = async () => (await server.client.mcpServers.tools.list(id)).map((tool) => tool.name);
    expect(await names()).toEqual(expect.arrayContaining(['alpha_tool', 'beta_tool', 'pid']));
    const alpha = (await server.client.mcpServers.tools.list(id)).find((tool) => tool.name === 'alpha_tool')!;
    const agent = await server.client.agents.create({ name: 'mcp-refresh', tool_ids: [alpha.id!] });

    const updated = await server.client.mcpServers.update(id, {
      config: { mcp_server_type: 'stdio', ...fixture('beta_tool,gamma_tool') },
    });
    expect(updated).toMatchObject({ env: { FIXTURE_EXTRA_TOOLS: '****' } });
    const result = await server.client.mcpServers.refresh(id);
    expect(result).toEqual({ deleted: ['alpha_tool'], updated: [], added: ['gamma_tool'] });
    expect(await names()).toEqual(expect.arrayContaining(['beta_tool', 'gamma_tool']));
    expect(await names()).not.toContain('alpha_tool');
    const attached = (await server.cairn.stores.tools.listForAgents([agent.id])).get(agent.id) ?? [];
    expect(attached.map((tool) => tool.name)).not.toContain('alpha_tool');
    // Nothing changed since: a second refresh is a no-op.
    expect(await server.client.mcpServers.refresh(id, { agent_id: agent.id })).toEqual({
      deleted: [],
      updated: [],
      added: [],
    });
  });

  it('renames a server and its tools’ tags follow; connect streams the tools', async () => {
    const renamed = await server.client.mcpServers.update(serverId, {
      server_name: 'everything-renamed',
      config: { mcp_server_type: 'stdio', command: null, args: null },
    });
    expect(renamed).toMatchObject({ server_name: 'everything-renamed', env: { EVERYTHING_SECRET: '****' } });
    // `echo` moved to the fixture server that registered the same name later; `get-sum` is this server's alone.
    const sum = (await server.client.mcpServers.tools.list(serverId)).find((tool) => tool.name === 'get-sum')!;
    expect(sum.tags).toEqual(['mcp:everything-renamed']);
    expect(sum.metadata_).toEqual({ mcp: { server_name: 'everything-renamed', server_id: serverId } });

    const connect = await fetch(`${server.baseURL}/v1/mcp-servers/connect/${serverId}`);
    expect(connect.status).toBe(200);
    expect(connect.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const [attempt, success] = await events(connect);
    expect(attempt).toEqual({ event: 'connection_attempt', server_name: 'everything-renamed' });
    expect(success!.event).toBe('success');
    expect((success!.tools as { name: string }[]).map((tool) => tool.name)).toContain('echo');
  });

  it("serves Letta Code's /mcp flow: list servers, list tools live, register by name, attach, refresh", async () => {
    // As Letta Code calls them (src/backend/api/mcp-servers.ts): the SDK's list and refresh, raw GET/POST for the
    // legacy routes, names URI-encoded.
    const client = server.client;
    const servers = await client.mcpServers.list();
    const entry = servers.find((s) => s.id === serverId)!;
    const live = await client.get<{ name: string; health: { status: string } | null }[]>(
      `/v1/tools/mcp/servers/${encodeURIComponent(entry.server_name)}/tools`,
    );
    expect(live.map((tool) => tool.name)).toContain('get-sum');
    const registered = await client.post<{ id: string }>(
      `/v1/tools/mcp/servers/${encodeURIComponent(entry.server_name)}/${encodeURIComponent('get-sum')}`,
    );
    // Registration is an upsert: the row created when the server was added.
    const again = await client.post<{ id: string }>(
      `/v1/tools/mcp/servers/${encodeURIComponent(entry.server_name)}/get-sum`,
    );
    expect(again.id).toBe(registered.id);
    const agent = await client.agents.create({ name: 'letta-code-mcp', tool_ids: [registered.id] });
    // `echo` went to the fixture server that registered the same name later; refresh takes it back.
    expect(await client.mcpServers.refresh(serverId, { agent_id: agent.id })).toEqual({
      deleted: [],
      updated: [],
      added: ['echo'],
    });
  });

  it("serves Letta Code 0.32's per-agent MCP routes (`letta mcp`), 404 for an unknown agent", async () => {
    const base = `${server.baseURL}/v1/agents`;
    const agent = await server.client.agents.create({ name: 'letta-mcp-cli' });
    const servers = await http('GET', `${base}/${agent.id}/mcp-servers`);
    expect(servers.status).toBe(200);
    expect(servers.body).toEqual(await server.client.mcpServers.list());

    const tools = await http('GET', `${base}/${agent.id}/mcp-servers/${serverId}/tools`);
    expect(tools.body).toEqual(await server.client.mcpServers.tools.list(serverId));
    const echo = (tools.body as { id: string; name: string }[]).find((tool) => tool.name === 'echo')!;

    const found = await http('POST', `${base}/${agent.id}/mcp-servers/tools/search`, { query: 'echo', limit: 3 });
    expect(found.status).toBe(200);
    expect(found.body[0]).toMatchObject({ tool: { id: echo.id, tool_type: 'external_mcp' } });
    expect(typeof found.body[0].combined_score).toBe('number');
    // Only MCP tools: the base tools (send_message, memory_*) are never among the hits.
    const everythingHits = await http('POST', `${base}/${agent.id}/mcp-servers/tools/search`, { query: 'memory' });
    for (const hit of everythingHits.body) expect(hit.tool.tool_type).toBe('external_mcp');

    const run = await http('POST', `${base}/${agent.id}/mcp-servers/${serverId}/tools/${echo.id}/run`, {
      args: { message: 'per agent' },
    });
    expect(run.status).toBe(200);
    expectLettaSchema('ToolExecutionResult', run.body);
    expect(run.body).toMatchObject({ status: 'success', func_return: 'Echo: per agent' });

    const missingAgent = 'agent-00000000-0000-4000-8000-000000000000';
    for (const [method, path, body] of [
      ['GET', `${base}/${missingAgent}/mcp-servers`],
      ['GET', `${base}/${missingAgent}/mcp-servers/${serverId}/tools`],
      ['POST', `${base}/${missingAgent}/mcp-servers/tools/search`, { query: 'echo' }],
      ['POST', `${base}/${missingAgent}/mcp-servers/${serverId}/tools/${echo.id}/run`, { args: {} }],
    ] as const) {
      const response = await http(method, path, body);
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.body.detail).toContain(missingAgent);
    }
    expect((await http('GET', `${base}/${agent.id}/mcp-servers/${MISSING_SERVER}/tools`)).status).toBe(404);
    const badLimit = await http('POST', `${base}/${agent.id}/mcp-servers/tools/search`, { query: 'x', limit: 0 });
    expect(badLimit.status).toBe(422);
  });

  it('deletes a server with its tools (204)', async () => {
    const tools = await server.client.mcpServers.tools.list(serverId);
    const response = await http('DELETE', `${server.baseURL}/v1/mcp-servers/${serverId}`, undefined, {
      accept: '*/*',
    });
    expect(response.status).toBe(204);
    await expect(server.client.mcpServers.retrieve(serverId)).rejects.toBeInstanceOf(NotFoundError);
    expect(await server.cairn.stores.tools.findManyByIds(tools.map((tool) => tool.id!))).toEqual([]);
  });
});

describe('MCP servers that cannot be reached [sqlite]', () => {
  let server: TestCairn;
  let fixtureHttp: HttpFixture;

  beforeAll(async () => {
    server = await startCairn('sqlite', {}, { MCP_CONNECT_TO_SERVER_TIMEOUT: '3', MCP_LIST_TOOLS_TIMEOUT: '3' });
    fixtureHttp = await httpFixture('streamable-http');
  }, 60_000);
  afterAll(async () => {
    await fixtureHttp?.stop();
    await server?.close();
  });

  it('refuses stdio servers unless MCP_DISABLE_STDIO=false, with Letta’s texts', async () => {
    const created = await http('POST', `${server.baseURL}/v1/mcp-servers/`, {
      server_name: 'local',
      config: everything,
    });
    expect(created.status).toBe(400);
    expect(created.body.detail).toBe('MCP stdio servers are disabled. Set MCP_DISABLE_STDIO=false to enable them.');
    const legacy = await http('PUT', `${server.baseURL}/v1/tools/mcp/servers`, {
      server_name: 'local',
      command: process.execPath,
      args: [EVERYTHING_SERVER],
    });
    expect(legacy.status).toBe(400);
    expect(legacy.body.detail).toMatch(/^stdio is not supported in the current environment/);
  });

  it('adds an unreachable server without tools; refresh and run answer 502 in Letta’s shape', async () => {
    const created = await server.client.mcpServers.create({
      server_name: 'down',
      config: {
        mcp_server_type: 'streamable_http',
        server_url: await deadUrl(),
        auth_header: 'Authorization',
        auth_token: 'secret-token-1',
      },
    });
    expectLettaSchema('StreamableHTTPMCPServer', created);
    expect(created).toMatchObject({ auth_header: 'Authorization', auth_token: 'Bearer ****' });
    expect(await server.client.mcpServers.tools.list(created.id!)).toEqual([]);

    const refresh = await http('PATCH', `${server.baseURL}/v1/mcp-servers/${created.id}/refresh`);
    expect(refresh.status).toBe(502);
    expect(refresh.body.error).toMatchObject({
      type: 'mcp_connection_error',
      message: 'Failed to connect to MCP server.',
    });
    expect(refresh.body.detail).toMatch(/ECONNREFUSED|fetch failed/);
    expect(JSON.stringify(refresh.body)).not.toContain('secret-token-1');

    const connect = await fetch(`${server.baseURL}/v1/mcp-servers/connect/${created.id}`);
    const [, failure] = await events(connect);
    expect(failure).toMatchObject({ event: 'error' });
    expect(String(failure!.message)).toMatch(/^Connection failed: /);
  });

  it('registers and runs the tools of an SSE server', async () => {
    const sse = await httpFixture('sse');
    try {
      const created = await server.client.mcpServers.create({
        server_name: 'fixture-sse',
        config: { mcp_server_type: 'sse', server_url: sse.url, custom_headers: { 'X-Team': 'blue' } },
      });
      expectLettaSchema('SSEMCPServer', created);
      expect(created).toMatchObject({ mcp_server_type: 'sse', custom_headers: { 'X-Team': '****' } });
      const tools = await server.client.mcpServers.tools.list(created.id!);
      const headers = tools.find((tool) => tool.name === 'headers')!;
      const result = await server.client.mcpServers.tools.run(headers.id!, { mcp_server_id: created.id! });
      expect(result.status).toBe('success');
      // The stored (sealed) header reaches the server in clear.
      expect(String(result.func_return)).toContain('"x-team":"blue"');
      await server.client.mcpServers.delete(created.id!);
    } finally {
      await sse.stop();
    }
  });

  it('a server that stops answering after it was added: 502 on run', async () => {
    const created = await server.client.mcpServers.create({
      server_name: 'fixture-http',
      config: { mcp_server_type: 'streamable_http', server_url: fixtureHttp.url },
    });
    const tools = await server.client.mcpServers.tools.list(created.id!);
    expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['echo', 'wedge']));
    const echo = tools.find((tool) => tool.name === 'echo')!;
    expect(
      await server.client.mcpServers.tools.run(echo.id!, { mcp_server_id: created.id!, args: { message: 'up' } }),
    ).toMatchObject({ status: 'success', func_return: 'Echo: up' });
    await fixtureHttp.stop();
    const run = await http('POST', `${server.baseURL}/v1/mcp-servers/${created.id}/tools/${echo.id}/run`, {
      args: { message: 'down' },
    });
    expect(run.status).toBe(502);
    expect(run.body.error.type).toBe('mcp_connection_error');
  });
});

describe.each(testDialects())('MCP servers, legacy name-keyed API [%s]', (dialect) => {
  let server: TestCairn;
  const v1 = (path: string) => `${server.baseURL}/v1${path}`;

  beforeAll(async () => {
    server = await startCairn(dialect, {}, STDIO_ON);
  }, 60_000);
  afterAll(() => server?.close());

  it('adds, lists, tests, registers, executes, updates, resyncs and deletes by name', async () => {
    // letta-mcp-server sends the config untagged: `command` without `type` is stdio.
    const added = await http('PUT', v1('/tools/mcp/servers'), {
      server_name: 'fixture',
      ...fixture('one_tool'),
    });
    expect(added.status).toBe(200);
    expect(added.body).toEqual([
      {
        server_name: 'fixture',
        type: 'stdio',
        command: process.execPath,
        args: [FIXTURE_SERVER, 'stdio', 'normal'],
        env: { FIXTURE_EXTRA_TOOLS: '****' },
      },
    ]);
    expectLettaSchema('StdioServerConfig', added.body[0]);

    const listed = await http('GET', v1('/tools/mcp/servers'));
    expect(Object.keys(listed.body)).toEqual(['fixture']);
    expect((await http('GET', v1('/tools/mcp/servers/'))).status).toBe(200);

    const live = await http('GET', v1('/tools/mcp/servers/fixture/tools'));
    expect(live.status).toBe(200);
    for (const tool of live.body) expectLettaSchema('MCPTool', tool);
    expect(live.body.map((tool: { name: string }) => tool.name)).toEqual(
      expect.arrayContaining(['echo', 'one_tool', 'nested']),
    );

    // Adding syncs the tools already; registering one by name returns the same row.
    const id = (await server.cairn.stores.tools.findManyByNames(['echo']))[0]!.id;
    const registered = await http('POST', v1('/tools/mcp/servers/fixture/echo'));
    expect(registered.status).toBe(200);
    expectLettaSchema('Tool', registered.body);
    expect(registered.body).toMatchObject({ id, name: 'echo', tool_type: 'external_mcp', tags: ['mcp:fixture'] });
    const unknown = await http('POST', v1('/tools/mcp/servers/fixture/nope'));
    expect(unknown.status).toBe(400);
    expect(unknown.body.detail).toMatch(/^Tool nope not found in MCP server fixture - available tools: .*echo/);
    const executed = await http('POST', v1('/tools/mcp/servers/fixture/tools/echo/execute'), {
      args: { message: 'legacy' },
    });
    expect(executed.body).toEqual({ result: 'Echo: legacy', success: true });
    const failed = await http('POST', v1('/tools/mcp/servers/fixture/tools/fail/execute'), { args: {} });
    expect(failed.body).toEqual({ result: 'the tool failed on purpose', success: false });

    const tested = await http('POST', v1('/tools/mcp/servers/test'), { server_name: 'probe', ...fixture('') });
    expect(tested.status).toBe(200);
    expect(tested.body.status).toBe('success');
    expect(tested.body.tools.map((tool: { name: string }) => tool.name)).toContain('pid');
    expect(Object.keys((await http('GET', v1('/tools/mcp/servers'))).body)).toEqual(['fixture']);

    const connect = await fetch(v1('/tools/mcp/servers/connect'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ server_name: 'probe', ...fixture('') }),
    });
    const [attempt, success] = await events(connect);
    expect(attempt).toEqual({ event: 'connection_attempt', server_name: 'probe' });
    expect(success!.event).toBe('success');

    const updated = await http('PATCH', v1('/tools/mcp/servers/fixture'), {
      stdio_config: { server_name: 'fixture', ...fixture('two_tool') },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ server_name: 'fixture', type: 'stdio', env: { FIXTURE_EXTRA_TOOLS: '****' } });
    const resync = await http('POST', v1('/tools/mcp/servers/fixture/resync'));
    expect(resync.body).toEqual({ deleted: ['one_tool'], updated: [], added: ['two_tool'] });

    // A base tool's name is never taken over by an MCP tool (the clash server's other tools move to it, and go with it).
    const clash = await http('PUT', v1('/tools/mcp/servers'), { server_name: 'clash', ...fixture('send_message') });
    expect(clash.status).toBe(200);
    expect((await server.cairn.stores.tools.findManyByNames(['send_message']))[0]!.tool_type).not.toBe('external_mcp');
    expect((await http('POST', v1('/tools/mcp/servers/clash/send_message'))).status).toBe(409);
    expect((await http('DELETE', v1('/tools/mcp/servers/clash'))).status).toBe(200);

    const missing = await http('GET', v1('/tools/mcp/servers/ghost/tools'));
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toEqual({
      code: 'MCPServerNotFoundError',
      message: 'MCP server ghost not found',
      mcp_server_name: 'ghost',
    });

    const deleted = await http('DELETE', v1('/tools/mcp/servers/fixture'));
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual([]);
    expect(await server.cairn.stores.tools.findManyByNames(['echo', 'two_tool'])).toEqual([]);
  });
});
