import { Alert } from '../alert';
import { useRef, useState } from 'preact/hooks';
import { stream, type Agent, type LettaMessage, type ToolCall } from '../api';
import { errorText } from '../format';
import { MessageView } from '../messages';

type Approval = { tool_call_id: string; approve: boolean; reason?: string };

function joinCall(before: ToolCall | null | undefined, delta: ToolCall): ToolCall {
  return {
    ...before,
    ...delta,
    name: delta.name ?? before?.name ?? null,
    tool_call_id: delta.tool_call_id ?? before?.tool_call_id ?? null,
    arguments: (before?.arguments ?? '') + (delta.arguments ?? ''),
  };
}

/** Folds streamed chunks of one message (same id and type) into one: text, reasoning and tool arguments grow. */
function merge(list: LettaMessage[], chunk: LettaMessage): LettaMessage[] {
  const i = list.findIndex((m) => m.id === chunk.id && m.message_type === chunk.message_type);
  if (i < 0) return [...list, chunk];
  const before = list[i]!;
  const text = (m: LettaMessage) => (typeof m.content === 'string' ? m.content : '');
  const merged: LettaMessage = {
    ...before,
    ...chunk,
    ...(typeof chunk.content === 'string' ? { content: text(before) + chunk.content } : {}),
    ...(chunk.reasoning !== undefined ? { reasoning: (before.reasoning ?? '') + chunk.reasoning } : {}),
    ...(chunk.tool_call ? { tool_call: joinCall(before.tool_call, chunk.tool_call) } : {}),
    ...(chunk.tool_calls?.length
      ? { tool_calls: chunk.tool_calls.map((delta, n) => joinCall(before.tool_calls?.[n], delta)) }
      : {}),
  };
  return [...list.slice(0, i), merged, ...list.slice(i + 1)];
}

const callsOf = (m: LettaMessage | undefined): ToolCall[] =>
  m?.tool_calls?.length ? m.tool_calls : m?.tool_call ? [m.tool_call] : [];

/**
 * A turn with the agent, streamed over the same SSE the SDK reads (`POST /v1/agents/{id}/messages/stream`). When the
 * agent stops for approval (`requires_approval`), the tool calls are shown with Approve and Deny.
 */
export function ChatTab({ agent }: { agent: Agent }) {
  const [input, setInput] = useState('');
  const [messages, setMessages] = useState<LettaMessage[]>([]);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState<ToolCall[]>([]);
  const [busy, setBusy] = useState(false);
  const [denyReason, setDenyReason] = useState('');
  const abort = useRef<AbortController | null>(null);

  const send = async (body: unknown) => {
    setBusy(true);
    setError(null);
    setStatus('Streaming…');
    setPending([]);
    const controller = new AbortController();
    abort.current = controller;
    // This turn's messages as merged so far, read when the turn stops for approval.
    let turn: LettaMessage[] = [];
    try {
      for await (const chunk of stream(`/v1/agents/${agent.id}/messages/stream`, body, controller.signal)) {
        if (chunk.message_type === 'ping') continue;
        if (chunk.message_type === 'stop_reason') {
          setStatus(`Stopped: ${chunk.stop_reason}`);
          if (chunk.stop_reason === 'requires_approval')
            setPending(callsOf(turn.findLast((m) => m.message_type === 'approval_request_message')));
        } else if (chunk.message_type === 'usage_statistics') {
          setStatus((s) => `${s ?? ''} · ${chunk.total_tokens ?? 0} tokens`);
        } else if (chunk.message_type === 'error_message' || chunk.message_type === 'error') {
          setError(chunk.message ?? chunk.detail ?? 'The turn failed.');
        } else {
          turn = merge(turn, chunk);
          setMessages((list) => merge(list, chunk));
        }
      }
    } catch (failure) {
      if (!controller.signal.aborted) setError(errorText(failure));
      setStatus(controller.signal.aborted ? 'Stopped.' : null);
    } finally {
      setBusy(false);
      abort.current = null;
    }
  };

  const submit = (event: Event) => {
    event.preventDefault();
    const text = input.trim();
    if (!text) return;
    setInput('');
    setMessages((list) => [
      ...list,
      { id: `local-${Date.now()}`, message_type: 'user_message', content: text, date: new Date().toISOString() },
    ]);
    void send({ messages: [{ role: 'user', content: text }], stream_tokens: true });
  };

  const answer = (approve: boolean) => {
    const approvals: Approval[] = pending.map((c) => ({
      tool_call_id: c.tool_call_id ?? '',
      approve,
      ...(approve || !denyReason ? {} : { reason: denyReason }),
    }));
    setDenyReason('');
    void send({
      messages: [{ type: 'approval', approvals: approvals.map((a) => ({ type: 'approval', ...a })) }],
      stream_tokens: true,
    });
  };

  return (
    <div class="chat">
      <p class="muted small">
        Messages go to the agent's default conversation with its model ({agent.model ?? 'none set'}); the turn is
        recorded as any other.
      </p>
      <ol class="messages" aria-live="polite">
        {messages.map((m) => (
          <MessageView key={`${m.id}-${m.message_type}`} message={m} />
        ))}
      </ol>
      {pending.length > 0 && (
        <div class="card approval" role="region" aria-label="Approval needed">
          <p>
            The agent asks to run{' '}
            {pending.map((c) => (
              <code key={c.tool_call_id}>{c.name} </code>
            ))}
          </p>
          <div class="row">
            <button type="button" onClick={() => answer(true)} disabled={busy}>
              Approve
            </button>
            <label class="inline">
              <span class="visually-hidden">Reason for denying</span>
              <input
                placeholder="Reason (optional)"
                value={denyReason}
                onInput={(e) => setDenyReason(e.currentTarget.value)}
              />
            </label>
            <button type="button" class="danger" onClick={() => answer(false)} disabled={busy}>
              Deny
            </button>
          </div>
        </div>
      )}
      {status && (
        <p class="muted small" role="status">
          {status}
        </p>
      )}
      <Alert message={error} />
      <form class="composer" onSubmit={submit}>
        <label for="chat-input" class="visually-hidden">
          Message
        </label>
        <textarea
          id="chat-input"
          rows={2}
          placeholder="Message the agent (Enter sends, Shift+Enter for a new line)"
          value={input}
          onInput={(e) => setInput(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              e.currentTarget.form?.requestSubmit();
            }
          }}
          disabled={busy || pending.length > 0}
        />
        {busy ? (
          <button type="button" class="quiet" onClick={() => abort.current?.abort()}>
            Stop
          </button>
        ) : (
          <button type="submit" disabled={pending.length > 0}>
            Send
          </button>
        )}
      </form>
    </div>
  );
}
