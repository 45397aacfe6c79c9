import { Client as ClientV2, StreamableHTTPClientTransport as HttpTransportV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioTransportV2 } from '@modelcontextprotocol/client/stdio';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { expect } from 'vitest';
import { assertClaudeCompatible } from '../../src/mcp/tool.js';

export interface ToolReply {
  isError: boolean;
  // Tool results are JSON of arbitrary shape; tests assert on fields.
  json: any;
  text: string;
}

/**
 * What the tests use of an MCP client; both the v1 SDK's `Client` (2025-11-25) and the v2 `Client` of
 * `@modelcontextprotocol/client` (here on 2026-07-28) have it.
 */
export interface McpClient {
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<Record<string, unknown>>;
  listTools(): Promise<{
    tools: {
      name: string;
      description?: string | undefined;
      inputSchema: object;
      outputSchema?: object | undefined;
      annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean } | undefined;
    }[];
  }>;
  close(): Promise<void>;
}

export async function callTool(client: McpClient, name: string, args: Record<string, unknown>): Promise<ToolReply> {
  const result = await client.callTool({ name, arguments: args });
  const content = result.content as { type: string; text: string }[];
  expect(content).toHaveLength(1);
  expect(content[0]!.type).toBe('text');
  const text = content[0]!.text;
  expect(text.length).toBeLessThanOrEqual(8_000);
  expect(result.structuredContent).toBeUndefined();
  return { isError: result.isError === true, json: JSON.parse(text), text };
}

export async function ok(client: McpClient, name: string, args: Record<string, unknown>): Promise<any> {
  const reply = await callTool(client, name, args);
  if (reply.isError) throw new Error(`${name} failed: ${reply.text}`);
  expect(reply.json.success).toBe(true);
  return reply.json;
}

/** Every listed tool obeys the rules that keep Claude Code from silently dropping the server. */
export async function checkToolListing(client: McpClient): Promise<string[]> {
  const { tools } = await client.listTools();
  for (const tool of tools) {
    const schema = tool.inputSchema as Record<string, unknown>;
    expect(schema.type, tool.name).toBe('object');
    expect(schema.properties, tool.name).toBeTypeOf('object');
    expect(schema.$schema, tool.name).toBeUndefined();
    expect(tool.outputSchema, tool.name).toBeUndefined();
    expect(() => assertClaudeCompatible(tool.name, schema)).not.toThrow();
    // Independent of the helper above: no combinator anywhere in the serialized schema.
    expect(JSON.stringify(schema), tool.name).not.toMatch(/"(anyOf|oneOf|allOf|\$ref)"/);
    expect(tool.annotations, tool.name).toBeDefined();
    for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint'] as const)
      expect(typeof tool.annotations![hint], `${tool.name}.${hint}`).toBe('boolean');
    expect(tool.description?.length, tool.name).toBeGreaterThan(10);
  }
  return tools.map((t) => t.name).sort();
}

export type Connect = (agentId: string, profile?: string) => Promise<McpClient>;

export interface Target {
  baseURL: string;
  password: string;
  cli: string;
}

/** `cairn mcp` as Claude Code starts it: the built CLI, Letta's environment variables, nothing inherited. */
function stdioParameters({ baseURL, password, cli }: Target, agentId: string, profile: string) {
  return {
    command: process.execPath,
    args: [cli, 'mcp'],
    env: {
      PATH: process.env.PATH ?? '',
      LETTA_BASE_URL: baseURL,
      LETTA_API_KEY: password,
      LETTA_AGENT_ID: agentId,
      LETTA_MCP_TOOLS: profile,
      CAIRN_MCP_ASK_AGENT: 'true',
    },
    stderr: 'pipe' as const,
  };
}

/** /mcp as a Claude Code user configures it: the server password, the default agent in a header. */
function httpEndpoint({ baseURL, password }: Target, agentId: string, profile: string) {
  return {
    url: new URL(`${baseURL}/mcp?tools=${profile}`),
    options: { requestInit: { headers: { Authorization: `Bearer ${password}`, 'X-Letta-Agent-Id': agentId } } },
  };
}

/** The v2 client held to the 2026-07-28 revision: no `initialize`, a `_meta` envelope on every request. */
const MODERN = { versionNegotiation: { mode: { pin: '2026-07-28' as const } } };

/**
 * Both transports under both protocol revisions: 2025-11-25 with the v1 SDK client (`@modelcontextprotocol/sdk`,
 * what Claude Code speaks to stdio servers), and 2026-07-28 with the v2 client (`@modelcontextprotocol/client`,
 * what Claude Code speaks to HTTP servers). Each connect checks the revision it landed on.
 */
export function mcpTransports(target: () => Target): [string, Connect][] {
  const legacy = async (client: Client) => {
    expect(client.getServerVersion()?.name).toBe('cairn');
    return client;
  };
  const modern = async (client: ClientV2) => {
    expect(client.getProtocolEra()).toBe('modern');
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    return client;
  };
  return [
    [
      'http',
      async (agentId, profile = 'memory') => {
        const { url, options } = httpEndpoint(target(), agentId, profile);
        const client = new Client({ name: 'test', version: '1' });
        await client.connect(new StreamableHTTPClientTransport(url, options));
        return legacy(client);
      },
    ],
    [
      'stdio',
      async (agentId, profile = 'memory') => {
        const client = new Client({ name: 'test', version: '1' });
        await client.connect(new StdioClientTransport(stdioParameters(target(), agentId, profile)));
        return legacy(client);
      },
    ],
    [
      'http-modern',
      async (agentId, profile = 'memory') => {
        const { url, options } = httpEndpoint(target(), agentId, profile);
        const client = new ClientV2({ name: 'test', version: '2' }, MODERN);
        await client.connect(new HttpTransportV2(url, options));
        return modern(client);
      },
    ],
    [
      'stdio-modern',
      async (agentId, profile = 'memory') => {
        const client = new ClientV2({ name: 'test', version: '2' }, MODERN);
        await client.connect(new StdioTransportV2(stdioParameters(target(), agentId, profile)));
        return modern(client);
      },
    ],
  ];
}
