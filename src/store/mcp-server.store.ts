import type { Kysely, Selectable } from 'kysely';
import type { Database, McpServerRow } from './schema.js';
import type { ToolRecord } from './tool.store.js';

export type McpServerRecord = Selectable<McpServerRow>;

/** MCP servers and which server each MCP tool row came from. The tool rows themselves are the tool store's. */
export class McpServerStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: Omit<McpServerRecord, 'seq'>): Promise<void> {
    await this.db.insertInto('mcp_servers').values(row).execute();
  }

  async update(id: string, patch: Partial<Omit<McpServerRecord, 'seq' | 'id'>>): Promise<void> {
    if (Object.keys(patch).length > 0)
      await this.db.updateTable('mcp_servers').set(patch).where('id', '=', id).execute();
  }

  findById(id: string): Promise<McpServerRecord | undefined> {
    return this.db.selectFrom('mcp_servers').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByName(name: string): Promise<McpServerRecord | undefined> {
    return this.db.selectFrom('mcp_servers').selectAll().where('server_name', '=', name).executeTakeFirst();
  }

  list(): Promise<McpServerRecord[]> {
    return this.db.selectFrom('mcp_servers').selectAll().orderBy('seq').execute();
  }

  /** The server's tools are deleted with it (Letta hard-deletes them, detaching them from every agent). */
  async delete(id: string): Promise<void> {
    const toolIds = this.db.selectFrom('mcp_server_tools').select('tool_id').where('mcp_server_id', '=', id);
    await this.db.deleteFrom('tools').where('id', 'in', toolIds).execute();
    await this.db.deleteFrom('mcp_servers').where('id', '=', id).execute();
  }

  tools(serverId: string): Promise<ToolRecord[]> {
    return this.db
      .selectFrom('mcp_server_tools')
      .innerJoin('tools', 'tools.id', 'mcp_server_tools.tool_id')
      .selectAll('tools')
      .where('mcp_server_tools.mcp_server_id', '=', serverId)
      .orderBy('tools.seq')
      .execute();
  }

  /** The server a tool came from, by the tool's name (names are unique, and the loop knows a call by its name). */
  serverOfTool(toolName: string): Promise<McpServerRecord | undefined> {
    return this.db
      .selectFrom('tools')
      .innerJoin('mcp_server_tools', 'mcp_server_tools.tool_id', 'tools.id')
      .innerJoin('mcp_servers', 'mcp_servers.id', 'mcp_server_tools.mcp_server_id')
      .selectAll('mcp_servers')
      .where('tools.name', '=', toolName)
      .executeTakeFirst();
  }

  /** Makes `serverId` the tool's source, taking it over from another server that offered the same name. */
  async link(serverId: string, toolId: string): Promise<void> {
    await this.db.deleteFrom('mcp_server_tools').where('tool_id', '=', toolId).execute();
    await this.db.insertInto('mcp_server_tools').values({ tool_id: toolId, mcp_server_id: serverId }).execute();
  }

  async deleteTools(toolIds: string[]): Promise<void> {
    if (toolIds.length > 0) await this.db.deleteFrom('tools').where('id', 'in', toolIds).execute();
  }
}
