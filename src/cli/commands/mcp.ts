import type { Command } from 'commander';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createClient, resolveConnection } from '../../client/connection.js';
import { askAgentEnabled, createMcpServer, parseProfile, TOOL_PROFILES } from '../../mcp/server.js';
import { withConnection } from '../common.js';

/**
 * `cairn mcp`: the MCP server on stdio, a thin client of a running Cairn (or any Letta-compatible server).
 * stdout carries only the protocol; diagnostics go to stderr.
 */
export function registerMcp(program: Command): void {
  withConnection(
    program
      .command('mcp')
      .description('Run the MCP server on stdio against a running server (for Claude Code and other MCP clients)')
      .option('--tools <profile>', `tool profile: ${TOOL_PROFILES.join(' | ')} (env LETTA_MCP_TOOLS, default memory)`)
      .option('--agent-id <id>', 'default agent for tools called without agent_id (env LETTA_AGENT_ID)'),
  ).action(async (options: { baseUrl?: string; tools?: string; agentId?: string }) => {
    const connection = resolveConnection(options);
    const server = createMcpServer({
      client: createClient(connection, { timeoutMs: 120_000, actor: 'agent_tool:mcp' }),
      defaultAgentId: options.agentId ?? process.env.LETTA_AGENT_ID ?? undefined,
      profile: parseProfile(options.tools ?? process.env.LETTA_MCP_TOOLS),
      askAgent: askAgentEnabled(),
    });
    await server.connect(new StdioServerTransport());
    process.stderr.write(`cairn mcp: serving ${connection.baseURL} on stdio\n`);
  });
}
