import { z } from 'zod';
import { embeddingConfigSchema } from './agent.js';
import { audit } from './archival.js';
import { idOf, jsonObject, opt, pageQuery, queryBool, queryOptionalBool, queryString } from './common.js';

export const folderSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    instructions: z.string().nullable(),
    metadata: jsonObject.nullable(),
    embedding_config: embeddingConfigSchema,
    ...audit,
  })
  .meta({ id: 'Folder' });
export type Folder = z.infer<typeof folderSchema>;

export const folderCreateSchema = z.object({
  name: z.string().trim().min(1),
  description: opt(z.string()),
  instructions: opt(z.string()),
  metadata: opt(jsonObject),
  embedding: opt(z.string().min(1)),
  embedding_chunk_size: opt(z.number().int().min(1)),
  embedding_config: opt(jsonObject),
});
export type FolderCreate = z.infer<typeof folderCreateSchema>;

export const folderUpdateSchema = z.object({
  name: opt(z.string().trim().min(1)),
  description: opt(z.string()),
  instructions: opt(z.string()),
  metadata: opt(jsonObject),
});
export type FolderUpdate = z.infer<typeof folderUpdateSchema>;

export const fileStatusSchema = z.enum(['pending', 'parsing', 'embedding', 'completed', 'error']);

export const fileMetadataSchema = z
  .object({
    id: z.string(),
    source_id: z.string(),
    file_name: z.string().nullable(),
    original_file_name: z.string().nullable(),
    file_path: z.string().nullable(),
    file_type: z.string().nullable(),
    file_size: z.number().nullable(),
    file_creation_date: z.string().nullable(),
    file_last_modified_date: z.string().nullable(),
    processing_status: fileStatusSchema,
    error_message: z.string().nullable(),
    total_chunks: z.number().nullable(),
    chunks_embedded: z.number().nullable(),
    content: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string().nullable(),
  })
  .meta({ id: 'FileMetadata' });
export type FileMetadata = z.infer<typeof fileMetadataSchema>;

export const agentFileSchema = z
  .object({
    id: z.string(),
    file_id: z.string(),
    file_name: z.string(),
    folder_id: z.string(),
    folder_name: z.string(),
    is_open: z.boolean(),
    last_accessed_at: z.string().nullable(),
    visible_content: z.string().nullable(),
    start_line: z.number().nullable(),
    end_line: z.number().nullable(),
  })
  .meta({ id: 'AgentFileAttachment' });
export type AgentFile = z.infer<typeof agentFileSchema>;

export const agentFilesPageSchema = z
  .object({ files: z.array(agentFileSchema), next_cursor: z.string().nullable(), has_more: z.boolean() })
  .meta({ id: 'PaginatedAgentFiles' });

export const foldersMetadataSchema = z
  .object({
    total_sources: z.number(),
    total_files: z.number(),
    total_size: z.number(),
    sources: z.array(
      z.object({
        source_id: z.string(),
        source_name: z.string(),
        file_count: z.number(),
        total_size: z.number(),
        files: z.array(z.object({ file_id: z.string(), file_name: z.string(), file_size: z.number().nullable() })),
      }),
    ),
  })
  .meta({ id: 'OrganizationSourcesStats' });

export const duplicateHandlingSchema = z.enum(['skip', 'error', 'suffix', 'replace']);
export type DuplicateHandling = z.infer<typeof duplicateHandlingSchema>;

export const uploadQuery = z.object({
  duplicate_handling: z.preprocess((v) => (v === '' ? undefined : v), duplicateHandlingSchema.default('suffix')),
  name: queryString(),
});

export const listFoldersQuery = pageQuery(50).extend({ name: queryString() });
export const listFilesQuery = pageQuery(1000).extend({ include_content: queryBool(false) });
export const includeContentQuery = z.object({ include_content: queryBool(false) });
export const listAgentFilesQuery = pageQuery(100).extend({ cursor: queryString(), is_open: queryOptionalBool() });
export const metadataQuery = z.object({ include_detailed_per_source_metadata: queryBool(false) });

export const folderIdOf = () => idOf('source');
export const fileIdOf = () => idOf('file');
