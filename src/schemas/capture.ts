import { z } from 'zod';
import { idOf } from './common.js';

/**
 * Cairn extensions for clients that record history without running the agent (Claude Code hooks, MCP
 * `log_session_entry`): `POST /v1/agents/{id}/messages/capture`, and recall search over `POST /v1/messages/search`.
 */
export const captureMessageSchema = z.object({
  role: z.enum(['user', 'assistant', 'system']),
  content: z.string().min(1).max(100_000),
  created_at: z.string().optional(),
  otid: z.string().min(1).max(200).optional(),
});

export const captureBodySchema = z.object({
  messages: z.array(captureMessageSchema).min(1).max(500),
  conversation_id: idOf('conv').optional(),
});

export const captureResultSchema = z.object({
  captured: z.number().int(),
  skipped: z.number().int(),
  message_ids: z.array(z.string()),
});

export const messageSearchBodySchema = z.object({
  query: z.string(),
  agent_id: idOf('agent').nullish(),
  conversation_id: z.union([z.literal('default'), idOf('conv')]).nullish(),
  start_date: z.string().nullish(),
  end_date: z.string().nullish(),
  limit: z.number().int().min(1).max(1000).optional(),
  search_mode: z.enum(['vector', 'fts', 'hybrid']).optional(),
  /** Cairn extension: which roles to search (default user and assistant). */
  roles: z.array(z.enum(['user', 'assistant', 'system', 'tool'])).optional(),
});

/** `POST /v1/agents/messages/search` (`MessageSearchRequest`): stored messages with their ranks. */
export const orgMessageSearchSchema = z.object({
  query: z.string().nullish(),
  search_mode: z.enum(['vector', 'fts', 'hybrid']).optional(),
  roles: z.array(z.enum(['user', 'assistant', 'system', 'tool'])).nullish(),
  agent_id: idOf('agent').nullish(),
  project_id: z.string().nullish(),
  template_id: z.string().nullish(),
  conversation_id: z.union([z.literal('default'), idOf('conv')]).nullish(),
  limit: z.number().int().min(1).max(100).optional(),
  start_date: z.string().nullish(),
  end_date: z.string().nullish(),
});

export type OrgMessageSearchBody = z.infer<typeof orgMessageSearchSchema>;
export type CaptureInput = z.infer<typeof captureMessageSchema>;
export type CaptureResult = z.infer<typeof captureResultSchema>;
export type MessageSearchBody = z.infer<typeof messageSearchBodySchema>;
