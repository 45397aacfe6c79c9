import { z } from 'zod';
import {
  idOf,
  jsonObject,
  opt,
  pageQuery,
  queryArray,
  queryBool,
  queryInt,
  queryOptionalBool,
  queryString,
} from './common.js';

export const DEFAULT_BLOCK_LIMIT = 100_000;

/** NUL bytes are stripped from block values, as Letta does. */
const blockValue = z.string().transform((v) => v.replaceAll('\u0000', ''));

/** Fields CreateBlock and BlockUpdate share; they differ only in what is required. */
const optionalBlockFields = {
  limit: opt(z.number().int().positive()),
  description: opt(z.string()),
  read_only: opt(z.boolean()),
  hidden: opt(z.boolean()),
  metadata: opt(jsonObject),
  tags: opt(z.array(z.string())),
  project_id: opt(z.string()),
  template_name: opt(z.string()),
  is_template: opt(z.boolean()),
  template_id: opt(z.string()),
  base_template_id: opt(z.string()),
  deployment_id: opt(z.string()),
  entity_id: opt(z.string()),
  preserve_on_migration: opt(z.boolean()),
};

export const createBlockSchema = z
  .object({
    label: z.string().min(1, 'label must not be empty'),
    value: z.preprocess((v) => v ?? '', blockValue),
    ...optionalBlockFields,
  })
  .meta({ id: 'CreateBlock' });
export type CreateBlock = z.infer<typeof createBlockSchema>;

export const blockUpdateSchema = z
  .object({
    label: opt(z.string().min(1, 'label must not be empty')),
    value: opt(blockValue),
    ...optionalBlockFields,
  })
  .meta({ id: 'BlockUpdate' });
export type BlockUpdate = z.infer<typeof blockUpdateSchema>;

export const blockSchema = z
  .object({
    id: z.string(),
    label: z.string(),
    value: z.string(),
    limit: z.number().int(),
    description: z.string().nullable(),
    read_only: z.boolean(),
    hidden: z.boolean().nullable(),
    metadata: jsonObject,
    tags: z.array(z.string()),
    project_id: z.string().nullable(),
    template_name: z.string().nullable(),
    is_template: z.boolean(),
    template_id: z.string().nullable(),
    base_template_id: z.string().nullable(),
    deployment_id: z.string().nullable(),
    entity_id: z.string().nullable(),
    preserve_on_migration: z.boolean().nullable(),
    created_by_id: z.string().nullable(),
    last_updated_by_id: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'BlockResponse' });
export type Block = z.infer<typeof blockSchema>;

export const blockIdParams = z.object({ block_id: idOf('block') });

export const listBlocksQuery = pageQuery(50).extend({
  label: queryString(),
  name: queryString(),
  templates_only: queryBool(false),
  project_id: queryString(),
  identity_id: queryString(),
  identifier_keys: queryArray(z.string()),
  tags: queryArray(z.string()),
  match_all_tags: queryBool(false),
  label_search: queryString(),
  value_search: queryString(),
  description_search: queryString(),
  connected_to_agents_count_gt: queryInt({ min: 0 }),
  connected_to_agents_count_lt: queryInt({ min: 0 }),
  connected_to_agents_count_eq: queryArray(z.coerce.number().int().min(0)),
  show_hidden_blocks: queryOptionalBool(),
  order_by: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['created_at', 'updated_at']).optional()),
});
export type ListBlocksQuery = z.infer<typeof listBlocksQuery>;
