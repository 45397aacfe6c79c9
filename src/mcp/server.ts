import Letta from '@letta-ai/letta-client';
import { Server, type CacheHint, type CallToolResult } from '@modelcontextprotocol/server';
import { describeError } from '../client/connection.js';
import { CAIRN_VERSION } from '../version.js';
import { lettaTools } from './tools/letta.js';
import { memoryTools } from './tools/memory.js';
import { renderResult, ToolError } from './output.js';
import { assertClaudeCompatible, inputSchemaOf, type ToolContext, type ToolDef } from './tool.js';
import type { ToolProfile } from './profiles.js';

export { parseProfile, TOOL_PROFILES, type ToolProfile } from './profiles.js';

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
 * The 2026-07-28 cache fields (`ttlMs`, `cacheScope`) for the two cacheable results Cairn serves. The tool list
 * and the capabilities are fixed for the life of the process (profile and `CAIRN_MCP_ASK_AGENT` are read at
 * start-up or from the URL) and hold nothing about the caller, so shared caches may keep them for an hour; a
 * client that meets an unknown tool re-fetches early anyway (spec, server/utilities/caching). 2025-era responses
 * carry neither field: that revision does not define them, and the SDK leaves them out.
 */
export const CACHE_HINT: Required<CacheHint> = { ttlMs: 3_600_000, cacheScope: 'public' };

/**
 * One MCP server over the SDK client, used by both transports and both protocol revisions (the serving entries
 * pick the revision per request or per stdio connection). Results are one text item holding JSON (as the Letta
 * MCP server does); no `outputSchema`, since Claude Code rejects one without `structuredContent`.
 */
export function createMcpServer(options: McpServerOptions): Server {
  const server = new Server(
    { name: 'cairn', version: CAIRN_VERSION },
    { capabilities: { tools: {} }, cacheHints: { 'tools/list': CACHE_HINT, 'server/discover': CACHE_HINT } },
  );
  const tools = listing(options.profile, options.askAgent);
  const byName = new Map(tools.map((t) => [t.def.name, t]));
  const ctx: ToolContext = { client: options.client, defaultAgentId: options.defaultAgentId };

  server.setRequestHandler('tools/list', () => ({
    tools: tools.map(({ def, schema }) => ({
      name: def.name,
      description: def.description,
      inputSchema: schema as { type: 'object' },
      annotations: def.annotations,
    })),
  }));

  server.setRequestHandler('tools/call', async (request): Promise<CallToolResult> => {
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
