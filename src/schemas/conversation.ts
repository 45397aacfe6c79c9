import { z } from 'zod';
import { idOf, jsonObject, opt, pageQuery, queryBool, queryString } from './common.js';

/** Conversation ids are `conv-<uuid4>`; `default` names the agent's own thread (with `agent_id` beside it). */
export const conversationIdParams = z.object({ conversation_id: z.union([idOf('conv'), z.literal('default')]) });

export const conversationSchema = z.looseObject({ id: z.string(), agent_id: z.string() }).meta({ id: 'Conversation' });

export const createConversationQuery = z.object({ agent_id: idOf('agent') });
export const createConversationSchema = z.looseObject({
  summary: opt(z.string()),
  description: opt(z.string()),
  isolated_block_labels: opt(z.array(z.string())),
  model: opt(z.string()),
  model_settings: opt(jsonObject),
  context_window_limit: opt(z.number().int().positive()),
  hidden: opt(z.boolean()),
});
export type CreateConversation = z.infer<typeof createConversationSchema>;

export const updateConversationSchema = z.looseObject({
  summary: opt(z.string()),
  description: opt(z.string()),
  archived: opt(z.boolean()),
  model: opt(z.string()),
  model_settings: opt(jsonObject),
  context_window_limit: opt(z.number().int().positive()),
  last_message_at: opt(z.string()),
});
export type UpdateConversation = z.infer<typeof updateConversationSchema>;

export const listConversationsQuery = pageQuery(50).extend({
  agent_id: queryString(),
  summary_search: queryString(),
  order_by: queryString(),
  archive_status: queryString(),
});

export const agentIdQuery = z.object({ agent_id: opt(idOf('agent')) });
export const forkQuery = z.object({
  agent_id: opt(idOf('agent')),
  message_id: opt(idOf('message')),
  hidden: queryBool(false),
});
