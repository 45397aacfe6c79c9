import { useEffect } from 'preact/hooks';
import { Alert } from '../alert';
import { get, type Agent } from '../api';
import { projectOf, when } from '../format';
import { useLive } from '../live';
import { useFetch } from '../use-fetch';
import { href } from '../router';
import { ArchivalTab } from './archival';
import { ChatTab } from './chat';
import { ConversationsTab } from './conversations';
import { MemoryTab } from './memory';
import { RunsTab } from './runs';

const TABS = [
  ['memory', 'Core memory'],
  ['archival', 'Archival'],
  ['conversations', 'Conversations'],
  ['runs', 'Runs'],
  ['chat', 'Chat'],
] as const;

export function AgentPage({ agentId, tab, item }: { agentId: string; tab: string; item: string | undefined }) {
  const live = useLive(agentId);
  const { data: agent, error } = useFetch((signal) => get<Agent>(`/v1/agents/${agentId}`, {}, signal), [agentId, live]);

  useEffect(() => {
    if (agent) document.title = `${agent.name} · Cairn`;
  }, [agent]);

  if (error && !agent) return <Alert message={error} />;
  if (!agent) return <p class="muted">Loading…</p>;
  const project = projectOf(agent.tags);
  return (
    <>
      <nav aria-label="Breadcrumb" class="small">
        <a href="#/">Agents</a> / <span>{agent.name}</span>
      </nav>
      <h1>
        {agent.name} {project && <span class="badge accent">Claude Code · {project}</span>}
      </h1>
      <p class="muted small">
        <code>{agent.id}</code> · model {agent.model ?? 'none'} · created {when(agent.created_at)}
      </p>
      <nav class="tabs" aria-label="Agent sections">
        {TABS.map(([id, label]) => (
          <a key={id} href={href('agents', agentId, id)} aria-current={tab === id ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      <section class="tab-body">
        {tab === 'memory' && <MemoryTab agentId={agentId} live={live} />}
        {tab === 'archival' && <ArchivalTab agentId={agentId} live={live} />}
        {tab === 'conversations' && <ConversationsTab agentId={agentId} selected={item} live={live} />}
        {tab === 'runs' && <RunsTab agentId={agentId} selected={item} live={live} />}
        {tab === 'chat' && <ChatTab agent={agent} />}
      </section>
    </>
  );
}
