import { MAX_UPLOAD_BYTES } from '../domain/files.js';
import { badRequest } from '../lib/errors.js';
import type { AgentFile, AgentFileFile, AgentFileTool } from '../schemas/agent-file.js';

/** The server an MCP tool names in `metadata_.mcp.server_id` (Letta's and Cairn's MCP tool metadata). */
export function mcpServerOfTool(tool: AgentFileTool): string | undefined {
  const mcp = tool.metadata_?.mcp;
  if (!mcp || typeof mcp !== 'object') return undefined;
  const serverId = (mcp as { server_id?: unknown }).server_id;
  return typeof serverId === 'string' ? serverId : undefined;
}

/**
 * Letta's `_validate_schema` (duplicate ids, dangling references) and the references it leaves to a KeyError halfway
 * through an import: every id an agent names must be defined in the file, so nothing is written for a file that
 * would fail later.
 */
export function validateAgentFileReferences(file: AgentFile): void {
  const problems: string[] = [];
  const seen = new Set<string>();
  const define = (id: string, where: string) => {
    if (seen.has(id)) problems.push(`duplicate id ${id} (${where})`);
    seen.add(id);
  };
  for (const [kind, entities] of [
    ['agents', file.agents],
    ['groups', file.groups],
    ['blocks', file.blocks],
    ['files', file.files],
    ['sources', file.sources],
    ['tools', file.tools],
    ['mcp_servers', file.mcp_servers],
  ] as const) {
    for (const entity of entities) define(entity.id, kind);
  }
  const blockLabels = new Map(file.blocks.map((b) => [b.id, b.label]));
  const toolIds = new Set(file.tools.map((t) => t.id));
  file.agents.forEach((agent, i) => {
    for (const message of agent.messages) define(message.id, `agents.${i}.messages`);
    const messageIds = new Set(agent.messages.map((m) => m.id));
    const labels = new Set<string>();
    for (const blockId of agent.block_ids ?? []) {
      const label = blockLabels.get(blockId);
      if (label === undefined) problems.push(`agents.${i}.block_ids names unknown block ${blockId}`);
      else if (labels.has(label)) problems.push(`agents.${i} has two blocks labelled '${label}'`);
      else labels.add(label);
    }
    for (const toolId of agent.tool_ids ?? []) {
      if (!toolIds.has(toolId)) problems.push(`agents.${i}.tool_ids names unknown tool ${toolId}`);
    }
    for (const messageId of agent.in_context_message_ids) {
      if (!messageIds.has(messageId)) {
        problems.push(`agents.${i}.in_context_message_ids names message ${messageId}, which the agent does not have`);
      }
    }
  });
  const agentIds = new Set(file.agents.map((a) => a.id));
  const blockIds = new Set(file.blocks.map((b) => b.id));
  file.groups.forEach((group, i) => {
    const manager = group.manager_config.manager_agent_id;
    for (const agentId of [...group.agent_ids, ...(manager ? [manager] : [])])
      if (!agentIds.has(agentId)) problems.push(`groups.${i} names unknown agent ${agentId}`);
    for (const blockId of group.shared_block_ids)
      if (!blockIds.has(blockId)) problems.push(`groups.${i}.shared_block_ids names unknown block ${blockId}`);
    if (
      !manager &&
      group.manager_config.manager_type !== 'round_robin' &&
      group.manager_config.manager_type !== 'swarm'
    )
      problems.push(`groups.${i}: a ${group.manager_config.manager_type} group needs manager_config.manager_agent_id`);
  });
  file.mcp_servers.forEach((server, i) => {
    if (server.server_type === 'stdio' ? !server.stdio_config : !server.server_url)
      problems.push(
        `mcp_servers.${i} (${server.server_type}) has no ${server.server_type === 'stdio' ? 'stdio_config' : 'server_url'}`,
      );
  });
  const mcpServerIds = new Set(file.mcp_servers.map((m) => m.id));
  file.tools.forEach((tool, i) => {
    const serverId = mcpServerOfTool(tool);
    if (serverId && /^mcp_server-\d+$/.test(serverId) && !mcpServerIds.has(serverId))
      problems.push(`tools.${i} names unknown MCP server ${serverId}`);
  });
  problems.push(...folderProblems(file));
  for (const block of file.blocks) {
    const length = block.value.length;
    if (block.limit != null && length > block.limit) {
      problems.push(
        `block ${block.id} ('${block.label}') holds ${length} characters, over its limit of ${block.limit}`,
      );
    }
  }
  if (problems.length > 0) throw badRequest(`Invalid agent file: ${problems.slice(0, 10).join('; ')}`);
}

/** Folders and files: every file in a folder of the file, within the upload limit, each view naming a known file. */
function folderProblems(file: AgentFile): string[] {
  const problems: string[] = [];
  const sourceIds = new Set(file.sources.map((s) => s.id));
  const sourceOfFile = new Map(file.files.map((f) => [f.id, f.source_id]));
  const names = new Set<string>();
  file.files.forEach((entry, i) => {
    if (!sourceIds.has(entry.source_id)) problems.push(`files.${i} names unknown source ${entry.source_id}`);
    const name = `${entry.source_id}/${importedFileName(entry)}`;
    if (names.has(name))
      problems.push(`files.${i}: source ${entry.source_id} has two files named '${importedFileName(entry)}'`);
    names.add(name);
    const bytes = Buffer.byteLength(entry.content ?? '');
    if (bytes > MAX_UPLOAD_BYTES)
      problems.push(`files.${i} holds ${bytes} bytes of content, over the ${MAX_UPLOAD_BYTES}-byte upload limit`);
  });
  file.agents.forEach((agent, i) => {
    for (const sourceId of agent.source_ids ?? [])
      if (!sourceIds.has(sourceId)) problems.push(`agents.${i}.source_ids names unknown source ${sourceId}`);
    const viewed = new Set<string>();
    agent.files_agents.forEach((view, j) => {
      const source = sourceOfFile.get(view.file_id);
      if (source === undefined) problems.push(`agents.${i}.files_agents.${j} names unknown file ${view.file_id}`);
      else if (source !== view.source_id)
        problems.push(`agents.${i}.files_agents.${j} puts file ${view.file_id} in ${view.source_id}, not ${source}`);
      if (viewed.has(view.file_id)) problems.push(`agents.${i}.files_agents has file ${view.file_id} twice`);
      viewed.add(view.file_id);
    });
  });
  return problems;
}

/** A file's name inside its folder: Cairn's and Letta's `file_name` carry the folder's name in front. */
export function importedFileName(entry: AgentFileFile): string {
  const name = entry.original_file_name ?? entry.file_name ?? entry.id;
  return name.slice(name.lastIndexOf('/') + 1) || entry.id;
}
