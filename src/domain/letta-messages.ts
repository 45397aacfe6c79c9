import { parseJson } from '../store/json.js';
import { contentOf, toolCallsOf, type ApprovalEntry, type MessageLike, type StoredToolReturn } from './messages.js';

/** A LettaMessage as the API returns it (§4.6); built loosely because the union is wide and only serialized. */
export type LettaMessage = Record<string, unknown> & { id: string; message_type: string };

/** Letta's `generate_otid_from_id`: the message UUID with its low 7 bits replaced by the item index, as a bare uuid. */
export function otidFor(messageId: string, index: number): string {
  const uuid = messageId.slice(messageId.indexOf('-') + 1);
  const last = parseInt(uuid.slice(-2), 16);
  return uuid.slice(0, -2) + ((last & 0x80) | (index & 0x7f)).toString(16).padStart(2, '0');
}

/** Seconds precision, as Letta's `date` (§17). */
export const lettaDate = (iso: string): string => `${iso.slice(0, 19)}Z`;

/** memgpt-style agents speak through `send_message`; letta_v1 agents through plain text. */
export const usesSendMessage = (agentType: string): boolean =>
  agentType === 'memgpt_agent' || agentType === 'memgpt_v2_agent';

function unwrapUser(text: string): string {
  if (!text.startsWith('{')) return text;
  const parsed = parseJson<{ type?: string; message?: unknown } | null>(text, null);
  return parsed?.type === 'user_message' && typeof parsed.message === 'string' ? parsed.message : text;
}

function toolCallOut(c: { id: string; function: { name: string; arguments: string } }) {
  return { name: c.function.name, arguments: c.function.arguments, tool_call_id: c.id };
}

export interface ConvertOptions {
  agentType: string;
  includeCompaction?: boolean;
}

/** Splits one stored message into the LettaMessages it lists as; every item keeps the parent's `id`. */
export function toLettaMessages(row: MessageLike, options: ConvertOptions): LettaMessage[] {
  const base = (index: number, type: string, stored = false): LettaMessage => ({
    id: row.id,
    date: lettaDate(row.created_at),
    name: row.name,
    message_type: type,
    otid: stored && row.otid ? row.otid : otidFor(row.id, index),
    sender_id: row.sender_id,
    step_id: row.step_id,
    is_err: row.is_err ? true : null,
    seq_id: null,
    run_id: row.run_id,
  });
  const parts = contentOf(row);
  const out: LettaMessage[] = [];
  switch (row.role) {
    case 'system':
      out.push({
        ...base(0, 'system_message', true),
        content: parts.map((p) => (p.type === 'text' ? p.text : '')).join(''),
      });
      break;
    case 'user': {
      const onlyText = parts.every((p) => p.type === 'text');
      const content = onlyText ? unwrapUser(parts.map((p) => (p as { text: string }).text).join('\n')) : parts;
      out.push({ ...base(0, 'user_message', true), content });
      break;
    }
    case 'summary': {
      const text = parts.map((p) => (p.type === 'text' ? p.text : '')).join('');
      if (options.includeCompaction) {
        const packed = parseJson<{ message?: string; compaction_stats?: unknown } | null>(text, null);
        out.push({
          ...base(0, 'summary_message'),
          summary: packed?.message ?? text,
          compaction_stats: packed?.compaction_stats ?? null,
        });
      } else out.push({ ...base(0, 'user_message'), content: text });
      break;
    }
    case 'assistant': {
      const memgpt = usesSendMessage(options.agentType);
      let i = 0;
      for (const p of parts) {
        if (p.type === 'reasoning')
          out.push({
            ...base(i++, 'reasoning_message'),
            source: 'reasoner_model',
            reasoning: p.reasoning,
            signature: p.signature ?? null,
          });
        else if (p.type === 'redacted_reasoning')
          out.push({ ...base(i++, 'hidden_reasoning_message'), state: 'redacted', hidden_reasoning: p.data });
        else if (p.type === 'text' && p.text) {
          out.push(
            memgpt
              ? { ...base(i++, 'reasoning_message'), source: 'non_reasoner_model', reasoning: p.text, signature: null }
              : { ...base(i++, 'assistant_message'), content: p.text },
          );
        }
      }
      for (const c of toolCallsOf(row)) {
        if (memgpt && c.function.name === 'send_message') {
          const args = parseJson<{ message?: unknown }>(c.function.arguments, {});
          out.push({
            ...base(i++, 'assistant_message'),
            content: typeof args.message === 'string' ? args.message : '',
          });
        } else {
          const call = toolCallOut(c);
          out.push({ ...base(i++, 'tool_call_message'), tool_call: call, tool_calls: [call] });
        }
      }
      break;
    }
    case 'tool': {
      if (usesSendMessage(options.agentType) && row.name === 'send_message') break;
      const returns = parseJson<StoredToolReturn[]>(row.tool_returns, []);
      const r = returns[0];
      const status = r?.status ?? (row.is_err ? 'error' : 'success');
      const toolReturn = r?.func_response ?? parts.map((p) => (p.type === 'text' ? p.text : '')).join('');
      out.push({
        ...base(0, 'tool_return_message'),
        tool_return: toolReturn,
        status,
        tool_call_id: row.tool_call_id,
        stdout: r?.stdout ?? null,
        stderr: r?.stderr ?? null,
        tool_returns: returns.map((x) => ({
          type: 'tool',
          tool_call_id: x.tool_call_id,
          status: x.status,
          tool_return: x.func_response,
          stdout: x.stdout,
          stderr: x.stderr,
        })),
      });
      break;
    }
    case 'approval': {
      const calls = toolCallsOf(row);
      if (calls.length > 0) {
        const outCalls = calls.map(toolCallOut);
        out.push({
          ...base(0, 'approval_request_message'),
          otid: row.otid ?? otidFor(row.id, 0),
          tool_call: outCalls[0],
          tool_calls: outCalls,
        });
      } else {
        const approvals = parseJson<ApprovalEntry[]>(row.approvals, []);
        out.push({
          ...base(0, 'approval_response_message', true),
          approvals,
          approve: row.approve === null ? null : row.approve === 1,
          approval_request_id: row.approval_request_id,
          reason: row.denial_reason,
        });
      }
      break;
    }
  }
  return out;
}

export function toLettaMessageList(rows: MessageLike[], options: ConvertOptions): LettaMessage[] {
  return rows.flatMap((r) => toLettaMessages(r, options));
}
