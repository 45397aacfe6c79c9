import type { Command } from 'commander';
import { createClient, resolveConnection } from '../../client/connection.js';
import { TOOL_PROFILES } from '../../mcp/profiles.js';
import { withConnection } from '../common.js';

/**
 * `cairn mcp`: the MCP server on stdio, a thin client of a running Cairn (or any Letta-compatible server).
 * stdout carries only the protocol; diagnostics go to stderr. `serveStdio` serves both protocol revisions: the
 * opening exchange (an `initialize` for 2025-11-25, a request carrying the 2026-07-28 `_meta` envelope) decides
 * the connection's revision, and every later request's claimed revision is checked again (see mcp/stdio.ts). The MCP SDK loads only when this command runs, so `cairn hooks …` (on Claude Code's
 * prompt path) starts without it.
 */
export function registerMcp(program: Command): void {
  withConnection(
    program
      .command('mcp')
      .description('Run the MCP server on stdio against a running server (for Claude Code and other MCP clients)')
      .option('--tools <profile>', `tool profile: ${TOOL_PROFILES.join(' | ')} (env LETTA_MCP_TOOLS, default memory)`)
      .option('--agent-id <id>', 'default agent for tools called without agent_id (env LETTA_AGENT_ID)'),
  ).action(async (options: { baseUrl?: string; tools?: string; agentId?: string }) => {
    const [{ serveStdio }, { askAgentEnabled, createMcpServer, parseProfile }, { PerRequestVersionTransport }] =
      await Promise.all([
        import('@modelcontextprotocol/server/stdio'),
        import('../../mcp/server.js'),
        import('../../mcp/stdio.js'),
      ]);
    const connection = resolveConnection(options);
    const server = {
      client: createClient(connection, { timeoutMs: 120_000, actor: 'agent_tool:mcp' }),
      defaultAgentId: options.agentId ?? process.env.LETTA_AGENT_ID ?? undefined,
      profile: parseProfile(options.tools ?? process.env.LETTA_MCP_TOOLS),
      askAgent: askAgentEnabled(),
    };
    serveStdio(() => createMcpServer(server), {
      transport: new PerRequestVersionTransport(),
      onerror: (error) => process.stderr.write(`cairn mcp: ${error.message}\n`),
    });
    process.stderr.write(`cairn mcp: serving ${connection.baseURL} on stdio\n`);
  });
}
