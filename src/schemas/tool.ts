import { z } from 'zod';
import { jsonObject } from './common.js';

export const TOOL_TYPES = [
  'custom',
  'letta_core',
  'letta_memory_core',
  'letta_multi_agent_core',
  'letta_sleeptime_core',
  'letta_voice_sleeptime_core',
  'letta_builtin',
  'letta_files_core',
  'external_mcp',
  'external_composio',
  'external_langchain',
] as const;
export const toolTypeSchema = z.enum(TOOL_TYPES);
export type ToolType = z.infer<typeof toolTypeSchema>;

export const toolSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    tool_type: toolTypeSchema,
    source_type: z.string(),
    source_code: z.string().nullable(),
    json_schema: jsonObject,
    args_json_schema: jsonObject.nullable(),
    return_char_limit: z.number().int(),
    pip_requirements: z.array(z.unknown()).nullable(),
    npm_requirements: z.array(z.unknown()).nullable(),
    default_requires_approval: z.boolean().nullable(),
    enable_parallel_execution: z.boolean(),
    tags: z.array(z.string()),
    metadata_: jsonObject,
    project_id: z.string().nullable(),
    created_by_id: z.string().nullable(),
    last_updated_by_id: z.string().nullable(),
  })
  .meta({ id: 'Tool' });
export type Tool = z.infer<typeof toolSchema>;
