import { newId } from '../lib/ids.js';
import { nowIso } from '../lib/time.js';
import type { LlmContentPart, LlmMessage, LlmReasoning, LlmToolCall } from '../llm/types.js';
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

function plainText(parts: ContentPart[]): string {
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

export function storedToolCalls(calls: LlmToolCall[]): StoredToolCall[] {
  return calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
}

export function reasoningParts(reasoning: LlmReasoning[]): ContentPart[] {
  return reasoning.map((r) =>
    r.redacted
      ? { type: 'redacted_reasoning', data: r.redacted }
      : { type: 'reasoning', is_native: true, reasoning: r.text, signature: r.signature ?? null },
  );
}

/** Is this row an approval request still waiting for its answer (a `role=approval` row with tool calls)? */
export const isApprovalRequest = (row: MessageLike): boolean => row.role === 'approval' && toolCallsOf(row).length > 0;

function toLlmUserContent(parts: ContentPart[]): string | LlmContentPart[] {
  if (parts.every((p) => p.type === 'text')) return parts.map((p) => (p as { text: string }).text).join('\n');
  return parts.flatMap((p): LlmContentPart[] => {
    if (p.type === 'text') return [{ type: 'text', text: p.text }];
    if (p.type === 'image') {
      const s = p.source as { type?: string; url?: string; media_type?: string; data?: string };
      if (s.type === 'url' && s.url) return [{ type: 'image', url: s.url }];
      if (s.type === 'base64' && s.data)
        return [{ type: 'image', mediaType: s.media_type ?? 'image/png', data: s.data }];
    }
    return [];
  });
}

/** Clips the `message` inside a status/message/time envelope, so the model still receives valid JSON. */
function clipEnvelope(text: string, clip: number): string {
  try {
    const envelope = JSON.parse(text) as { message?: unknown };
    if (typeof envelope.message === 'string') {
      const overhead = text.length - envelope.message.length;
      return JSON.stringify({ ...envelope, message: envelope.message.slice(0, Math.max(0, clip - overhead)) }, null, 2);
    }
  } catch {
    // not an envelope: plain clipping below
  }
  return text.slice(0, clip);
}

/** Characters of a tool return the model sees: max(5000, 0.2 × window × 4) (§9). */
export const toolReturnClip = (contextWindow: number): number => Math.max(5000, Math.floor(0.2 * contextWindow * 4));

/**
 * The provider request's history. Tool returns are clipped to `max(5000, 0.2 × window × 4)` characters (§9), and
 * any tool call without a stored return (an interrupted step, a pending approval) is dropped, as is any return
 * without its call, so a provider never sees an orphan.
 */
export function toLlmMessages(rows: MessageLike[], contextWindow: number): LlmMessage[] {
  const clip = toolReturnClip(contextWindow);
  const answered = new Set(rows.filter((r) => r.role === 'tool' && r.tool_call_id).map((r) => r.tool_call_id!));
  const called = new Map<string, string>();
  const out: LlmMessage[] = [];
  for (const row of rows) {
    const parts = contentOf(row);
    switch (row.role) {
      case 'system':
        out.push({ role: 'system', content: plainText(parts) });
        break;
      case 'user':
      case 'summary':
        out.push({ role: 'user', content: toLlmUserContent(parts) });
        break;
      case 'assistant':
      case 'approval': {
        const calls = toolCallsOf(row).filter((c) => answered.has(c.id));
        if (row.role === 'approval' && calls.length === 0) break;
        for (const c of calls) called.set(c.id, c.function.name);
        const text = plainText(parts.filter((p) => p.type === 'text'));
        const reasoning: LlmReasoning[] = parts.flatMap((p): LlmReasoning[] =>
          p.type === 'reasoning'
            ? [{ text: p.reasoning, signature: p.signature ?? undefined }]
            : p.type === 'redacted_reasoning'
              ? [{ text: '', redacted: p.data }]
              : [],
        );
        if (!text && calls.length === 0) break;
        out.push({
          role: 'assistant',
          content: text || null,
          ...(calls.length
            ? { toolCalls: calls.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })) }
            : {}),
          ...(reasoning.length ? { reasoning } : {}),
        });
        break;
      }
      case 'tool': {
        const name = row.tool_call_id ? called.get(row.tool_call_id) : undefined;
        if (!name) break;
        let text = plainText(parts);
        if (text.length > clip) text = clipEnvelope(text, clip);
        out.push({ role: 'tool', toolCallId: row.tool_call_id!, toolName: row.name ?? name, content: text });
        break;
      }
    }
  }
  return out;
}
