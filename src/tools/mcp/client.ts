import type { ToolExecutionResult } from '../../domain/ports.js';
import type { McpServerConfig } from './config.js';
import type { McpListedTool } from './letta-tool.js';
import type { McpCallOptions, McpClientManager, McpClientManagerOptions } from './manager.js';

/** What the service and the executor use of the MCP client manager. */
export interface McpClient {
  listTools(config: McpServerConfig, options?: McpCallOptions): Promise<McpListedTool[]>;
  callTool(
    config: McpServerConfig,
    toolName: string,
    args: Record<string, unknown>,
    options?: McpCallOptions,
  ): Promise<ToolExecutionResult>;
  release(config: McpServerConfig): Promise<void>;
  close(): Promise<void>;
}

/**
 * The manager, loaded on first use: the MCP SDK costs ~250 ms of imports and ~15 MB, which a server whose agents
 * never call an MCP tool should not pay at start-up.
 */
export class LazyMcpClient implements McpClient {
  private manager: Promise<McpClientManager> | undefined;

  constructor(private readonly options: McpClientManagerOptions) {}

  private load(): Promise<McpClientManager> {
    return (this.manager ??= import('./manager.js').then(({ McpClientManager }) => new McpClientManager(this.options)));
  }

  async listTools(config: McpServerConfig, options?: McpCallOptions) {
    return (await this.load()).listTools(config, options);
  }

  async callTool(config: McpServerConfig, toolName: string, args: Record<string, unknown>, options?: McpCallOptions) {
    return (await this.load()).callTool(config, toolName, args, options);
  }

  async release(config: McpServerConfig) {
    if (this.manager) await (await this.manager).release(config);
  }

  async close() {
    if (this.manager) await (await this.manager).close();
  }
}
