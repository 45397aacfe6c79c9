import { z } from 'zod';
import { agentIdParams } from './agent.js';
import { idOf, jsonObject, opt, pageQuery, queryArray, queryOptionalBool, queryString } from './common.js';
import { toolSchema } from './tool.js';

export const toolIdParams = z.object({ tool_id: idOf('tool') });

/** Letta's `source_type` values for tools Cairn can run (`json` is the stored form of schema-only MCP tools). */
export const toolSourceTypeSchema = z.enum(['python', 'typescript', 'javascript']);

const requirement = z.looseObject({ name: z.string().min(1), version: opt(z.string()) });

const toolFields = {
  description: opt(z.string()),
  tags: opt(z.array(z.string())),
  json_schema: opt(jsonObject),
  args_json_schema: opt(jsonObject),
  pip_requirements: opt(z.array(requirement)),
  npm_requirements: opt(z.array(requirement)),
  default_requires_approval: opt(z.boolean()),
  enable_parallel_execution: opt(z.boolean()),
};

export const toolCreateSchema = z
  .object({
    ...toolFields,
    source_code: z.string(),
    source_type: toolSourceTypeSchema.default('python'),
    return_char_limit: z.number().int().min(1).max(1_000_000).default(50_000),
  })
  .meta({ id: 'ToolCreate' });
export type ToolCreate = z.infer<typeof toolCreateSchema>;

export const toolUpdateSchema = z
  .object({
    ...toolFields,
    source_code: opt(z.string()),
    source_type: opt(toolSourceTypeSchema),
    return_char_limit: opt(z.number().int().min(1).max(1_000_000)),
    metadata_: opt(jsonObject),
  })
  .meta({ id: 'ToolUpdate' });
export type ToolUpdate = z.infer<typeof toolUpdateSchema>;

/** Letta accepts repeated parameters or one comma-separated value for these lists. */
const commaList = () =>
  z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value.split(',').filter(Boolean)
        : Array.isArray(value)
          ? value.flatMap((v) => String(v).split(',')).filter(Boolean)
          : value,
    queryArray(z.string()),
  );

const toolFilterQuery = {
  name: queryString(),
  names: queryArray(z.string()),
  tool_ids: commaList(),
  search: queryString(),
  tool_types: commaList(),
  exclude_tool_types: commaList(),
  tags: queryArray(z.string()),
  return_only_letta_tools: queryOptionalBool(),
};

export const listToolsQuery = pageQuery(50).extend({
  ...toolFilterQuery,
  order_by: z.preprocess((v) => (v === '' ? undefined : v), z.literal('created_at').optional()),
});
export type ListToolsQuery = z.infer<typeof listToolsQuery>;

export const countToolsQuery = z.object({ ...toolFilterQuery, exclude_letta_tools: queryOptionalBool() });
export type CountToolsQuery = z.infer<typeof countToolsQuery>;

export const toolSearchRequestSchema = z
  .object({
    query: opt(z.string()),
    search_mode: z.enum(['vector', 'fts', 'hybrid']).default('hybrid'),
    tool_types: opt(z.array(z.string())),
    tags: opt(z.array(z.string())),
    limit: z.number().int().min(1).max(100).default(50),
  })
  .meta({ id: 'ToolSearchRequest' });
export type ToolSearchRequest = z.infer<typeof toolSearchRequestSchema>;

export const toolSearchResultSchema = z
  .object({
    tool: toolSchema,
    embedded_text: z.string().nullable(),
    fts_rank: z.number().int().nullable(),
    vector_rank: z.number().int().nullable(),
    combined_score: z.number(),
  })
  .meta({ id: 'ToolSearchResult' });

export const toolRunFromSourceSchema = z
  .object({
    source_code: z.string(),
    args: jsonObject,
    env_vars: z.record(z.string(), z.string()).default({}),
    name: opt(z.string()),
    source_type: opt(toolSourceTypeSchema),
    args_json_schema: opt(jsonObject),
    json_schema: opt(jsonObject),
    pip_requirements: opt(z.array(requirement)),
    npm_requirements: opt(z.array(requirement)),
  })
  .meta({ id: 'ToolRunFromSource' });
export type ToolRunFromSource = z.infer<typeof toolRunFromSourceSchema>;

export const toolReturnMessageSchema = z
  .looseObject({
    id: z.string(),
    date: z.string(),
    name: z.string().nullable(),
    message_type: z.literal('tool_return_message'),
    tool_return: z.string(),
    status: z.enum(['success', 'error']),
    tool_call_id: z.string(),
    stdout: z.array(z.string()).nullable(),
    stderr: z.array(z.string()).nullable(),
  })
  .meta({ id: 'ToolReturnMessage' });

export const toolExecutionResultSchema = z
  .object({
    status: z.enum(['success', 'error']),
    func_return: z.unknown(),
    agent_state: z.null(),
    stdout: z.array(z.string()).nullable(),
    stderr: z.array(z.string()).nullable(),
    sandbox_config_fingerprint: z.string().nullable(),
  })
  .meta({ id: 'ToolExecutionResult' });
export type ToolExecutionResultWire = z.infer<typeof toolExecutionResultSchema>;

export const agentToolNameParams = agentIdParams.extend({ tool_name: z.string().min(1) });

export const listAgentToolsQuery = pageQuery(50).extend({
  order_by: z.preprocess((v) => (v === '' ? undefined : v), z.literal('created_at').optional()),
});
export type ListAgentToolsQuery = z.infer<typeof listAgentToolsQuery>;

/** The OpenAPI body is `{requires_approval}`; SDK 1.12.1 sends `{body_requires_approval}`; old callers use the query. */
export const modifyApprovalBody = z
  .looseObject({ requires_approval: opt(z.boolean()), body_requires_approval: opt(z.boolean()) })
  .nullish();
export const modifyApprovalQuery = z.object({ requires_approval: queryOptionalBool() });

export const toolExecuteRequestSchema = z.object({ args: jsonObject.default({}) }).nullish();
