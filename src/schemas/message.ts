import { z } from 'zod';
import { idOf, jsonObject, opt, pageQuery, queryArray, queryString } from './common.js';

export const MESSAGE_TYPES = [
  'system_message',
  'user_message',
  'assistant_message',
  'reasoning_message',
  'hidden_reasoning_message',
  'tool_call_message',
  'tool_return_message',
  'approval_request_message',
  'approval_response_message',
  'summary_message',
  'event_message',
] as const;

const contentPart = z.looseObject({ type: z.string() });
const content = z.union([z.string(), z.array(contentPart)]);

/** One `MessageCreateUnion` item (§4.5); an object with `approve`/`approval_request_id` is an approval. */
export const messageCreateSchema = z.preprocess(
  (v) =>
    v && typeof v === 'object' && !('type' in v) && ('approve' in v || 'approval_request_id' in v)
      ? { ...v, type: 'approval' }
      : v,
  z.discriminatedUnion('type', [
    z.looseObject({
      type: z.literal('message').default('message'),
      role: z.enum(['user', 'system', 'assistant']).default('user'),
      content,
      name: opt(z.string()),
      otid: opt(z.string()),
      sender_id: opt(z.string()),
      group_id: opt(z.string()),
      batch_item_id: opt(z.string()),
    }),
    z.looseObject({
      type: z.literal('approval'),
      approvals: opt(z.array(z.looseObject({}))),
      approve: opt(z.boolean()),
      approval_request_id: opt(z.string()),
      reason: opt(z.string()),
      otid: opt(z.string()),
      group_id: opt(z.string()),
    }),
    z.looseObject({
      type: z.literal('tool_return'),
      tool_returns: z.array(z.looseObject({})),
      otid: opt(z.string()),
      group_id: opt(z.string()),
    }),
  ]),
);
export type MessageCreate = z.infer<typeof messageCreateSchema>;

const clientTool = z.looseObject({
  name: z.string().min(1),
  description: opt(z.string()),
  parameters: opt(jsonObject),
});
const clientSkill = z.looseObject({ name: z.string(), description: opt(z.string()), location: opt(z.string()) });

const requestFields = {
  messages: opt(z.array(messageCreateSchema)),
  input: opt(content),
  max_steps: opt(z.number().int().positive()),
  use_assistant_message: opt(z.boolean()),
  assistant_message_tool_name: opt(z.string()),
  assistant_message_tool_kwarg: opt(z.string()),
  include_return_message_types: opt(z.array(z.enum(MESSAGE_TYPES))),
  enable_thinking: opt(z.string()),
  client_tools: opt(z.array(clientTool)),
  client_skills: opt(z.array(clientSkill)),
  override_model: opt(z.string()),
  override_system: opt(z.string()),
  system: opt(z.string()),
  include_compaction_messages: opt(z.boolean()),
  return_logprobs: opt(z.boolean()),
  top_logprobs: opt(z.number().int()),
  return_token_ids: opt(z.boolean()),
};

const exactlyOneInput = (v: { messages?: unknown[] | null | undefined; input?: unknown }, ctx: z.RefinementCtx) => {
  const hasMessages = Array.isArray(v.messages) && v.messages.length > 0;
  const hasInput = v.input !== undefined && v.input !== null;
  if (hasMessages === hasInput)
    ctx.addIssue({
      code: 'custom',
      path: ['messages'],
      message: "Exactly one of 'messages' or 'input' must be provided",
    });
};

const streamingFields = {
  streaming: opt(z.boolean()),
  stream_tokens: opt(z.boolean()),
  include_pings: opt(z.boolean()),
  background: opt(z.boolean()),
};

/** `LettaStreamingRequest`; `streamingDefault` is true for conversation sends (§4.7). */
export const sendMessageSchema = (streamingDefault: boolean) =>
  z
    .looseObject({ ...requestFields, ...streamingFields, agent_id: opt(idOf('agent')), callback_url: opt(z.string()) })
    .superRefine(exactlyOneInput)
    .superRefine((v, ctx) => {
      const streaming = v.streaming ?? streamingDefault;
      if (streaming) return;
      for (const [field, bad] of [
        ['stream_tokens', v.stream_tokens === true],
        ['include_pings', v.include_pings === false],
        ['background', v.background === true],
      ] as const) {
        if (bad) ctx.addIssue({ code: 'custom', path: [field], message: `${field} requires streaming=true` });
      }
    })
    .meta({ id: streamingDefault ? 'ConversationMessageRequest' : 'LettaStreamingRequest' });
export type SendMessageBody = z.infer<ReturnType<typeof sendMessageSchema>>;

export const asyncMessageSchema = z
  .looseObject({ ...requestFields, callback_url: opt(z.string()) })
  .superRefine(exactlyOneInput)
  .meta({ id: 'LettaAsyncRequest' });

export const cancelSchema = z.looseObject({ run_ids: opt(z.array(z.string())) });

export const listMessagesQuery = pageQuery(100).extend({
  group_id: queryString(),
  conversation_id: queryString(),
  use_assistant_message: queryString(),
  include_err: queryString(),
  include_return_message_types: queryArray(z.enum(MESSAGE_TYPES)),
  agent_id: queryString(),
});
export type ListMessagesQuery = z.infer<typeof listMessagesQuery>;

export const resetMessagesSchema = z.looseObject({ add_default_initial_messages: opt(z.boolean()) });

export const lettaMessageSchema = z
  .looseObject({ id: z.string(), message_type: z.string() })
  .meta({ id: 'LettaMessage' });

export const compactSchema = z.looseObject({ agent_id: opt(idOf('agent')), compaction_settings: opt(jsonObject) });

export const generateSchema = z
  .looseObject({
    prompt: z.string().min(1),
    system_prompt: opt(z.string()),
    override_model: opt(z.string()),
    response_schema: opt(jsonObject),
  })
  .meta({ id: 'GenerateRequest' });
