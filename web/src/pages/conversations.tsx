import { Alert } from '../alert';
import { get, type Conversation, type LettaMessage } from '../api';
import { latest, when } from '../format';
import { MessageView } from '../messages';
import { href } from '../router';
import { useFetch } from '../use-fetch';

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
  const { data: conversations, error } = useFetch(
    (signal) => get<Conversation[]>('/v1/conversations/', { agent_id: agentId, limit: 200 }, signal),
    [agentId, live],
  );

  const current = selected ?? 'default';
  return (
    <div class="split">
      <nav aria-label="Conversations" class="list-pane">
        <Alert message={error} />
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
  const { data: messages, error } = useFetch(
    async (signal) =>
      (
        await get<LettaMessage[]>(
          `/v1/conversations/${conversationId}/messages`,
          { agent_id: conversationId === 'default' ? agentId : undefined, limit: 200, order: 'desc' },
          signal,
        )
      ).reverse(),
    [agentId, conversationId, live],
  );
  if (error) return <Alert message={error} />;
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
