import type { LlmContentPart, LlmMessage, LlmReasoning, LlmToolCall } from '../llm/types.js';
import {
  contentOf,
  plainText,
  toolCallsOf,
  type ContentPart,
  type MessageLike,
  type StoredToolCall,
} from '../domain/messages.js';

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
