import type {
  AgentMessenger,
  AgentStatePort,
  ArchivalPort,
  BlockWriter,
  RecallPort,
  ToolContext,
} from '../domain/ports.js';
import type { AgentRecord } from '../store/agent.store.js';
import type { Stores } from '../store/index.js';
import type { SystemPrompts } from './system-prompt.js';

export interface ToolContextDeps {
  stores: Stores;
  blocks: BlockWriter;
  prompts: SystemPrompts;
  archival: ArchivalPort;
  recall: RecallPort;
  agentStates?: AgentStatePort | undefined;
  messenger?: AgentMessenger | undefined;
}

/** What a tool of this agent runs with, in a turn or run directly (`POST /agents/{id}/tools/{name}/run`). */
export function toolContextFor(
  deps: ToolContextDeps,
  agent: Pick<AgentRecord, 'id' | 'timezone'>,
  conversationId: string | null,
  runId?: string,
): ToolContext {
  const { agentStates, messenger } = deps;
  return {
    agentId: agent.id,
    conversationId,
    timezone: agent.timezone,
    stores: deps.stores,
    blocks: deps.blocks,
    archival: deps.archival,
    recall: deps.recall,
    recompile: async (tx, agentId) => {
      await deps.prompts.rebuild(tx, agentId, true);
    },
    ...(agentStates ? { agentState: () => agentStates.get(agent.id) } : {}),
    ...(runId ? { runId } : {}),
    ...(messenger ? { messenger } : {}),
  };
}
