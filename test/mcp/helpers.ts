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

export async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<ToolReply> {
  const result = await client.callTool({ name, arguments: args });
  const content = result.content as { type: string; text: string }[];
  expect(content).toHaveLength(1);
  expect(content[0]!.type).toBe('text');
  const text = content[0]!.text;
  expect(text.length).toBeLessThanOrEqual(8_000);
  expect(result.structuredContent).toBeUndefined();
  return { isError: result.isError === true, json: JSON.parse(text), text };
}

export async function ok(client: Client, name: string, args: Record<string, unknown>): Promise<any> {
  const reply = await callTool(client, name, args);
  if (reply.isError) throw new Error(`${name} failed: ${reply.text}`);
  expect(reply.json.success).toBe(true);
  return reply.json;
}

/** Every listed tool obeys the rules that keep Claude Code from silently dropping the server. */
export async function checkToolListing(client: Client): Promise<string[]> {
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

export type Connect = (agentId: string, profile?: string) => Promise<Client>;

/**
 * Both transports, as a Claude Code user configures them: HTTP at /mcp with the server password and the default
 * agent in a header, and `cairn mcp` (the built CLI) over stdio with Letta's environment variables.
 */
export function mcpTransports(target: () => { baseURL: string; password: string; cli: string }): [string, Connect][] {
  return [
    [
      'http',
      async (agentId, profile = 'memory') => {
        const { baseURL, password } = target();
        const client = new Client({ name: 'test', version: '1' });
        const url = new URL(`${baseURL}/mcp?tools=${profile}`);
        await client.connect(
          new StreamableHTTPClientTransport(url, {
            requestInit: { headers: { Authorization: `Bearer ${password}`, 'X-Letta-Agent-Id': agentId } },
          }),
        );
        return client;
      },
    ],
    [
      'stdio',
      async (agentId, profile = 'memory') => {
        const { baseURL, password, cli } = target();
        const client = new Client({ name: 'test', version: '1' });
        await client.connect(
          new StdioClientTransport({
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
            stderr: 'pipe',
          }),
        );
        return client;
      },
    ],
  ];
}
