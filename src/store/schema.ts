import type { Generated } from 'kysely';

/**
 * Row types of the tables, internal to the store. Timestamps are ISO text, booleans are 0/1 integers and JSON
 * values are text in both dialects, so one set of queries and mappers serves SQLite and PostgreSQL.
 */
export interface AgentRow {
  seq: Generated<number>;
  id: string;
  name: string;
  description: string | null;
  agent_type: string;
  system: string;
  model: string | null;
  embedding: string | null;
  llm_config: string;
  embedding_config: string | null;
  model_settings: string | null;
  compaction_settings: string | null;
  context_window_limit: number | null;
  tool_rules: string;
  metadata: string | null;
  message_ids: string;
  enable_sleeptime: number;
  message_buffer_autoclear: number;
  timezone: string;
  hidden: number;
  project_id: string | null;
  template_id: string | null;
  base_template_id: string | null;
  response_format: string | null;
  secrets: string;
  last_run_completion: string | null;
  last_run_duration_ms: number | null;
  last_stop_reason: string | null;
  created_at: string;
  updated_at: string;
}

export interface BlockRow {
  seq: Generated<number>;
  id: string;
  label: string;
  value: string;
  char_limit: number;
  description: string | null;
  read_only: number;
  hidden: number;
  metadata: string;
  project_id: string | null;
  template_name: string | null;
  is_template: number;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface AgentBlockRow {
  agent_id: string;
  block_id: string;
  position: number;
}

export interface TagRow {
  owner_id: string;
  tag: string;
}

export interface ToolRow {
  seq: Generated<number>;
  id: string;
  name: string;
  description: string | null;
  tool_type: string;
  source_type: string;
  source_code: string | null;
  json_schema: string;
  args_json_schema: string | null;
  return_char_limit: number;
  pip_requirements: string | null;
  npm_requirements: string | null;
  default_requires_approval: number;
  enable_parallel_execution: number;
  tags: string;
  metadata: string;
  project_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface AgentToolRow {
  agent_id: string;
  tool_id: string;
  position: number;
}

export interface IdentityRow {
  seq: Generated<number>;
  id: string;
  identifier_key: string;
  name: string;
  identity_type: string;
  project_id: string | null;
  properties: string;
  created_at: string;
  updated_at: string;
}

export interface IdentityLinkRow {
  identity_id: string;
  target_id: string;
}

export interface ConversationRow {
  seq: Generated<number>;
  id: string;
  agent_id: string;
  summary: string | null;
  description: string | null;
  in_context_message_ids: string;
  isolated_block_ids: string;
  model: string | null;
  model_settings: string | null;
  context_window_limit: number | null;
  archived: number;
  hidden: number;
  deleted: number;
  last_message_at: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * One stored message, as Letta stores it: `content` is the JSON array of content parts; `text` is the searchable
 * plain text derived from it. `conversation_id` NULL is the agent's default conversation.
 */
export interface MessageRow {
  seq: Generated<number>;
  id: string;
  agent_id: string;
  conversation_id: string | null;
  role: string;
  content: string;
  text: string;
  name: string | null;
  tool_calls: string | null;
  tool_call_id: string | null;
  tool_returns: string | null;
  step_id: string | null;
  run_id: string | null;
  otid: string | null;
  group_id: string | null;
  sender_id: string | null;
  model: string | null;
  is_err: number;
  approval_request_id: string | null;
  approve: number | null;
  denial_reason: string | null;
  approvals: string | null;
  created_at: string;
}

export interface Database {
  agents: AgentRow;
  blocks: BlockRow;
  agent_blocks: AgentBlockRow;
  agent_tags: TagRow;
  block_tags: TagRow;
  tools: ToolRow;
  agent_tools: AgentToolRow;
  identities: IdentityRow;
  identity_agents: IdentityLinkRow;
  identity_blocks: IdentityLinkRow;
  conversations: ConversationRow;
  messages: MessageRow;
}
