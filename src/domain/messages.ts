import { newId } from '../lib/ids.js';
import { nowIso } from '../lib/time.js';
import { parseJson } from '../store/json.js';
import type { MessageRecord, NewMessage } from '../store/message.store.js';

/** Stored content parts (`letta/schemas/letta_message_content.py`). */
export type ContentPart =
  | { type: 'text'; text: string; signature?: string | null }
  | { type: 'image'; source: Record<string, unknown> }
  | { type: 'reasoning'; is_native: boolean; reasoning: string; signature?: string | null }
  | { type: 'redacted_reasoning'; data: string };

export interface StoredToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface StoredToolReturn {
  tool_call_id: string;
  status: 'success' | 'error';
  stdout: string[] | null;
  stderr: string[] | null;
  func_response: string;
}

export type ApprovalEntry =
  | { type: 'approval'; tool_call_id: string; approve: boolean; reason?: string | null }
  | {
      type: 'tool';
      tool_call_id: string;
      status: 'success' | 'error';
      tool_return: string;
      stdout?: string[] | null;
      stderr?: string[] | null;
    };

/** A stored row, or one built for this step and not yet inserted. */
export type MessageLike = Omit<MessageRecord, 'seq'>;

export interface MessageContext {
  agentId: string;
  conversationId: string | null;
  runId: string | null;
  stepId: string | null;
  model: string | null;
}

export function plainText(parts: ContentPart[]): string {
  return parts.map((p) => (p.type === 'text' ? p.text : p.type === 'reasoning' ? p.reasoning : '')).join('\n');
}

/** Builds a row; `text` (the recall-search column) holds text parts and tool-call arguments. */
export function messageRow(
  ctx: MessageContext,
  role: string,
  content: ContentPart[],
  extra: Partial<Omit<NewMessage, 'agent_id' | 'conversation_id' | 'role' | 'content' | 'text'>> = {},
): NewMessage {
  const calls = extra.tool_calls ? parseJson<StoredToolCall[]>(extra.tool_calls, []) : [];
  // The compiled system prompt is not conversation: left out of recall search, it also costs no full-text
  // re-index each time a block edit recompiles it.
  const text =
    role === 'system'
      ? ''
      : [plainText(content), ...calls.map((c) => `${c.function.name}(${c.function.arguments})`)]
          .filter(Boolean)
          .join('\n');
  return {
    id: extra.id ?? newId('message'),
    agent_id: ctx.agentId,
    conversation_id: ctx.conversationId,
    role,
    content: JSON.stringify(content),
    text,
    name: null,
    tool_calls: null,
    tool_call_id: null,
    tool_returns: null,
    step_id: ctx.stepId,
    run_id: ctx.runId,
    otid: null,
    group_id: null,
    sender_id: null,
    model: ctx.model,
    is_err: 0,
    approval_request_id: null,
    approve: null,
    denial_reason: null,
    approvals: null,
    created_at: nowIso(),
    ...extra,
  };
}

/**
 * Parsed JSON columns, memoised per row object: a turn keeps its in-context rows in memory and rebuilds the provider
 * request from them at every step, which must not re-parse the whole context each time.
 */
const parsedContent = new WeakMap<object, ContentPart[]>();
const parsedCalls = new WeakMap<object, StoredToolCall[]>();

export function contentOf(row: Pick<MessageRecord, 'content'>): ContentPart[] {
  let parts = parsedContent.get(row);
  if (!parts) parsedContent.set(row, (parts = parseJson<ContentPart[]>(row.content, [])));
  return parts;
}

export function toolCallsOf(row: Pick<MessageRecord, 'tool_calls'>): StoredToolCall[] {
  let calls = parsedCalls.get(row);
  if (!calls) parsedCalls.set(row, (calls = parseJson<StoredToolCall[]>(row.tool_calls, [])));
  return calls;
}
export const textOf = (row: Pick<MessageRecord, 'content'>): string =>
  plainText(contentOf(row).filter((p) => p.type === 'text'));

/** Is this row an approval request still waiting for its answer (a `role=approval` row with tool calls)? */
export const isApprovalRequest = (row: MessageLike): boolean => row.role === 'approval' && toolCallsOf(row).length > 0;

/** A stored message in Letta's raw `Message` shape (the context overview, message search results). */
export function toStoredMessage(r: MessageRecord) {
  return {
    id: r.id,
    agent_id: r.agent_id,
    model: r.model,
    role: r.role,
    content: contentOf(r),
    name: r.name,
    tool_calls: r.tool_calls ? toolCallsOf(r) : null,
    tool_call_id: r.tool_call_id,
    step_id: r.step_id,
    run_id: r.run_id,
    otid: r.otid,
    conversation_id: r.conversation_id,
    created_at: r.created_at,
  };
}
