import { z } from 'zod';
import { embeddingConfigSchema } from './agent.js';
import { idOf, jsonObject, opt, pageQuery, queryArray, queryBool, queryInt, queryString } from './common.js';

/** Audit fields every Letta resource carries; Cairn has no users, so the ids are null. */
export const audit = {
  created_at: z.string(),
  updated_at: z.string().nullable(),
  created_by_id: z.string().nullable(),
  last_updated_by_id: z.string().nullable(),
};

/** Largest `top_k` / `limit` a search accepts: beyond this a caller wants a list, not a ranking. */
export const MAX_TOP_K = 1000;

const passageText = z.string().refine((t) => t.trim().length > 0, { message: 'text must not be empty' });
const tagList = opt(z.array(z.string().min(1)));

export const passageSchema = z
  .object({
    id: z.string(),
    text: z.string(),
    embedding: z.array(z.number()).nullable(),
    embedding_config: embeddingConfigSchema.nullable(),
    archive_id: z.string().nullable(),
    file_id: z.string().nullable(),
    file_name: z.string().nullable(),
    source_id: z.string().nullable(),
    metadata: jsonObject.nullable(),
    tags: z.array(z.string()).nullable(),
    is_deleted: z.boolean(),
    ...audit,
  })
  .meta({ id: 'Passage' });
export type Passage = z.infer<typeof passageSchema>;

export const createArchivalMemorySchema = z.object({
  text: passageText,
  tags: tagList,
  created_at: opt(z.string()),
});
export type CreateArchivalMemory = z.infer<typeof createArchivalMemorySchema>;

export const passageCreateSchema = createArchivalMemorySchema.extend({ metadata: opt(jsonObject) });
export type PassageCreate = z.infer<typeof passageCreateSchema>;

export const passageBatchCreateSchema = z.object({ passages: z.array(passageCreateSchema).min(1).max(10_000) });

export const listArchivalMemoryQuery = z.object({
  after: queryString(),
  before: queryString(),
  limit: queryInt({ min: 1, max: 10_000 }).transform((v) => v ?? 100),
  search: queryString(),
  ascending: queryBool(true),
});

/** Cairn extension: which ranking to use. `hybrid` (default) fuses full-text and vector ranks. */
export const searchModeSchema = z.enum(['hybrid', 'lexical', 'vector']);
export type SearchMode = z.infer<typeof searchModeSchema>;

export const archivalSearchQuery = z.object({
  query: z.string({ message: 'query is required' }),
  tags: queryArray(z.string()),
  tag_match_mode: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['any', 'all']).default('any')),
  top_k: queryInt({ min: 1, max: MAX_TOP_K }),
  start_datetime: queryString(),
  end_datetime: queryString(),
  mode: z.preprocess((v) => (v === '' ? undefined : v), searchModeSchema.default('hybrid')),
});

export const archivalSearchResultSchema = z
  .object({ id: z.string(), timestamp: z.string(), content: z.string(), tags: z.array(z.string()) })
  .meta({ id: 'ArchivalMemorySearchResult' });
export const archivalSearchResponseSchema = z
  .object({ results: z.array(archivalSearchResultSchema), count: z.number().int() })
  .meta({ id: 'ArchivalMemorySearchResponse' });

export const passageSearchBody = z.object({
  query: opt(z.string()),
  agent_id: opt(idOf('agent')),
  archive_id: opt(idOf('archive')),
  tags: tagList,
  tag_match_mode: z.enum(['any', 'all']).default('any'),
  limit: z.number().int().min(1).max(100).default(50),
  start_date: opt(z.string()),
  end_date: opt(z.string()),
});
export type PassageSearchBody = z.infer<typeof passageSearchBody>;

export const passageSearchResultSchema = z
  .object({ passage: passageSchema, score: z.number(), metadata: jsonObject })
  .meta({ id: 'PassageSearchResult' });

export const archiveSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    vector_db_provider: z.literal('native'),
    embedding_config: embeddingConfigSchema.nullable(),
    metadata: jsonObject.nullable(),
    ...audit,
  })
  .meta({ id: 'Archive' });
export type Archive = z.infer<typeof archiveSchema>;

export const archiveCreateSchema = z.object({
  name: z.string().trim().min(1),
  description: opt(z.string()),
  embedding: opt(z.string().min(1)),
  embedding_config: opt(jsonObject),
});
export type ArchiveCreate = z.infer<typeof archiveCreateSchema>;

export const archiveUpdateSchema = z.object({ name: opt(z.string().trim().min(1)), description: opt(z.string()) });

export const listArchivesQuery = pageQuery(50).extend({ name: queryString(), agent_id: queryString() });

export const archiveIdParams = z.object({ archive_id: idOf('archive') });

export const embeddingStatusSchema = z.object({
  total: z.number().int(),
  embedded: z.number().int(),
  pending: z.number().int(),
  failing: z.number().int(),
  embedding: z.string().nullable(),
});
