import type { LettaMessage, ToolCall } from './api';
import { when } from './format';

export function messageText(m: LettaMessage): string {
  if (typeof m.content === 'string') return m.content;
  return (m.content ?? []).map((part) => part.text ?? '').join('');
}

function calls(m: LettaMessage): ToolCall[] {
  return m.tool_calls?.length ? m.tool_calls : m.tool_call ? [m.tool_call] : [];
}

function prettyJson(text: string | null | undefined): string {
  if (!text) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/**
 * One message as a person reads a transcript: user and assistant text in full; tool calls, tool returns and
 * system messages folded; reasoning behind its own toggle so it is there on demand, not in the way.
 */
export function MessageView({ message: m }: { message: LettaMessage }) {
  const time = m.date ? (
    <time class="muted small" dateTime={m.date}>
      {when(m.date)}
    </time>
  ) : null;
  switch (m.message_type) {
    case 'user_message':
    case 'assistant_message':
      return (
        <li class={`message ${m.message_type === 'user_message' ? 'user' : 'assistant'}`}>
          <div class="who small">
            {m.message_type === 'user_message' ? 'User' : 'Assistant'} {time}
          </div>
          <div class="text">{messageText(m)}</div>
        </li>
      );
    case 'reasoning_message':
    case 'hidden_reasoning_message':
      return (
        <li class="message folded">
          <details>
            <summary>Reasoning {time}</summary>
            <div class="text muted">{m.reasoning ?? '(hidden by the provider)'}</div>
          </details>
        </li>
      );
    case 'tool_call_message':
    case 'approval_request_message':
      return (
        <li class="message folded">
          {calls(m).map((c, i) => (
            <details key={i}>
              <summary>
                {m.message_type === 'approval_request_message' ? 'Approval asked for' : 'Tool call'}{' '}
                <code>{c.name}</code> {time}
              </summary>
              <pre>{prettyJson(c.arguments)}</pre>
            </details>
          ))}
        </li>
      );
    case 'tool_return_message':
      return (
        <li class="message folded">
          <details>
            <summary>
              Tool return <code>{m.name}</code>{' '}
              <span class={m.status === 'error' ? 'badge danger' : 'badge'}>{m.status}</span> {time}
            </summary>
            <pre>{m.tool_return}</pre>
          </details>
        </li>
      );
    case 'approval_response_message':
      return <li class="message folded small muted">Approval answered {time}</li>;
    default:
      return (
        <li class="message folded">
          <details>
            <summary>
              {m.message_type.replace(/_/g, ' ')} {time}
            </summary>
            <pre>{messageText(m)}</pre>
          </details>
        </li>
      );
  }
}
