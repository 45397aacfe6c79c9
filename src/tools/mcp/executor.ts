import { SecretError, type SecretBox } from '../../lib/secrets.js';
import type { ToolCall, ToolContext, ToolExecutionResult, ToolExecutor } from '../../domain/ports.js';
import type { McpClient } from './client.js';
import { McpClientError, mcpErrorToolResult } from './errors.js';
import { toolErrorText } from '../runners/types.js';
import { mcpServerConfig } from './stored.js';

/**
 * Runs `external_mcp` tools for the agent loop. The server is found through the tool's row, so any process can
 * run any MCP tool: its stdio server is started in this process on first use. Every failure of the server (down,
 * hung past the execute timeout, exited mid-call) is an error result for the agent, never a thrown turn.
 */
export class McpToolExecutor implements ToolExecutor {
  constructor(
    private readonly client: McpClient,
    private readonly box: SecretBox,
  ) {}

  handles(toolType: string): boolean {
    return toolType === 'external_mcp';
  }

  async execute(call: ToolCall, ctx: ToolContext): Promise<ToolExecutionResult> {
    const server = await ctx.stores.mcpServers.serverOfTool(call.name);
    if (!server)
      return {
        status: 'error',
        funcReturn: `Error executing function ${call.name}: ValueError: Tool ${call.name} does not belong to any registered MCP server`,
      };
    try {
      return await this.client.callTool(mcpServerConfig(server, this.box), call.name, call.args, {
        agentId: ctx.agentId,
      });
    } catch (error) {
      if (error instanceof McpClientError) return mcpErrorToolResult(call.name, error);
      if (error instanceof SecretError)
        return { status: 'error', funcReturn: toolErrorText(call.name, 'SecretError', error.message) };
      throw error;
    }
  }
}
