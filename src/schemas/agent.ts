import { z } from 'zod';
import { isValidTimeZone } from '../lib/zoned-time.js';
import { blockSchema, createBlockSchema } from './block.js';
import { idOf, jsonObject, opt, pageQuery, queryArray, queryBool, queryString } from './common.js';
import { identitySchema } from './identity.js';
import { toolSchema } from './tool.js';

export const AGENT_TYPES = [
  'memgpt_agent',
  'memgpt_v2_agent',
  'letta_v1_agent',
  'react_agent',
  'workflow_agent',
  'split_thread_agent',
  'sleeptime_agent',
  'voice_convo_agent',
  'voice_sleeptime_agent',
] as const;
export const agentTypeSchema = z.enum(AGENT_TYPES);
export type AgentType = z.infer<typeof agentTypeSchema>;

export const STOP_REASONS = [
  'end_turn',
  'error',
  'llm_api_error',
  'invalid_llm_response',
  'invalid_tool_call',
  'max_steps',
  'max_tokens_exceeded',
  'no_tool_call',
  'tool_rule',
  'cancelled',
  'insufficient_credits',
  'requires_approval',
  'context_window_overflow_in_system_prompt',
] as const;
export const stopReasonSchema = z.enum(STOP_REASONS);

export const INCLUDE_VALUES = [
  'agent.blocks',
  'agent.identities',
  'agent.managed_group',
  'agent.pending_approval',
  'agent.secrets',
  'agent.sources',
  'agent.tags',
  'agent.tools',
] as const;
export type AgentInclude = (typeof INCLUDE_VALUES)[number];

/** Agent names follow Letta's `^[\w '\-]+$`. */
const agentName = z
  .string()
  .regex(/^[\w '-]+$/u, { message: "name may contain only letters, digits, '_', '-', ' ' and \"'\"" });

/** The agent's timezone renders dates in its prompt and archival results, so it must be one the runtime knows. */
const ianaTimezone = z
  .string()
  .refine(isValidTimeZone, { message: 'timezone must be an IANA time zone name, e.g. "Europe/Berlin" or "UTC"' });

export const toolRuleSchema = z.looseObject({ tool_name: z.string(), type: z.string() });

const agentFields = {
  name: opt(agentName),
  description: opt(z.string()),
  metadata: opt(jsonObject),
  system: opt(z.string()),
  tool_rules: opt(z.array(toolRuleSchema)),
  tags: opt(z.array(z.string())),
  tool_ids: opt(z.array(idOf('tool'))),
  block_ids: opt(z.array(idOf('block'))),
  identity_ids: opt(z.array(idOf('identity'))),
  model: opt(z.string().min(1)),
  embedding: opt(z.string().min(1)),
  llm_config: opt(jsonObject),
  embedding_config: opt(jsonObject),
  model_settings: opt(jsonObject),
  compaction_settings: opt(jsonObject),
  context_window_limit: opt(z.number().int().positive()),
  max_tokens: opt(z.number().int().positive()),
  response_format: opt(jsonObject),
  message_buffer_autoclear: opt(z.boolean()),
  enable_sleeptime: opt(z.boolean()),
  timezone: opt(ianaTimezone),
  hidden: opt(z.boolean()),
  project_id: opt(z.string()),
  template_id: opt(z.string()),
  base_template_id: opt(z.string()),
  secrets: opt(z.record(z.string(), z.string())),
  tool_exec_environment_variables: opt(z.record(z.string(), z.string())),
  parallel_tool_calls: opt(z.boolean()),
  max_files_open: opt(z.number().int().positive()),
  per_file_view_window_char_limit: opt(z.number().int().positive()),
};

export const createAgentSchema = z
  .object({
    ...agentFields,
    agent_type: opt(agentTypeSchema),
    memory_blocks: opt(z.array(createBlockSchema)),
    tools: opt(z.array(z.string())),
    include_base_tools: opt(z.boolean()),
    include_base_tool_rules: opt(z.boolean()),
    include_multi_agent_tools: opt(z.boolean()),
    initial_message_sequence: opt(z.array(z.looseObject({}))),
    folder_ids: opt(z.array(z.string())),
    source_ids: opt(z.array(z.string())),
  })
  .meta({ id: 'CreateAgentRequest' });
export type CreateAgent = z.infer<typeof createAgentSchema>;

export const updateAgentSchema = z
  .object({
    ...agentFields,
    message_ids: opt(z.array(idOf('message'))),
    last_run_completion: opt(z.string()),
    last_run_duration_ms: opt(z.number().int()),
    last_stop_reason: opt(stopReasonSchema),
  })
  .meta({ id: 'UpdateAgent' });
export type UpdateAgent = z.infer<typeof updateAgentSchema>;

export const llmConfigSchema = z
  .looseObject({
    model: z.string(),
    model_endpoint_type: z.string(),
    model_endpoint: z.string().nullable(),
    provider_name: z.string().nullable(),
    handle: z.string().nullable(),
    context_window: z.number().int(),
    temperature: z.number(),
    max_tokens: z.number().int().nullable(),
    parallel_tool_calls: z.boolean().nullable(),
  })
  .meta({ id: 'LLMConfig' });

export const embeddingConfigSchema = z
  .looseObject({
    embedding_endpoint_type: z.string(),
    embedding_endpoint: z.string().nullable(),
    embedding_model: z.string(),
    embedding_dim: z.number().int(),
    embedding_chunk_size: z.number().int().nullable(),
    handle: z.string().nullable(),
    batch_size: z.number().int(),
  })
  .meta({ id: 'EmbeddingConfig' });

export const agentStateSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    metadata: jsonObject.nullable(),
    agent_type: agentTypeSchema,
    system: z.string(),
    tool_rules: z.array(toolRuleSchema),
    message_ids: z.array(z.string()),
    llm_config: llmConfigSchema,
    embedding_config: embeddingConfigSchema.nullable(),
    model: z.string().nullable(),
    embedding: z.string().nullable(),
    model_settings: jsonObject.nullable(),
    compaction_settings: jsonObject.nullable(),
    response_format: jsonObject.nullable(),
    memory: z.object({
      blocks: z.array(blockSchema),
      file_blocks: z.array(z.unknown()),
      prompt_template: z.string(),
      agent_type: z.string(),
    }),
    blocks: z.array(blockSchema),
    tools: z.array(toolSchema),
    sources: z.array(z.unknown()),
    tags: z.array(z.string()),
    identity_ids: z.array(z.string()),
    identities: z.array(identitySchema),
    secrets: z.array(z.unknown()),
    tool_exec_environment_variables: z.array(z.unknown()),
    pending_approval: z.unknown().nullable(),
    managed_group: z.unknown().nullable(),
    multi_agent_group: z.unknown().nullable(),
    project_id: z.string().nullable(),
    template_id: z.string().nullable(),
    base_template_id: z.string().nullable(),
    deployment_id: z.string().nullable(),
    entity_id: z.string().nullable(),
    message_buffer_autoclear: z.boolean(),
    enable_sleeptime: z.boolean().nullable(),
    last_run_completion: z.string().nullable(),
    last_run_duration_ms: z.number().nullable(),
    last_stop_reason: z.string().nullable(),
    timezone: z.string(),
    max_files_open: z.number().nullable(),
    per_file_view_window_char_limit: z.number().nullable(),
    hidden: z.boolean().nullable(),
    created_by_id: z.string().nullable(),
    last_updated_by_id: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'AgentState' });
export type AgentState = z.infer<typeof agentStateSchema>;

export const agentIdParams = z.object({ agent_id: idOf('agent') });

const includeQuery = {
  include: queryArray(z.enum(INCLUDE_VALUES)),
  include_relationships: queryArray(z.string()),
};
export const retrieveAgentQuery = z.object(includeQuery);

/** `GET /blocks/{id}/agents`, `GET /identities/{id}/agents`. */
export const linkedAgentsQuery = pageQuery(50).extend(includeQuery);

export const listAgentsQuery = pageQuery(50).extend({
  ...includeQuery,
  name: queryString(),
  tags: queryArray(z.string()),
  match_all_tags: queryBool(false),
  query_text: queryString(),
  project_id: queryString(),
  template_id: queryString(),
  base_template_id: queryString(),
  identity_id: queryString(),
  identifier_keys: queryArray(z.string()),
  order_by: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum(['created_at', 'updated_at', 'last_run_completion']).optional(),
  ),
  ascending: queryBool(false),
  show_hidden_agents: queryBool(false),
  last_stop_reason: z.preprocess((v) => (v === '' ? undefined : v), stopReasonSchema.optional()),
});
export type ListAgentsQuery = z.infer<typeof listAgentsQuery>;

export const countAgentsQuery = z.object({
  name: queryString(),
  tags: queryArray(z.string()),
  match_all_tags: queryBool(false),
});
