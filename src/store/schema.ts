import type { ColumnType, Generated } from 'kysely';

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
  /** Letta's per-agent open-file overrides (migration 0015); null: derived from the context window. */
  max_files_open: ColumnType<number | null, number | null | undefined, number | null>;
  per_file_view_window_char_limit: ColumnType<number | null, number | null | undefined, number | null>;
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

export interface ArchiveRow {
  seq: Generated<number>;
  id: string;
  name: string;
  description: string | null;
  embedding: string;
  embedding_config: string;
  metadata: string | null;
  owner_agent_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface AgentArchiveRow {
  agent_id: string;
  archive_id: string;
  created_at: string;
}

export type EmbedStatus = 'pending' | 'ready';

/** An archival passage; the `embed_*` columns are its place in the background embedding queue. */
export interface PassageRow {
  seq: Generated<number>;
  id: string;
  archive_id: string;
  text: string;
  metadata: string;
  created_at: string;
  updated_at: string;
  embed_status: EmbedStatus;
  embed_attempts: number;
  embed_next_at: string;
  embed_lease_until: string | null;
  embed_error: string | null;
}

/** A passage's vector, with the model and dimension it was made with; a query only meets its own model's rows. */
export interface PassageVectorRow {
  passage_id: string;
  archive_id: string;
  model: string;
  dim: number;
  embedding: unknown;
}

/** One send (a turn); `usage` is the accumulated LettaUsageStatistics JSON. */
export interface RunRow {
  seq: Generated<number>;
  id: string;
  agent_id: string;
  conversation_id: string | null;
  status: string;
  stop_reason: string | null;
  background: number;
  streamed: number;
  metadata: string | null;
  request_config: string | null;
  callback_url: string | null;
  usage: string;
  ttft_ns: number | null;
  total_duration_ns: number | null;
  created_at: string;
  completed_at: string | null;
  heartbeat_at: string | null;
  /** `agent:thread` while this run holds the thread's turn lock (unique), NULL once released. */
  thread_lock: string | null;
}

export interface StepRow {
  seq: Generated<number>;
  id: string;
  run_id: string;
  agent_id: string;
  model: string | null;
  model_handle: string | null;
  context_window_limit: number | null;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_input_tokens: number | null;
  reasoning_tokens: number | null;
  stop_reason: string | null;
  status: string;
  error_type: string | null;
  error_data: string | null;
  llm_ms: number | null;
  duration_ms: number | null;
  created_at: string;
  feedback: string | null;
  /** JSON array of strings. */
  tags: string | null;
}

export interface RunChunkRow {
  seq: Generated<number>;
  run_id: string;
  seq_id: number;
  data: string;
}

/** One write of a block: what it left the block as, and who made it (`src/store/migrations/0009-block-history.ts`). */
export interface BlockHistoryRow {
  seq: Generated<number>;
  block_id: string;
  version: number;
  label: string;
  value: string;
  char_limit: number;
  description: string | null;
  read_only: number;
  actor_kind: string;
  actor_name: string | null;
  restored_from: number | null;
  created_at: string;
}

export interface McpServerRow {
  seq: Generated<number>;
  id: string;
  server_name: string;
  server_type: string;
  /** JSON: command, args (stdio); server_url, auth_header (HTTP). */
  config: string;
  /** One sealed value (src/lib/secrets.ts) of the JSON {env, auth_token, custom_headers}; null when there are none. */
  secrets: string | null;
  project_id: string | null;
  created_at: string;
  updated_at: string;
}

/** A BYOK LLM provider (`src/store/migrations/0016-providers.ts`). */
export interface ProviderRow {
  seq: Generated<number>;
  id: string;
  name: string;
  provider_type: string;
  base_url: string | null;
  region: string | null;
  api_version: string | null;
  /** Sealed values (src/lib/secrets.ts); null when the provider has none. */
  api_key_enc: string | null;
  access_key_enc: string | null;
  /** JSON array of the model names last synced from the provider. */
  models: string;
  last_synced: string | null;
  created_at: string;
  updated_at: string;
}

/** A multi-agent group (`src/store/migrations/0013-groups.ts`). */
export interface GroupRow {
  seq: Generated<number>;
  id: string;
  manager_type: string;
  description: string;
  manager_agent_id: string | null;
  sleeptime_agent_frequency: number | null;
  turns_counter: number;
  last_processed_message_id: string | null;
  max_turns: number | null;
  termination_token: string | null;
  hidden: number;
  project_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface McpServerToolRow {
  tool_id: string;
  mcp_server_id: string;
}

export interface GroupAgentRow {
  group_id: string;
  agent_id: string;
  position: number;
}

export interface GroupBlockRow {
  group_id: string;
  block_id: string;
}

export interface FolderRow {
  seq: Generated<number>;
  id: string;
  name: string;
  description: string | null;
  instructions: string | null;
  metadata: string | null;
  archive_id: string;
  created_at: string;
  updated_at: string;
}

export type FileProcessingStatus = 'pending' | 'parsing' | 'embedding' | 'completed' | 'error';

export interface FolderFileRow {
  seq: Generated<number>;
  id: string;
  folder_id: string;
  file_name: string;
  original_file_name: string;
  file_type: string;
  file_size: number;
  processing_status: FileProcessingStatus;
  error_message: string | null;
  total_chunks: number | null;
  content: string | null;
  created_at: string;
  updated_at: string;
  /** Refreshed by the process holding the upload until it is parsed; a stale one means that process died. */
  heartbeat_at: string | null;
}

export interface FolderFilePassageRow {
  passage_id: string;
  file_id: string;
}

export interface AgentFolderRow {
  agent_id: string;
  folder_id: string;
  created_at: string;
}

export interface AgentFileRow {
  seq: Generated<number>;
  id: string;
  agent_id: string;
  file_id: string;
  folder_id: string;
  file_name: string;
  is_open: number;
  visible_content: string | null;
  start_line: number | null;
  end_line: number | null;
  last_accessed_at: string;
  created_at: string;
}

/** The control plane (main database only): see migration 0017. */
export interface OrganizationRow {
  seq: Generated<number>;
  id: string;
  name: string;
  privileged_tools: number;
  created_at: string;
  updated_at: string;
}

export interface UserRow {
  seq: Generated<number>;
  id: string;
  organization_id: string;
  name: string;
  created_at: string;
  updated_at: string;
}

export interface ApiKeyRow {
  seq: Generated<number>;
  id: string;
  prefix: string;
  key_hash: string;
  user_id: string;
  organization_id: string;
  is_admin: number;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** One raw git object of an agent's memory repository (migration 0015). */
export interface MemoryGitObjectRow {
  seq: Generated<number>;
  agent_id: string;
  sha: string;
  kind: string;
  data: Buffer;
}

export interface MemoryGitHeadRow {
  agent_id: string;
  commit_sha: string;
  updated_at: string;
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
  archives: ArchiveRow;
  agent_archives: AgentArchiveRow;
  passages: PassageRow;
  passage_tags: TagRow;
  passage_vectors: PassageVectorRow;
  runs: RunRow;
  steps: StepRow;
  run_chunks: RunChunkRow;
  block_history: BlockHistoryRow;
  mcp_servers: McpServerRow;
  mcp_server_tools: McpServerToolRow;
  groups: GroupRow;
  group_agents: GroupAgentRow;
  group_blocks: GroupBlockRow;
  folders: FolderRow;
  folder_files: FolderFileRow;
  folder_file_passages: FolderFilePassageRow;
  agent_folders: AgentFolderRow;
  agent_files: AgentFileRow;
  providers: ProviderRow;
  organizations: OrganizationRow;
  users: UserRow;
  api_keys: ApiKeyRow;
  memory_git_objects: MemoryGitObjectRow;
  memory_git_heads: MemoryGitHeadRow;
}
