import { z } from 'zod';
import { passageCreateSchema } from './archival.js';
import { createBlockSchema } from './block.js';
import { jsonObject, opt, queryBool, queryString } from './common.js';

/**
 * Letta's Agent File (`.af`), the "v2" multi-entity format of `letta/schemas/agent_file.py`. Import validates only
 * what Cairn reads, loosely (unknown fields are ignored as pydantic ignores them); export emits every field Letta
 * emits, so that a Letta server can import what Cairn exports.
 */

/** Ids inside a file are per-kind counters (`agent-0`, `message-3`), never database ids (`_validate_id_format`). */
const fileId = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}-\\d+$`), { message: `should look like '${prefix}-<integer>'` });

const MESSAGE_ROLES = ['system', 'user', 'assistant', 'tool', 'function', 'approval', 'summary'] as const;

const timestamp = z.string().refine((v) => !Number.isNaN(Date.parse(v)), { message: 'is not a timestamp' });

const contentPart = z.looseObject({ type: z.string() });

const toolCall = z.looseObject({
  id: z.string(),
  type: z.literal('function').default('function'),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

export const agentFileMessageSchema = z.looseObject({
  id: fileId('message'),
  role: z.enum(MESSAGE_ROLES),
  content: z.union([z.string(), z.array(contentPart)]).nullish(),
  name: opt(z.string()),
  otid: opt(z.string()),
  sender_id: opt(z.string()),
  group_id: opt(z.string()),
  model: opt(z.string()),
  tool_calls: opt(z.array(toolCall)),
  tool_call_id: opt(z.string()),
  tool_returns: opt(z.array(z.looseObject({}))),
  created_at: opt(timestamp),
  approve: opt(z.boolean()),
  approval_request_id: opt(z.string()),
  denial_reason: opt(z.string()),
  approvals: opt(z.array(z.looseObject({}))),
  /** Cairn's extension: Letta has no column for a failed step's messages. */
  is_err: opt(z.boolean()),
});
export type AgentFileMessage = z.infer<typeof agentFileMessageSchema>;

/**
 * Letta's `FileAgentSchema`: an agent's view of one file. Its own id is not referenced anywhere (Letta exports the
 * database id), so any string is accepted.
 */
export const agentFileFileAgentSchema = z.looseObject({
  id: z.string(),
  file_id: fileId('file'),
  source_id: fileId('source'),
  file_name: opt(z.string()),
  is_open: z.boolean().default(true),
  visible_content: opt(z.string()),
  last_accessed_at: opt(timestamp),
  start_line: opt(z.number().int()),
  end_line: opt(z.number().int()),
});
export type AgentFileFileAgent = z.infer<typeof agentFileFileAgentSchema>;

export const agentFileAgentSchema = z.looseObject({
  id: fileId('agent'),
  name: opt(z.string()),
  agent_type: opt(z.string()),
  system: opt(z.string()),
  description: opt(z.string()),
  metadata: opt(jsonObject),
  tool_ids: opt(z.array(fileId('tool'))),
  block_ids: opt(z.array(fileId('block'))),
  tool_rules: opt(z.array(z.looseObject({ tool_name: z.string(), type: z.string() }))),
  tags: opt(z.array(z.string())),
  llm_config: opt(jsonObject),
  embedding_config: opt(jsonObject),
  model: opt(z.string()),
  embedding: opt(z.string()),
  model_settings: opt(jsonObject),
  compaction_settings: opt(jsonObject),
  context_window_limit: opt(z.number().int().positive()),
  response_format: opt(jsonObject),
  message_buffer_autoclear: opt(z.boolean()),
  enable_sleeptime: opt(z.boolean()),
  timezone: opt(z.string()),
  hidden: opt(z.boolean()),
  project_id: opt(z.string()),
  template_id: opt(z.string()),
  base_template_id: opt(z.string()),
  secrets: opt(z.record(z.string(), z.string().nullable())),
  tool_exec_environment_variables: opt(z.record(z.string(), z.string().nullable())),
  in_context_message_ids: z.array(fileId('message')).default([]),
  messages: z.array(agentFileMessageSchema).default([]),
  /** Cairn's extension (`include_passages`): the agent's archival memory. Letta's importer ignores it. */
  passages: z.array(passageCreateSchema).default([]),
  group_ids: opt(z.array(fileId('group'))),
  source_ids: opt(z.array(fileId('source'))),
  files_agents: z.array(agentFileFileAgentSchema).default([]),
  max_files_open: opt(z.number().int().positive()),
  per_file_view_window_char_limit: opt(z.number().int().positive()),
});
export type AgentFileAgent = z.infer<typeof agentFileAgentSchema>;

/** Letta's `BlockSchema` is `CreateBlock` plus the file id. */
export const agentFileBlockSchema = createBlockSchema.extend({ id: fileId('block') });
export type AgentFileBlock = z.infer<typeof agentFileBlockSchema>;

export const agentFileToolSchema = z.looseObject({
  id: fileId('tool'),
  name: opt(z.string().min(1)),
  description: opt(z.string()),
  tool_type: opt(z.string()),
  source_type: opt(z.string()),
  source_code: opt(z.string()),
  json_schema: opt(jsonObject),
  args_json_schema: opt(jsonObject),
  return_char_limit: opt(z.number().int().positive()),
  pip_requirements: opt(z.array(z.unknown())),
  npm_requirements: opt(z.array(z.unknown())),
  default_requires_approval: opt(z.boolean()),
  enable_parallel_execution: opt(z.boolean()),
  tags: opt(z.array(z.string())),
  metadata_: opt(jsonObject),
});
export type AgentFileTool = z.infer<typeof agentFileToolSchema>;

/** Letta's `SourceSchema` (`SourceCreate` with the file id): a folder. */
export const agentFileSourceSchema = z.looseObject({
  id: fileId('source'),
  name: z.string().trim().min(1),
  description: opt(z.string()),
  instructions: opt(z.string()),
  metadata: opt(jsonObject),
  embedding: opt(z.string()),
  embedding_chunk_size: opt(z.number().int().positive()),
  embedding_config: opt(jsonObject),
});
export type AgentFileSource = z.infer<typeof agentFileSourceSchema>;

/** Letta's `FileSchema`: a folder's file with its parsed text (processing state is recomputed on import). */
export const agentFileFileSchema = z.looseObject({
  id: fileId('file'),
  source_id: fileId('source'),
  file_name: opt(z.string()),
  original_file_name: opt(z.string()),
  file_type: opt(z.string()),
  content: opt(z.string()),
});
export type AgentFileFile = z.infer<typeof agentFileFileSchema>;

/** Letta's `GroupSchema`: `GroupCreate` with file ids, and the manager config of its `manager_type`. */
export const agentFileGroupSchema = z.looseObject({
  id: fileId('group'),
  agent_ids: z.array(fileId('agent')),
  description: opt(z.string()),
  project_id: opt(z.string()),
  shared_block_ids: z.array(fileId('block')).default([]),
  hidden: opt(z.boolean()),
  manager_config: z
    .looseObject({
      manager_type: z.enum(['round_robin', 'supervisor', 'dynamic', 'sleeptime', 'voice_sleeptime', 'swarm']),
      manager_agent_id: opt(fileId('agent')),
      sleeptime_agent_frequency: opt(z.number().int().positive()),
      max_turns: opt(z.number().int().positive()),
      termination_token: opt(z.string()),
    })
    .default({ manager_type: 'round_robin' }),
});
export type AgentFileGroup = z.infer<typeof agentFileGroupSchema>;

/** Letta's `MCPServerSchema`: a server's definition, its secrets (token, headers, stdio env) never included. */
export const agentFileMcpServerSchema = z.looseObject({
  id: fileId('mcp_server'),
  server_type: z.enum(['sse', 'stdio', 'streamable_http']),
  server_name: z.string().min(1),
  server_url: opt(z.string()),
  stdio_config: opt(z.looseObject({ command: z.string().min(1), args: z.array(z.string()).default([]) })),
  metadata_: opt(jsonObject),
});
export type AgentFileMcpServer = z.infer<typeof agentFileMcpServerSchema>;

export const agentFileSchema = z.looseObject({
  agents: z.array(agentFileAgentSchema).min(1, 'an agent file must contain at least one agent'),
  groups: z.array(agentFileGroupSchema).default([]),
  blocks: z.array(agentFileBlockSchema).default([]),
  files: z.array(agentFileFileSchema).default([]),
  sources: z.array(agentFileSourceSchema).default([]),
  tools: z.array(agentFileToolSchema).default([]),
  mcp_servers: z.array(agentFileMcpServerSchema).default([]),
  skills: z.array(z.looseObject({ name: z.string() })).default([]),
  metadata: opt(z.record(z.string(), z.unknown())),
  created_at: opt(z.string()),
});
export type AgentFile = z.infer<typeof agentFileSchema>;

export const skillSchema = z
  .object({
    name: z.string(),
    files: opt(z.record(z.string(), z.string())),
    source_url: opt(z.string()),
  })
  .refine((s) => (s.files != null && 'SKILL.md' in s.files) || s.source_url != null, {
    message: "Either files (with 'SKILL.md') or source_url must be provided",
  })
  .meta({ id: 'SkillSchema' });
export type Skill = z.infer<typeof skillSchema>;

export const exportAgentQuery = z.object({
  conversation_id: queryString(),
  scrub_messages: queryBool(false),
  /** Cairn's extension: carry the agent's archival passages too. */
  include_passages: queryBool(false),
  use_legacy_format: queryBool(false),
  max_steps: queryString(),
});

export const exportAgentRequest = z
  .object({
    skills: z.array(skillSchema).default([]),
    conversation_id: opt(z.string()),
    scrub_messages: z.boolean().default(false),
    include_passages: z.boolean().default(false),
  })
  .meta({ id: 'ExportAgentRequest' });

export interface ExportOptions {
  conversationId?: string | null | undefined;
  scrubMessages: boolean;
  includePassages?: boolean;
  skills?: Skill[];
}

export interface ImportOptions {
  appendCopySuffix: boolean;
  overrideName?: string | undefined;
  overrideExistingTools: boolean;
  stripMessages: boolean;
  projectId?: string | undefined;
  /** Values for the secrets the file names (exports blank them). */
  envVars?: Record<string, string> | undefined;
  model?: string | undefined;
  embedding?: string | undefined;
}

export const importedAgentsResponse = z
  .object({ agent_ids: z.array(z.string()) })
  .meta({ id: 'ImportedAgentsResponse' });
