import { Alert } from '../alert';
import { useState } from 'preact/hooks';
import { get, type Agent, type AgentSummary } from '../api';
import { ago, latest, projectOf, when } from '../format';
import { useLive } from '../live';
import { href } from '../router';
import { useFetch } from '../use-fetch';

/** Every agent, searchable by name and tag; the Claude Code project agents (`project:<dir>`) come first. */
export function AgentsPage() {
  const [text, setText] = useState('');
  const [tag, setTag] = useState('');
  const live = useLive();

  const { data, error } = useFetch(
    async (signal) => {
      // Let typing settle before searching.
      await new Promise((resolve) => setTimeout(resolve, 150));
      signal.throwIfAborted();
      const agents = await get<Agent[]>(
        '/v1/agents/',
        { limit: 200, query_text: text.trim(), tags: tag ? [tag] : undefined },
        signal,
      );
      const counts = agents.length
        ? await get<AgentSummary[]>('/v1/cairn/agent-summaries', { agent_id: agents.map((a) => a.id) }, signal)
        : [];
      return { agents, summaries: new Map(counts.map((s) => [s.agent_id, s])) };
    },
    [text, tag, live],
  );
  const tags = useFetch((signal) => get<string[]>('/v1/tags/', { limit: 1000 }, signal), [live]).data ?? [];
  const agents = data?.agents ?? null;
  const summaries = data?.summaries ?? new Map<string, AgentSummary>();

  const projects = agents?.filter((a) => projectOf(a.tags)) ?? [];
  const others = agents?.filter((a) => !projectOf(a.tags)) ?? [];

  return (
    <>
      <h1>Agents</h1>
      <form class="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Name
          <input
            type="search"
            placeholder="Search by name"
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </label>
        <label>
          Tag
          <input
            type="search"
            list="all-tags"
            placeholder="e.g. project:myapp"
            value={tag}
            onInput={(e) => setTag(e.currentTarget.value)}
          />
          <datalist id="all-tags">
            {tags.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </label>
      </form>
      <Alert message={error} />
      {agents === null && !error && <p class="muted">Loading…</p>}
      {agents?.length === 0 && <p class="muted">No agents match.</p>}
      {projects.length > 0 && (
        <section aria-labelledby="projects-heading">
          <h2 id="projects-heading">Claude Code projects</h2>
          <AgentList agents={projects} summaries={summaries} />
        </section>
      )}
      {others.length > 0 && (
        <section aria-labelledby="others-heading">
          <h2 id="others-heading">{projects.length ? 'Other agents' : 'All agents'}</h2>
          <AgentList agents={others} summaries={summaries} />
        </section>
      )}
    </>
  );
}

function AgentList({ agents, summaries }: { agents: Agent[]; summaries: Map<string, AgentSummary> }) {
  return (
    <ul class="agent-list">
      {agents.map((agent) => {
        const s = summaries.get(agent.id);
        const project = projectOf(agent.tags);
        const active = latest(agent.last_run_completion, s?.last_message_at, agent.updated_at);
        return (
          <li key={agent.id} class={project ? 'agent project' : 'agent'} data-agent-id={agent.id}>
            <div class="agent-head">
              <a href={href('agents', agent.id)}>{agent.name}</a>
              {project && <span class="badge accent">Claude Code · {project}</span>}
            </div>
            {agent.description && <p class="muted small">{agent.description}</p>}
            <div class="chips">
              {agent.tags?.map((t) => (
                <span key={t} class={t.startsWith('project:') ? 'chip accent' : 'chip'}>
                  {t}
                </span>
              ))}
            </div>
            <dl class="facts">
              <div>
                <dt>Blocks</dt>
                <dd>{s?.blocks ?? '…'}</dd>
              </div>
              <div>
                <dt>Passages</dt>
                <dd>{s?.passages ?? '…'}</dd>
              </div>
              <div>
                <dt>Messages</dt>
                <dd>{s?.messages ?? '…'}</dd>
              </div>
              <div>
                <dt>Created</dt>
                <dd title={agent.created_at}>{when(agent.created_at)}</dd>
              </div>
              <div>
                <dt>Last active</dt>
                <dd title={active ?? ''}>{ago(active)}</dd>
              </div>
            </dl>
          </li>
        );
      })}
    </ul>
  );
}
