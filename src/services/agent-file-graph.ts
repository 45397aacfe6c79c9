import { badRequest } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import type { SecretBox } from '../lib/secrets.js';
import { nowIso } from '../lib/time.js';
import type { AgentFileGroup, AgentFileMcpServer, AgentFileTool } from '../schemas/agent-file.js';
import type { Tool } from '../schemas/tool.js';
import type { GroupWithMembers } from '../store/group.store.js';
import type { Stores } from '../store/index.js';
import type { McpServerConfig } from '../tools/mcp/config.js';
import { MCP_TAG_PREFIX } from '../tools/mcp/letta-tool.js';
import { mcpServerColumns } from '../tools/mcp/stored.js';
import { mcpServerOfTool } from './agent-file-checks.js';
import { STDIO_DISABLED } from './mcp-server.service.js';

/**
 * The parts of an agent file around its agents: the group an agent manages and the MCP servers its tools come
 * from, as Letta's `agent_serialization_manager` writes and reads them.
 */

/** Numbers ids per kind (`agent-0`, `group-0`); `known` is for references that must not mint a new id. */
export interface FileIdMap {
  of(dbId: string, kind: string): string;
  known(dbId: string): string | undefined;
}

/** Letta's `GroupSchema.from_group`: the members and manager by file id, the manager config of its type. */
export function exportGroup(group: GroupWithMembers, ids: FileIdMap): Record<string, unknown> {
  const manager = group.manager_agent_id ? ids.known(group.manager_agent_id) : undefined;
  const config: Record<string, unknown> = { manager_type: group.manager_type };
  if (manager) config.manager_agent_id = manager;
  if (group.manager_type === 'sleeptime') config.sleeptime_agent_frequency = group.sleeptime_agent_frequency;
  if (group.manager_type === 'dynamic') config.termination_token = group.termination_token;
  if (group.manager_type === 'dynamic' || group.manager_type === 'round_robin') config.max_turns = group.max_turns;
  return {
    agent_ids: group.agent_ids.flatMap((id) => ids.known(id) ?? []),
    description: group.description,
    manager_config: config,
    project_id: group.project_id,
    shared_block_ids: group.shared_block_ids.map((id) => ids.of(id, 'block')),
    hidden: group.hidden ? true : null,
    id: ids.of(group.id, 'group'),
  };
}

/**
 * The servers the exported MCP tools come from, without their secrets (Letta's `MCPServerSchema` leaves out the
 * token, the custom headers and the stdio environment): whoever imports the file configures those again.
 */
export async function exportMcpServers(tx: Stores, tools: Tool[], ids: FileIdMap): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  for (const tool of tools) {
    if (tool.tool_type !== 'external_mcp') continue;
    const server = await tx.mcpServers.serverOfTool(tool.name);
    if (!server || seen.has(server.id)) continue;
    seen.add(server.id);
    // The plain settings only: the sealed secrets are never opened for an export.
    const settings = JSON.parse(server.config) as { command?: string; args?: string[]; server_url?: string };
    const stdio = server.server_type === 'stdio';
    out.push({
      id: ids.of(server.id, 'mcp_server'),
      server_type: server.server_type,
      server_name: server.server_name,
      server_url: stdio ? null : (settings.server_url ?? null),
      stdio_config: stdio
        ? { server_name: server.server_name, type: 'stdio', command: settings.command, args: settings.args ?? [] }
        : null,
      metadata_: null,
    });
  }
  return out;
}

/** An MCP tool names its server by file id in the file, and by database id once imported. */
export function withMcpServerId(
  tool: Record<string, unknown>,
  serverId: string | undefined,
  serverName?: string,
): Record<string, unknown> {
  const metadata = tool.metadata_ as Record<string, unknown> | null | undefined;
  const mcp = metadata?.[MCP_TAG_PREFIX] as Record<string, unknown> | undefined;
  if (!mcp || serverId === undefined) return tool;
  return {
    ...tool,
    metadata_: {
      ...metadata,
      [MCP_TAG_PREFIX]: { ...mcp, server_id: serverId, ...(serverName ? { server_name: serverName } : {}) },
    },
  };
}

function configOf(server: AgentFileMcpServer): McpServerConfig {
  if (server.server_type === 'stdio')
    return {
      type: 'stdio',
      serverName: server.server_name,
      command: server.stdio_config!.command,
      args: server.stdio_config!.args,
      env: null,
    };
  return { type: server.server_type, serverName: server.server_name, serverUrl: server.server_url! };
}

/**
 * Letta's `create_or_update_mcp_server`, inside the import's transaction: a server of the same name is reused (it
 * keeps its own secrets), any other is created without secrets. Returns file id → { database id, name }.
 */
export async function importMcpServers(
  tx: Stores,
  servers: AgentFileMcpServer[],
  mcp: { box: SecretBox; disableStdio: boolean },
): Promise<Map<string, { id: string; name: string }>> {
  const out = new Map<string, { id: string; name: string }>();
  for (const server of servers) {
    const existing = await tx.mcpServers.findByName(server.server_name);
    if (existing) {
      out.set(server.id, { id: existing.id, name: existing.server_name });
      continue;
    }
    // As the API refuses it: a stdio server runs a command on this machine for whoever can import a file.
    if (server.server_type === 'stdio' && mcp.disableStdio) throw badRequest(STDIO_DISABLED);
    const id = newId('mcp_server');
    await tx.mcpServers.insert({
      id,
      ...mcpServerColumns(id, configOf(server), mcp.box),
      project_id: null,
      created_at: nowIso(),
    });
    out.set(server.id, { id, name: server.server_name });
  }
  return out;
}

/** The file's MCP tool as it will be stored: its metadata names the server's database id. */
export function importedMcpTool(
  tool: AgentFileTool,
  servers: Map<string, { id: string; name: string }>,
): { tool: AgentFileTool; serverId: string | undefined } {
  const fileServerId = mcpServerOfTool(tool);
  const server = fileServerId ? servers.get(fileServerId) : undefined;
  if (!server) return { tool, serverId: undefined };
  return { tool: withMcpServerId(tool, server.id, server.name) as AgentFileTool, serverId: server.id };
}

/** Letta's `create_group_async` for each group of the file, once its agents and blocks exist. */
export async function importGroups(tx: Stores, groups: AgentFileGroup[], realIds: Map<string, string>): Promise<void> {
  for (const group of groups) {
    const config = group.manager_config;
    const now = nowIso();
    await tx.groups.insert(
      {
        id: newId('group'),
        manager_type: config.manager_type,
        description: group.description ?? '',
        manager_agent_id: config.manager_agent_id ? realIds.get(config.manager_agent_id)! : null,
        sleeptime_agent_frequency: config.sleeptime_agent_frequency ?? null,
        turns_counter: 0,
        last_processed_message_id: null,
        max_turns: config.max_turns ?? null,
        termination_token: config.manager_type === 'dynamic' ? (config.termination_token ?? 'DONE!') : null,
        hidden: group.hidden ? 1 : 0,
        project_id: group.project_id ?? null,
        created_at: now,
        updated_at: now,
      },
      group.agent_ids.map((id) => realIds.get(id)!),
      group.shared_block_ids.map((id) => realIds.get(id)!),
    );
  }
}
