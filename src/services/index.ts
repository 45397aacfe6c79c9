import type { Runtime } from '../runtime/index.js';
import type { ActivityService } from './activity.service.js';
import type { AgentFileService } from './agent-file.service.js';
import type { AgentService } from './agent.service.js';
import type { ArchivalService } from './archival.service.js';
import type { BlockHistoryService } from './block-history.service.js';
import type { BlockService } from './block.service.js';
import type { CaptureService } from './capture.service.js';
import type { ConversationService } from './conversation.service.js';
import type { IdentityService } from './identity.service.js';
import type { McpServerService } from './mcp-server.service.js';
import type { MessageService } from './message.service.js';
import type { ModelService } from './model.service.js';
import type { RecallService } from './recall.service.js';
import type { RunService } from './run.service.js';
import type { StepService } from './step.service.js';
import type { GroupService } from './group.service.js';
import type { GroupChatService } from './group-chat.service.js';
import type { ProviderService } from './provider.service.js';
import type { TagService } from './tag.service.js';
import type { FolderService } from './folder.service.js';
import type { GitMemoryService } from './git-memory.service.js';
import type { ToolService } from './tool.service.js';

/**
 * What the HTTP routes (and the `/mcp` route) are given: services only, never stores, so every rule a service
 * enforces holds for every caller. Built by the composition root, `src/server.ts`.
 */
export interface Services {
  agents: AgentService;
  /** Letta Agent File (`.af`) export and import. */
  agentFiles: AgentFileService;
  blocks: BlockService;
  blockHistory: BlockHistoryService;
  identities: IdentityService;
  tags: TagService;
  tools: ToolService;
  /** MCP servers as tool sources: the id-keyed and the legacy name-keyed API. */
  mcpServers: McpServerService;
  archival: ArchivalService;
  recall: RecallService;
  capture: CaptureService;
  messages: MessageService;
  runs: RunService;
  steps: StepService;
  groups: GroupService;
  /** Messages to round_robin, supervisor and dynamic groups. */
  groupChats: GroupChatService;
  providers: ProviderService;
  conversations: ConversationService;
  models: ModelService;
  folders: FolderService;
  /** Letta Code's git-backed memory: each agent's blocks as a repository over git smart HTTP. */
  gitMemory: GitMemoryService;
  /** What the memory inspector reads beyond Letta's routes. */
  activity: ActivityService;
  /** Turns, prompt recompiles, compaction, raw generation and the context overview. */
  runtime: Runtime;
}
