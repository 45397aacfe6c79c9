import { useEffect, useState } from 'preact/hooks';
import { get, type Conversation, type LettaMessage } from '../api';
import { errorText, latest, when } from '../format';
import { MessageView } from '../messages';
import { href } from '../router';

/** The Claude Code hooks name each session's conversation this way (src/hooks/handlers.ts). */
const sessionOf = (c: Conversation) => /^Claude Code session (.+)$/.exec(c.summary ?? '')?.[1];

export function ConversationsTab({
  agentId,
  selected,
  live,
}: {
  agentId: string;
  selected: string | undefined;
  live: number;
}) {
  const [conversations, setConversations] = useState<Conversation[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    get<Conversation[]>('/v1/conversations/', { agent_id: agentId, limit: 200 }).then(
      (found) => {
        setConversations(found);
        setError(null);
      },
      (e: unknown) => setError(errorText(e)),
    );
  }, [agentId, live]);

  const current = selected ?? 'default';
  return (
    <div class="split">
      <nav aria-label="Conversations" class="list-pane">
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <ul class="conversation-list">
          <li>
            <a
              href={href('agents', agentId, 'conversations', 'default')}
              aria-current={current === 'default' ? 'page' : undefined}
            >
              Default conversation
            </a>
          </li>
          {conversations?.map((c) => {
            const session = sessionOf(c);
            return (
              <li key={c.id}>
                <a
                  href={href('agents', agentId, 'conversations', c.id)}
                  aria-current={current === c.id ? 'page' : undefined}
                >
                  {session ? (
                    <>
                      <span class="badge accent">Claude Code</span> session <code>{session.slice(0, 8)}</code>
                    </>
                  ) : (
                    (c.summary ?? c.id)
                  )}
                  <span class="muted small block">{when(latest(c.last_message_at, c.updated_at, c.created_at))}</span>
                </a>
              </li>
            );
          })}
        </ul>
      </nav>
      <Messages agentId={agentId} conversationId={current} live={live} />
    </div>
  );
}

function Messages({ agentId, conversationId, live }: { agentId: string; conversationId: string; live: number }) {
  const [messages, setMessages] = useState<LettaMessage[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<LettaMessage[]>(`/v1/conversations/${conversationId}/messages`, {
      agent_id: conversationId === 'default' ? agentId : undefined,
      limit: 200,
      order: 'desc',
    }).then(
      (found) => {
        setMessages(found.reverse());
        setError(null);
      },
      (e: unknown) => setError(errorText(e)),
    );
  }, [agentId, conversationId, live]);
  if (error)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (!messages) return <p class="muted">Loading…</p>;
  return (
    <section class="messages-pane" aria-label="Messages">
      {messages.length === 0 ? (
        <p class="muted">No messages yet.</p>
      ) : (
        <ol class="messages">
          {messages.map((m) => (
            <MessageView key={`${m.id}-${m.message_type}`} message={m} />
          ))}
        </ol>
      )}
    </section>
  );
}
