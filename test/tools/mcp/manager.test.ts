import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { McpHttpConfig, McpServerConfig, McpSettings } from '../../../src/tools/mcp/config.js';
import {
  McpConfigError,
  McpConnectionError,
  McpRemoteError,
  McpTimeoutError,
  mcpErrorStatus,
  mcpErrorToolResult,
  type McpClientError,
} from '../../../src/tools/mcp/errors.js';
import { lettaToolFromMcp } from '../../../src/tools/mcp/letta-tool.js';
import { McpClientManager } from '../../../src/tools/mcp/manager.js';
import {
  alive,
  deadUrl,
  EVERYTHING_SERVER,
  httpFixture,
  pidsWithMarker,
  silentServer,
  stdioFixture,
  waitFor,
  type HttpFixture,
} from '../../support/mcp-fixtures.js';

const settings = (timeouts: Partial<McpSettings['timeouts']> = {}): McpSettings => ({
  timeouts: { connectMs: 30_000, listToolsMs: 10_000, callToolMs: 10_000, ...timeouts },
  disableStdio: false,
});

const managers: McpClientManager[] = [];
function manager(options: ConstructorParameters<typeof McpClientManager>[0] = {}) {
  const created = new McpClientManager({ settings: settings(), ...options });
  managers.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
});

/** Runs `promise`, expecting an MCP client error, and returns it with the time it took. */
async function failure(promise: Promise<unknown>): Promise<{ error: McpClientError; ms: number }> {
  const start = Date.now();
  const error = await promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as McpClientError,
  );
  return { error, ms: Date.now() - start };
}

/** The server's process id, under its own generous limit so that a loaded machine does not trip a test's short one. */
const pidOf = async (m: McpClientManager, config: McpServerConfig) =>
  Number((await m.callTool(config, 'pid', {}, { timeoutMs: 10_000 })).funcReturn);

describe('stdio: @modelcontextprotocol/server-everything', () => {
  const everything: McpServerConfig = {
    type: 'stdio',
    serverName: 'everything',
    command: process.execPath,
    args: [EVERYTHING_SERVER, 'stdio'],
  };

  it('lists its tools and converts them to Letta tools', async () => {
    const tools = await manager().listTools(everything);
    const names = tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'get-sum', 'get-tiny-image']));
    const echo = tools.find((tool) => tool.name === 'echo')!;
    expect(echo.inputSchema).toMatchObject({ type: 'object', additionalProperties: false, required: ['message'] });
    expect(echo.health).toEqual({ status: 'STRICT_COMPLIANT', reasons: [] });
    expect(echo.annotations).toMatchObject({ readOnlyHint: true });

    const tool = lettaToolFromMcp({ id: 'mcp_server-00000000-0000-4000-8000-000000000000', name: 'everything' }, echo);
    expect(tool).toMatchObject({
      name: 'echo',
      tool_type: 'external_mcp',
      tags: ['mcp:everything'],
      metadata_: { mcp: { server_name: 'everything', server_id: 'mcp_server-00000000-0000-4000-8000-000000000000' } },
      source_type: 'python',
    });
    expect(tool.source_code).toMatch(/^def echo\(\*\*kwargs\):/);
    expect(tool.json_schema).toMatchObject({
      name: 'echo',
      parameters: {
        required: ['message', 'request_heartbeat'],
        properties: { request_heartbeat: { type: 'boolean' } },
      },
      'mcp:SCHEMA_STATUS': 'STRICT_COMPLIANT',
      'mcp:SCHEMA_WARNINGS': [],
    });
  });

  it('calls tools and renders their results as Letta does', async () => {
    const m = manager();
    expect(await m.callTool(everything, 'echo', { message: 'hi' })).toEqual({
      status: 'success',
      funcReturn: 'Echo: hi',
    });
    expect(await m.callTool(everything, 'get-sum', { a: 2, b: 40 })).toEqual({
      status: 'success',
      funcReturn: 'The sum of 2 and 40 is 42.',
    });
    const image = await m.callTool(everything, 'get-tiny-image', {});
    expect(image.status).toBe('success');
    // The image is described, its base64 payload is not pasted into the agent's context.
    expect(image.funcReturn).toMatch(/"type":"image".*base64 characters/);
    expect(image.funcReturn.length).toBeLessThan(2_000);
  });
});

describe('stdio: process lifecycle', () => {
  it('reuses one process for sequential and concurrent calls', async () => {
    const m = manager();
    const config = stdioFixture();
    const first = await pidOf(m, config);
    const concurrent = await Promise.all(Array.from({ length: 8 }, () => pidOf(m, config)));
    expect(new Set([first, ...concurrent])).toEqual(new Set([first]));
  });

  it('a process that exits mid-call fails that call at once, and the next call starts a new one', async () => {
    const m = manager();
    const config = stdioFixture();
    const before = await pidOf(m, config);
    const { error, ms } = await failure(m.callTool(config, 'exit', {}));
    expect(error).toBeInstanceOf(McpConnectionError);
    expect(error.message).toMatch(/closed the connection/);
    expect(ms).toBeLessThan(3_000);
    expect(mcpErrorToolResult('exit', error)).toEqual({
      status: 'error',
      funcReturn: expect.stringMatching(
        /^Error executing function exit: McpConnectionError: MCP server fixture-normal closed/,
      ),
    });
    expect(await waitFor(() => !alive(before), 2_000)).toBe(true);
    const after = await pidOf(m, config);
    expect(after).not.toBe(before);
  });

  it('a slow tool times out, and the connection survives when the server still answers', async () => {
    const m = manager({ settings: settings({ callToolMs: 300 }) });
    const config = stdioFixture();
    const before = await pidOf(m, config);
    const { error, ms } = await failure(m.callTool(config, 'sleep', { ms: 5_000 }));
    expect(error).toBeInstanceOf(McpTimeoutError);
    expect(error.message).toBe('Timed out while calling a tool for MCP server fixture-normal (timeout=0.3s).');
    expect(mcpErrorStatus(error)).toBe(408);
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(1_500);
    expect(await pidOf(m, config)).toBe(before);
  });

  it('a wedged server (no answer to anything) is replaced after its call times out', async () => {
    const m = manager({ settings: settings({ callToolMs: 300 }) });
    const config = stdioFixture();
    const before = await pidOf(m, config);
    const { error } = await failure(m.callTool(config, 'wedge', {}));
    expect(error).toBeInstanceOf(McpTimeoutError);
    // The follow-up ping (5 s) fails and the process is stopped; the next call starts another.
    expect(await waitFor(() => !alive(before), 15_000)).toBe(true);
    expect(await pidOf(m, config)).not.toBe(before);
  }, 30_000);

  it('a server that never answers initialize times out on connect and is stopped', async () => {
    const marker = `hang-${randomUUID()}`;
    const m = manager({ settings: settings({ connectMs: 500 }) });
    const { error, ms } = await failure(m.listTools(stdioFixture('hang-initialize', { marker })));
    expect(error).toBeInstanceOf(McpTimeoutError);
    expect(error.operation).toBe('connect');
    expect(ms).toBeLessThan(1_500);
    expect(await waitFor(() => pidsWithMarker(marker).length === 0, 6_000)).toBe(true);
  }, 10_000);

  it('a server that exits on start reports its stderr', async () => {
    const { error } = await failure(manager().listTools(stdioFixture('exit-on-start')));
    expect(error).toBeInstanceOf(McpConnectionError);
    expect(error.message).toMatch(/^Failed to connect to MCP command '.*node.*':/);
    expect(error.message).toMatch(/configuration file not found/);
    expect(mcpErrorStatus(error)).toBe(502);
  });

  it('a command that does not exist fails fast', async () => {
    const config: McpServerConfig = {
      type: 'stdio',
      serverName: 'ghost',
      command: '/nonexistent/mcp-server',
      args: [],
    };
    const { error, ms } = await failure(manager().listTools(config));
    expect(error).toBeInstanceOf(McpConnectionError);
    expect(error.message).toMatch(/ENOENT/);
    expect(ms).toBeLessThan(2_000);
  });

  it('stops idle processes, and all of them on close', async () => {
    const m = manager({ idleTimeoutMs: 200 });
    const config = stdioFixture();
    const idle = await pidOf(m, config);
    expect(await waitFor(() => !alive(idle), 4_000)).toBe(true);
    const next = await pidOf(m, config);
    expect(next).not.toBe(idle);

    const other = manager({ idleTimeoutMs: 0 });
    const kept = await pidOf(other, config);
    await other.close();
    expect(await waitFor(() => !alive(kept), 4_000)).toBe(true);
    const { error } = await failure(other.callTool(config, 'pid', {}));
    expect(error).toBeInstanceOf(McpConnectionError);
  });

  it('a released configuration gets a new process', async () => {
    const m = manager();
    const config = stdioFixture();
    const before = await pidOf(m, config);
    await m.release(config);
    expect(alive(before)).toBe(false);
    expect(await pidOf(m, config)).not.toBe(before);
  });

  it('passes the configured environment and splits arguments as Letta does', async () => {
    const m = manager();
    const config = { ...stdioFixture('normal', { env: { FIXTURE_EXTRA_TOOLS: 'alpha,beta' } }) };
    // "stdio normal" as one argument is split on whitespace, as Letta does before spawning.
    config.args = [config.args[0]!, 'stdio normal'];
    const names = (await m.listTools(config)).map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['alpha', 'beta', 'echo']));
  });

  it('tool-level failures are results; unknown tools are remote errors', async () => {
    const m = manager();
    const config = stdioFixture();
    expect(await m.callTool(config, 'fail', {})).toEqual({ status: 'error', funcReturn: 'the tool failed on purpose' });
    const { error } = await failure(m.callTool(config, 'no-such-tool', {}));
    expect(error).toBeInstanceOf(McpRemoteError);
    expect(error.message).toMatch(/unknown tool no-such-tool/);
  });

  it('refuses stdio when it is disabled, before starting anything', async () => {
    const m = manager({ settings: { ...settings(), disableStdio: true } });
    const { error } = await failure(m.listTools(stdioFixture()));
    expect(error).toBeInstanceOf(McpConfigError);
    expect(error.message).toBe('MCP stdio servers are disabled. Set MCP_DISABLE_STDIO=false to enable them.');
    expect(mcpErrorStatus(error)).toBe(400);
  });

  it('inlines $ref properties when converting', async () => {
    const tools = await manager().listTools(stdioFixture());
    const nested = tools.find((tool) => tool.name === 'nested')!;
    const tool = lettaToolFromMcp({ id: 'mcp_server-x', name: 'fixture' }, nested);
    expect((tool.json_schema.parameters as { properties: Record<string, unknown> }).properties.point).toEqual({
      type: 'object',
      properties: { x: { type: 'number' } },
      required: ['x'],
      additionalProperties: false,
    });
    expect(await manager().callTool(stdioFixture(), 'nested', { point: { x: 3 } })).toEqual({
      status: 'success',
      funcReturn: '{"x":3}',
    });
  });
});

describe.each(['streamable-http', 'sse'] as const)('%s transport', (transport) => {
  let fixture: HttpFixture;
  beforeAll(async () => {
    fixture = await httpFixture(transport);
  });
  afterAll(() => fixture.stop());

  const config = (): McpHttpConfig => ({
    type: transport === 'sse' ? 'sse' : 'streamable_http',
    serverName: `fixture-${transport}`,
    serverUrl: fixture.url,
    authHeader: 'Authorization',
    authToken: 'Bearer s3cret',
    customHeaders: { 'X-Custom': 'yes' },
  });

  it('lists and calls tools, sending the auth, custom and agent headers', async () => {
    const m = manager();
    expect((await m.listTools(config())).map((tool) => tool.name)).toContain('echo');
    expect(await m.callTool(config(), 'echo', { message: 'over http' })).toEqual({
      status: 'success',
      funcReturn: 'Echo: over http',
    });
    const seen = JSON.parse((await m.callTool(config(), 'headers', {}, { agentId: 'agent-1' })).funcReturn) as Record<
      string,
      string
    >;
    expect(seen).toMatchObject({ authorization: 'Bearer s3cret', 'x-custom': 'yes', 'x-agent-id': 'agent-1' });
  });

  it('a slow tool times out without hanging', async () => {
    const m = manager({ settings: settings({ callToolMs: 300 }) });
    const { error, ms } = await failure(m.callTool(config(), 'sleep', { ms: 3_000 }));
    expect(error).toBeInstanceOf(McpTimeoutError);
    expect(ms).toBeLessThan(1_500);
  });

  if (transport === 'streamable-http')
    it('a session the server dropped is replaced transparently', async () => {
      const m = manager();
      expect((await m.callTool(config(), 'forget-sessions', {})).funcReturn).toBe('forgotten');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await m.callTool(config(), 'echo', { message: 'again' })).toEqual({
        status: 'success',
        funcReturn: 'Echo: again',
      });
    });
});

describe('HTTP servers that are down or hung', () => {
  it('a stopped server: the pooled call fails, the next connect is refused', async () => {
    const fixture = await httpFixture('streamable-http');
    const m = manager();
    const config: McpHttpConfig = { type: 'streamable_http', serverName: 'stopped', serverUrl: fixture.url };
    expect((await m.callTool(config, 'echo', { message: 'up' })).status).toBe('success');
    await fixture.stop();
    const first = await failure(m.callTool(config, 'echo', { message: 'down' }));
    expect(first.error).toBeInstanceOf(McpConnectionError);
    const second = await failure(m.callTool(config, 'echo', { message: 'down' }));
    expect(second.error).toBeInstanceOf(McpConnectionError);
    expect(second.error.message).toMatch(/ECONNREFUSED/);
  });

  it('nothing listening: connection refused, fast', async () => {
    const config: McpHttpConfig = { type: 'streamable_http', serverName: 'nobody', serverUrl: await deadUrl() };
    const { error, ms } = await failure(manager().listTools(config));
    expect(error).toBeInstanceOf(McpConnectionError);
    expect(error.message).toMatch(
      /^Failed to connect to MCP server URL 'http:\/\/127\.0\.0\.1:\d+\/mcp': .*ECONNREFUSED/,
    );
    expect(ms).toBeLessThan(2_000);
  });

  it.each(['streamable_http', 'sse'] as const)('a %s server that never answers times out on connect', async (type) => {
    const silent = await silentServer();
    try {
      const m = manager({ settings: settings({ connectMs: 400 }) });
      const { error, ms } = await failure(m.listTools({ type, serverName: 'silent', serverUrl: silent.url }));
      expect(error).toBeInstanceOf(McpTimeoutError);
      expect(error.message).toBe('Timed out while connecting for MCP server silent (timeout=0.4s).');
      expect(ms).toBeLessThan(1_500);
    } finally {
      await silent.close();
    }
  });

  it('private addresses can be refused, as Letta refuses them', async () => {
    const m = manager({ allowPrivateNetworks: false });
    const { error } = await failure(
      m.listTools({ type: 'streamable_http', serverName: 'local', serverUrl: 'http://127.0.0.1:1/mcp' }),
    );
    expect(error).toBeInstanceOf(McpConfigError);
    expect(error.message).toBe('Non-public IP not allowed: 127.0.0.1');
  });
});
