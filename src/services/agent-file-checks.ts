import { badRequest } from '../lib/errors.js';
import type { AgentFile } from '../schemas/agent-file.js';

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
