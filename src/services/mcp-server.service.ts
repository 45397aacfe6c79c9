import type { Logger } from 'pino';
import { badRequest, CairnError, conflict, notFound } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { SECRET_UNREADABLE_STATUS, SecretError, type SecretBox } from '../lib/secrets.js';
import { nowIso } from '../lib/time.js';
import type {
  LegacyServerConfig,
  LegacyUpdateMcpServer,
  McpConnectEvent,
  McpServerResponse,
  UpdateMcpServer,
} from '../schemas/mcp-server.js';
import type { Tool } from '../schemas/tool.js';
import type { Stores } from '../store/index.js';
import type { McpServerRecord } from '../store/mcp-server.store.js';
import { toTool } from '../store/tool.store.js';
import type { McpClient } from '../tools/mcp/client.js';
import type { McpServerConfig } from '../tools/mcp/config.js';
import { McpClientError } from '../tools/mcp/errors.js';
import {
  diffMcpTools,
  isRegistrable,
  lettaToolFromMcp,
  mcpServerTag,
  MCP_TAG_PREFIX,
  wireExecutionResult,
  type McpListedTool,
  type McpToolDefinition,
} from '../tools/mcp/letta-tool.js';
import { mcpServerColumns, mcpServerConfig } from '../tools/mcp/stored.js';
import { applyLegacyUpdate, applyUpdate, legacyConfigResponse, mcpServerResponse } from '../tools/mcp/wire.js';

export interface McpServerServiceOptions {
  /** Letta's `MCP_DISABLE_STDIO`: refused when a stdio server is added, not only when one is started. */
  disableStdio: boolean;
  isUniqueViolation(error: unknown): boolean;
  logger: Logger;
}

export const STDIO_DISABLED = 'MCP stdio servers are disabled. Set MCP_DISABLE_STDIO=false to enable them.';
const LEGACY_STDIO_DISABLED =
  'stdio is not supported in the current environment, please use a self-hosted Letta server in order to add a stdio MCP server';

interface Server {
  row: McpServerRecord;
  config: McpServerConfig;
}

/**
 * MCP servers as tool sources, for both of Letta's APIs: the id-keyed `/v1/mcp-servers` and the legacy name-keyed
 * `/v1/tools/mcp/servers`. A server's tools are `external_mcp` rows in `tools`, registered when the server is added
 * (best-effort, as Letta: a server that cannot be reached is still added) and kept in step by refresh.
 * Failures of the server itself surface as `McpClientError`, which the routes map to Letta's statuses.
 */
export class McpServerService {
  constructor(
    private readonly stores: Stores,
    private readonly client: McpClient,
    private readonly box: SecretBox,
    private readonly options: McpServerServiceOptions,
  ) {}

  private open(row: McpServerRecord): Server {
    try {
      return { row, config: mcpServerConfig(row, this.box) };
    } catch (error) {
      // Processes that share a database but not a data dir need the same CAIRN_SECRET_KEY; say so, not "unknown error".
      if (error instanceof SecretError)
        throw new CairnError(
          SECRET_UNREADABLE_STATUS,
          `The secrets of MCP server ${row.server_name} cannot be read: ${error.message}`,
        );
      throw error;
    }
  }

  private async byId(id: string, tx: Stores = this.stores): Promise<Server> {
    const row = await tx.mcpServers.findById(id);
    if (!row) throw notFound(`MCP server with id '${id}' not found`);
    return this.open(row);
  }

  private async byName(name: string, tx: Stores = this.stores): Promise<Server> {
    const row = await tx.mcpServers.findByName(name);
    // Letta's legacy routes answer an unknown name with this object as the detail.
    if (!row)
      throw new CairnError(404, {
        code: 'MCPServerNotFoundError',
        message: `MCP server ${name} not found`,
        mcp_server_name: name,
      });
    return this.open(row);
  }

  private async all(): Promise<Server[]> {
    return (await this.stores.mcpServers.list()).map((row) => this.open(row));
  }

  // ---- id-keyed API ----

  async list(): Promise<McpServerResponse[]> {
    return (await this.all()).map(({ row, config }) => mcpServerResponse(row.id, config));
  }

  async get(id: string): Promise<McpServerResponse> {
    const { row, config } = await this.byId(id);
    return mcpServerResponse(row.id, config);
  }

  async create(config: McpServerConfig, stdioRefusal = STDIO_DISABLED): Promise<McpServerResponse> {
    if (config.type === 'stdio' && this.options.disableStdio) throw badRequest(stdioRefusal);
    const id = newId('mcp_server');
    const now = nowIso();
    try {
      await this.stores.transaction(async (tx) => {
        if (await tx.mcpServers.findByName(config.serverName)) throw this.nameTaken(config.serverName);
        await tx.mcpServers.insert({
          id,
          ...mcpServerColumns(id, config, this.box),
          project_id: null,
          created_at: now,
        });
      });
    } catch (error) {
      if (this.options.isUniqueViolation(error)) throw this.nameTaken(config.serverName);
      throw error;
    }
    await this.syncNewServer({ id, name: config.serverName }, config);
    return mcpServerResponse(id, config);
  }

  private nameTaken(name: string): CairnError {
    return conflict(`An MCP server named '${name}' already exists`);
  }

  /** Letta registers a new server's tools optimistically: a server that cannot be listed is still added. */
  private async syncNewServer(server: { id: string; name: string }, config: McpServerConfig): Promise<void> {
    let tools: McpListedTool[];
    try {
      tools = await this.client.listTools(config);
    } catch (error) {
      if (!(error instanceof McpClientError)) throw error;
      this.options.logger.warn(
        { mcpServer: server.name, err: error.message },
        'MCP server added, but its tools could not be listed; refresh it once it is reachable',
      );
      return;
    }
    const definitions = tools.filter(isRegistrable).map((tool) => lettaToolFromMcp(server, tool));
    await this.stores.transaction(async (tx) => {
      for (const definition of definitions) await this.register(tx, server.id, definition, false);
    });
  }

  /**
   * Upserts an MCP tool row by name and makes `serverId` its source. A name held by a tool that is not an MCP
   * tool (a base or custom tool) is never overwritten: skipped when syncing, refused when asked for by name.
   */
  private async register(
    tx: Stores,
    serverId: string,
    definition: McpToolDefinition,
    explicit: boolean,
  ): Promise<Tool | undefined> {
    const [existing] = await tx.tools.findManyByNames([definition.name]);
    if (existing && existing.tool_type !== 'external_mcp') {
      if (explicit)
        throw conflict(`A ${existing.tool_type} tool named '${definition.name}' already exists; it is not replaced`);
      this.options.logger.warn(
        { tool: definition.name },
        'MCP tool not registered: a tool that is not an MCP tool has its name',
      );
      return undefined;
    }
    const now = nowIso();
    const columns = toolColumns(definition);
    const id = existing?.id ?? newId('tool');
    if (existing) await tx.tools.update(id, { ...columns, updated_at: now });
    else await tx.tools.insert({ id, ...columns, created_at: now, updated_at: now });
    await tx.mcpServers.link(serverId, id);
    const row = (await tx.tools.findById(id))!;
    return toTool(row);
  }

  async update(id: string, update: UpdateMcpServer): Promise<McpServerResponse> {
    const { row, config } = await this.saveChange(await this.byId(id), (stored) => applyUpdate(stored, update));
    return mcpServerResponse(row.id, config);
  }

  /** Writes a changed configuration; a rename carries the server's tools' tags and metadata along. */
  private async saveChange(server: Server, change: (stored: McpServerConfig) => McpServerConfig): Promise<Server> {
    const next = change(server.config);
    const renamed = next.serverName !== server.config.serverName;
    try {
      await this.stores.transaction(async (tx) => {
        if (renamed && (await tx.mcpServers.findByName(next.serverName))) throw this.nameTaken(next.serverName);
        await tx.mcpServers.update(server.row.id, mcpServerColumns(server.row.id, next, this.box));
        if (!renamed) return;
        const identity = { id: server.row.id, name: next.serverName };
        for (const tool of await tx.mcpServers.tools(server.row.id))
          await tx.tools.update(tool.id, {
            tags: JSON.stringify([mcpServerTag(next.serverName)]),
            metadata: JSON.stringify({
              ...(JSON.parse(tool.metadata) as object),
              [MCP_TAG_PREFIX]: { server_name: identity.name, server_id: identity.id },
            }),
            updated_at: nowIso(),
          });
      });
    } catch (error) {
      if (this.options.isUniqueViolation(error)) throw this.nameTaken(next.serverName);
      throw error;
    }
    await this.client.release(server.config);
    return this.byId(server.row.id);
  }

  async delete(id: string): Promise<void> {
    await this.remove(await this.byId(id));
  }

  private async remove(server: Server): Promise<void> {
    await this.stores.transaction((tx) => tx.mcpServers.delete(server.row.id));
    await this.client.release(server.config);
  }

  /** The server's registered tools, from the database (Letta's `list_tools_by_mcp_server_from_db`). */
  async tools(id: string): Promise<Tool[]> {
    await this.byId(id);
    return (await this.stores.mcpServers.tools(id)).map(toTool);
  }

  async tool(id: string, toolId: string): Promise<Tool> {
    await this.byId(id);
    const tool = (await this.stores.mcpServers.tools(id)).find((t) => t.id === toolId);
    if (!tool) throw notFound(`Tool with id '${toolId}' not found`);
    return toTool(tool);
  }

  /** `agentId`: the agent the call is made for (its id goes to the server, as in a turn). */
  async runTool(id: string, toolId: string, args: Record<string, unknown>, agentId?: string) {
    const { config } = await this.byId(id);
    const tool = await this.tool(id, toolId);
    return wireExecutionResult(await this.client.callTool(config, tool.name, args, { agentId }));
  }

  /** Letta's resync: vanished tools deleted (detached from every agent), changed ones updated, new ones added. */
  async refresh(id: string, agentId?: string) {
    return this.resync(await this.byId(id), agentId);
  }

  private async resync({ row, config }: Server, agentId: string | undefined) {
    const current = await this.client.listTools(config, { agentId });
    return this.stores.transaction(async (tx) => {
      const registered = await tx.mcpServers.tools(row.id);
      const diff = diffMcpTools({ id: row.id, name: row.server_name }, current, registered.map(toTool));
      await tx.mcpServers.deleteTools(diff.vanished.map((tool) => tool.id));
      for (const { id, definition } of diff.changed)
        await tx.tools.update(id, {
          description: definition.description,
          json_schema: JSON.stringify(definition.json_schema),
          source_code: definition.source_code,
          updated_at: nowIso(),
        });
      const added: string[] = [];
      for (const definition of diff.added)
        if (await this.register(tx, row.id, definition, false)) added.push(definition.name);
      return {
        deleted: diff.vanished.map((tool) => tool.name),
        updated: diff.changed.map((change) => change.definition.name),
        added,
      };
    });
  }

  /**
   * `GET /v1/mcp-servers/connect/{id}` and `POST /v1/tools/mcp/servers/connect`: Letta's event stream for a server
   * without OAuth (Cairn has no OAuth flow): the attempt, then the tools or the error.
   */
  async connectEvents(target: { id: string } | { config: McpServerConfig }): Promise<McpConnectEvent[]> {
    const config = 'id' in target ? (await this.byId(target.id)).config : target.config;
    const attempt: McpConnectEvent = { event: 'connection_attempt', server_name: config.serverName };
    try {
      return [attempt, { event: 'success', tools: await this.client.listTools(config) }];
    } catch (error) {
      if (!(error instanceof McpClientError)) throw error;
      return [attempt, { event: 'error', message: `Connection failed: ${error.message}` }];
    }
  }

  // ---- legacy name-keyed API ----

  async legacyList(): Promise<Record<string, LegacyServerConfig>> {
    return Object.fromEntries(
      (await this.all()).map(({ config }) => [config.serverName, legacyConfigResponse(config)]),
    );
  }

  private async legacyAll(): Promise<LegacyServerConfig[]> {
    return (await this.all()).map(({ config }) => legacyConfigResponse(config));
  }

  /** `PUT /v1/tools/mcp/servers`: adds the server (tools synced as on create) and returns every server. */
  async legacyAdd(config: McpServerConfig): Promise<LegacyServerConfig[]> {
    await this.create(config, LEGACY_STDIO_DISABLED);
    return this.legacyAll();
  }

  async legacyUpdate(name: string, update: LegacyUpdateMcpServer): Promise<LegacyServerConfig> {
    const { config } = await this.saveChange(await this.byName(name), (stored) => applyLegacyUpdate(stored, update));
    return legacyConfigResponse(config);
  }

  async legacyDelete(name: string): Promise<LegacyServerConfig[]> {
    await this.remove(await this.byName(name));
    return this.legacyAll();
  }

  /** The server's tools as it lists them now, with Letta's health. */
  async liveTools(name: string): Promise<McpListedTool[]> {
    return this.client.listTools((await this.byName(name)).config);
  }

  async resyncByName(name: string, agentId?: string) {
    return this.resync(await this.byName(name), agentId);
  }

  /** `POST /v1/tools/mcp/servers/{server}/{tool}`: one tool registered as a Letta tool, whatever its health. */
  async registerTool(name: string, toolName: string): Promise<Tool> {
    const { row, config } = await this.byName(name);
    const tools = await this.client.listTools(config);
    const tool = tools.find((t) => t.name === toolName);
    if (!tool)
      throw badRequest(
        `Tool ${toolName} not found in MCP server ${name} - available tools: ${tools.map((t) => t.name).join(', ')}`,
      );
    const definition = lettaToolFromMcp({ id: row.id, name: row.server_name }, tool);
    return (await this.stores.transaction((tx) => this.register(tx, row.id, definition, true)))!;
  }

  /** `POST /v1/tools/mcp/servers/test`: connects with a configuration that is not stored and lists its tools. */
  async test(config: McpServerConfig): Promise<{ status: 'success'; tools: McpListedTool[] }> {
    try {
      return { status: 'success', tools: await this.client.listTools(config) };
    } finally {
      // Nothing stored refers to this configuration; its connection (a stdio process) should not linger.
      await this.client.release(config);
    }
  }

  async execute(name: string, toolName: string, args: Record<string, unknown>) {
    const result = await this.client.callTool((await this.byName(name)).config, toolName, args);
    return { result: result.funcReturn, success: result.status === 'success' };
  }
}

function toolColumns(definition: McpToolDefinition) {
  return {
    name: definition.name,
    description: definition.description,
    tool_type: definition.tool_type,
    source_type: definition.source_type,
    source_code: definition.source_code,
    json_schema: JSON.stringify(definition.json_schema),
    args_json_schema: null,
    return_char_limit: definition.return_char_limit,
    pip_requirements: null,
    npm_requirements: null,
    default_requires_approval: definition.default_requires_approval ? 1 : 0,
    enable_parallel_execution: definition.enable_parallel_execution ? 1 : 0,
    tags: JSON.stringify(definition.tags),
    metadata: JSON.stringify(definition.metadata_),
    project_id: null,
  };
}
