import { Alert } from '../alert';
import { Fragment } from 'preact';
import { get, type Run, type Step } from '../api';
import { duration, when } from '../format';
import { href } from '../router';
import { useFetch } from '../use-fetch';

/** Runs (one per send) and their steps (one per LLM call): status, stop reason, duration and tokens. */
export function RunsTab({ agentId, selected, live }: { agentId: string; selected: string | undefined; live: number }) {
  const { data: runs, error } = useFetch(
    (signal) => get<Run[]>('/v1/runs/', { agent_id: agentId, limit: 100, order: 'desc' }, signal),
    [agentId, live],
  );
  if (error) return <Alert message={error} />;
  if (!runs) return <p class="muted">Loading…</p>;
  if (runs.length === 0) return <p class="muted">No runs yet: this agent has not been sent a message.</p>;
  return (
    <div class="table-wrap">
      <table class="runs">
        <caption class="visually-hidden">Runs, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Status</th>
            <th scope="col">Stop reason</th>
            <th scope="col">Duration</th>
            <th scope="col">Started</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <Fragment key={run.id}>
              <tr>
                <td>
                  <a
                    href={href('agents', agentId, 'runs', ...(selected === run.id ? [] : [run.id]))}
                    aria-expanded={selected === run.id}
                  >
                    <code>{run.id.slice(4, 12)}</code>
                  </a>
                </td>
                <td>
                  <span class={`badge status-${run.status}`}>{run.status}</span>
                </td>
                <td>{run.stop_reason ?? '—'}</td>
                <td>{duration(run.total_duration_ns)}</td>
                <td title={run.created_at}>{when(run.created_at)}</td>
              </tr>
              {selected === run.id && (
                <tr>
                  <td colSpan={5}>
                    <Steps runId={run.id} live={live} />
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Steps({ runId, live }: { runId: string; live: number }) {
  const { data: steps, error } = useFetch(
    (signal) => get<Step[]>(`/v1/runs/${runId}/steps`, { limit: 100, order: 'asc' }, signal),
    [runId, live],
  );
  if (error) return <Alert message={error} />;
  if (!steps) return <p class="muted">Loading steps…</p>;
  const total = steps.reduce((n, s) => n + (s.total_tokens ?? 0), 0);
  return (
    <div class="steps">
      <p class="small">
        {steps.length} step{steps.length === 1 ? '' : 's'}, {total.toLocaleString()} tokens in all
      </p>
      <table>
        <caption class="visually-hidden">Steps of run {runId}</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Status</th>
            <th scope="col">Stop reason</th>
            <th scope="col">Model</th>
            <th scope="col">Prompt</th>
            <th scope="col">Completion</th>
            <th scope="col">Total</th>
            <th scope="col">Duration</th>
          </tr>
        </thead>
        <tbody>
          {steps.map((s, i) => (
            <tr key={s.id}>
              <td>{i + 1}</td>
              <td>{s.status ?? '—'}</td>
              <td>{s.stop_reason ?? '—'}</td>
              <td>{s.model ?? '—'}</td>
              <td>{s.prompt_tokens ?? 0}</td>
              <td>{s.completion_tokens ?? 0}</td>
              <td>{s.total_tokens ?? 0}</td>
              <td>{duration(null, s.duration_ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
