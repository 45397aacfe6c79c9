import Letta from '@letta-ai/letta-client';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describeError } from '../client/connection.js';
import { CAIRN_VERSION } from '../version.js';
import { lettaTools } from './tools/letta.js';
import { memoryTools } from './tools/memory.js';
import { renderResult, ToolError } from './output.js';
import { assertClaudeCompatible, inputSchemaOf, type ToolContext, type ToolDef } from './tool.js';

export type ToolProfile = 'memory' | 'letta' | 'all';
export const TOOL_PROFILES: ToolProfile[] = ['memory', 'letta', 'all'];

export function parseProfile(value: string | undefined | null): ToolProfile {
  if (!value) return 'memory';
  if ((TOOL_PROFILES as string[]).includes(value)) return value as ToolProfile;
  throw new Error(`unknown tool profile '${value}' (expected ${TOOL_PROFILES.join(', ')})`);
}

const truthy = (v: string | undefined) => v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());

/** `ask_agent` runs the agent's LLM, so it is offered only when `CAIRN_MCP_ASK_AGENT` says so. */
export function askAgentEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return truthy(env.CAIRN_MCP_ASK_AGENT);
}

export function toolsFor(profile: ToolProfile, options: { askAgent: boolean }): ToolDef[] {
  if (profile === 'memory') return memoryTools(options);
  if (profile === 'letta') return lettaTools();
  return [...memoryTools(options), ...lettaTools()];
}

interface Listed {
  def: ToolDef;
  schema: Record<string, unknown>;
}

/** Computed once per profile: the JSON schemas never change at runtime, and checking them once is enough. */
const listings = new Map<string, Listed[]>();

function listing(profile: ToolProfile, askAgent: boolean): Listed[] {
  const key = `${profile}:${askAgent}`;
  let tools = listings.get(key);
  if (!tools) {
    tools = toolsFor(profile, { askAgent }).map((def) => {
      const schema = inputSchemaOf(def.input);
      assertClaudeCompatible(def.name, schema);
      return { def, schema };
    });
    listings.set(key, tools);
  }
  return tools;
}

export interface McpServerOptions {
  client: Letta;
  defaultAgentId: string | undefined;
  profile: ToolProfile;
  askAgent: boolean;
}

/**
 * One MCP server over the SDK client, used by both transports. Results are one text item holding JSON (as the
 * Letta MCP server does); no `outputSchema`, since Claude Code rejects one without `structuredContent`.
 */
export function createMcpServer(options: McpServerOptions): Server {
  const server = new Server({ name: 'cairn', version: CAIRN_VERSION }, { capabilities: { tools: {} } });
  const tools = listing(options.profile, options.askAgent);
  const byName = new Map(tools.map((t) => [t.def.name, t]));
  const ctx: ToolContext = { client: options.client, defaultAgentId: options.defaultAgentId };

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: tools.map(({ def, schema }) => ({
      name: def.name,
      description: def.description,
      inputSchema: schema as { type: 'object' },
      annotations: def.annotations,
    })),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const tool = byName.get(request.params.name);
    if (!tool) return failure(`unknown tool '${request.params.name}'`);
    const parsed = tool.def.input.safeParse(request.params.arguments ?? {});
    if (!parsed.success)
      return failure(
        `invalid arguments: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      );
    const args = parsed.data as Record<string, unknown>;
    const operation = typeof args.operation === 'string' ? { operation: args.operation } : {};
    try {
      const output = await tool.def.run(args, ctx);
      return {
        content: [
          { type: 'text', text: renderResult(output, operation, typeof args.offset === 'number' ? args.offset : 0) },
        ],
      };
    } catch (error) {
      if (error instanceof ToolError || error instanceof Letta.APIError)
        return failure(error instanceof ToolError ? error.message : describeError(error), operation);
      throw error;
    }
  });
  return server;
}

function failure(message: string, extra: Record<string, unknown> = {}): CallToolResult {
  return {
    isError: true,
    content: [{ type: 'text', text: JSON.stringify({ success: false, ...extra, error: message }) }],
  };
}
