import { Alert } from '../alert';
import { useState } from 'preact/hooks';
import { api, get, type Agent, type Block, type HistoryEntry } from '../api';
import { diffLines } from '../diff';
import { errorText, when } from '../format';
import { useFetch } from '../use-fetch';

/** An agent's core memory blocks: usage against the limit, markers, inline editing and each block's history. */
export function MemoryTab({ agentId, live }: { agentId: string; live: number }) {
  const [reload, setReload] = useState(0);
  const { data, error } = useFetch(
    async (signal) => {
      const blocks = await get<Block[]>(`/v1/agents/${agentId}/core-memory/blocks`, { limit: 100 }, signal);
      const owners = await Promise.all(
        blocks.map((b) => get<Agent[]>(`/v1/blocks/${b.id}/agents`, { limit: 50 }, signal)),
      );
      const sharing = new Map(blocks.map((b, i) => [b.id, owners[i]!.filter((a) => a.id !== agentId)]));
      return { blocks, sharing };
    },
    [agentId, live, reload],
  );

  if (error) return <Alert message={error} />;
  if (!data) return <p class="muted">Loading…</p>;
  const { blocks, sharing } = data;
  if (blocks.length === 0) return <p class="muted">This agent has no core memory blocks.</p>;
  return (
    <div class="blocks">
      {blocks.map((block) => (
        <BlockCard
          key={block.id}
          block={block}
          sharedWith={sharing.get(block.id) ?? []}
          live={live}
          onChanged={() => setReload((n) => n + 1)}
        />
      ))}
    </div>
  );
}

function LimitBar({ used, limit, id }: { used: number; limit: number; id: string }) {
  const ratio = limit > 0 ? Math.min(1, used / limit) : 1;
  const level = ratio >= 1 ? 'full' : ratio > 0.85 ? 'high' : 'ok';
  return (
    <div class="limit">
      <div
        class={`bar ${level}`}
        role="meter"
        aria-valuemin={0}
        aria-valuemax={limit}
        aria-valuenow={used}
        aria-labelledby={id}
      >
        <span style={{ width: `${ratio * 100}%` }} />
      </div>
      <span id={id} class="small">
        {used.toLocaleString()} / {limit.toLocaleString()} chars
      </span>
    </div>
  );
}

function BlockCard({
  block,
  sharedWith,
  live,
  onChanged,
}: {
  block: Block;
  sharedWith: Agent[];
  live: number;
  onChanged: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(block.value);
  const [limit, setLimit] = useState(String(block.limit));
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [showHistory, setShowHistory] = useState(false);
  const headingId = `block-${block.id}`;

  const startEditing = () => {
    setValue(block.value);
    setLimit(String(block.limit));
    setError(null);
    setEditing(true);
  };

  const save = async (event: Event) => {
    event.preventDefault();
    setSaving(true);
    setError(null);
    try {
      const patch: { value: string; limit?: number } = { value };
      if (Number(limit) !== block.limit) patch.limit = Number(limit);
      await api('PATCH', `/v1/blocks/${block.id}`, { body: patch });
      setEditing(false);
      onChanged();
    } catch (failure) {
      // The server's own words: the same limit rule as every API write.
      setError(errorText(failure));
    } finally {
      setSaving(false);
    }
  };

  return (
    <article class="card block" aria-labelledby={headingId} data-block-label={block.label}>
      <header class="block-head">
        <h2 id={headingId}>{block.label}</h2>
        {block.read_only && (
          <span class="badge" title="Agents cannot change this block; you can, here or through the API">
            read-only
          </span>
        )}
        {sharedWith.length > 0 && (
          <span class="badge accent" title={sharedWith.map((a) => a.name).join(', ')}>
            shared with {sharedWith.map((a) => a.name).join(', ')}
          </span>
        )}
      </header>
      {block.description && <p class="muted small">{block.description}</p>}
      <LimitBar
        used={(editing ? value : block.value).length}
        limit={editing ? Number(limit) || 0 : block.limit}
        id={`${headingId}-usage`}
      />
      {editing ? (
        <form onSubmit={(e) => void save(e)} class="edit">
          <label for={`${headingId}-value`}>Value</label>
          <textarea
            id={`${headingId}-value`}
            value={value}
            rows={Math.min(20, Math.max(4, value.split('\n').length + 1))}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
          <label for={`${headingId}-limit`}>Limit (characters)</label>
          <input
            id={`${headingId}-limit`}
            type="number"
            min={1}
            value={limit}
            onInput={(e) => setLimit(e.currentTarget.value)}
          />
          <Alert message={error} />
          <div class="row">
            <button type="submit" disabled={saving}>
              Save
            </button>
            <button type="button" class="quiet" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <>
          <pre class="value">{block.value || <span class="muted">(empty)</span>}</pre>
          <div class="row">
            <button type="button" onClick={startEditing}>
              Edit
            </button>
            <button type="button" class="quiet" aria-expanded={showHistory} onClick={() => setShowHistory((s) => !s)}>
              History
            </button>
          </div>
        </>
      )}
      {showHistory && <History block={block} live={live} onRestored={onChanged} />}
    </article>
  );
}

const ACTOR_LABELS: Record<HistoryEntry['actor']['kind'], string> = {
  agent_tool: 'agent tool',
  api: 'API',
  hook: 'hook',
  import: 'import',
  system: 'Cairn',
};

function actorText(entry: HistoryEntry) {
  return `${ACTOR_LABELS[entry.actor.kind]}${entry.actor.name ? ` (${entry.actor.name})` : ''}`;
}

function History({ block, live, onRestored }: { block: Block; live: number; onRestored: () => void }) {
  const [selected, setSelected] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const loaded = useFetch(
    (signal) => get<HistoryEntry[]>(`/v1/blocks/${block.id}/history`, { limit: 50 }, signal),
    [block.id, live, block.value],
  );
  const entries = loaded.data;

  if (loaded.error) return <Alert message={loaded.error} />;
  if (!entries) return <p class="muted">Loading history…</p>;
  const index = selected === null ? 0 : entries.findIndex((e) => e.version === selected);
  const entry = entries[index];
  const previous = entries[index + 1];

  const restore = async (version: number) => {
    setBusy(true);
    setError(null);
    try {
      await api('POST', `/v1/blocks/${block.id}/history/${version}/restore`);
      setSelected(null);
      onRestored();
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="history">
      <h3>History</h3>
      <ol class="versions">
        {entries.map((e) => (
          <li key={`${e.version}-${e.created_at}`}>
            <button
              type="button"
              class={e === entry ? 'version selected' : 'version'}
              aria-pressed={e === entry}
              onClick={() => setSelected(e.version)}
            >
              <strong>v{e.version}</strong> <span class={`actor ${e.actor.kind}`}>{actorText(e)}</span>{' '}
              <span class="muted small" title={e.created_at}>
                {when(e.created_at)}
              </span>
              {e.restored_from !== null && <span class="small"> · restores v{e.restored_from}</span>}
            </button>
          </li>
        ))}
      </ol>
      {entry && (
        <div class="version-detail">
          <p class="small">
            Version {entry.version} by {actorText(entry)}, {entry.value.length}/{entry.limit} chars
            {previous ? `, compared with version ${previous.version}` : ' (first version)'}:
          </p>
          <Diff before={previous?.value ?? ''} after={entry.value} />
          {entry.value !== block.value || entry.limit !== block.limit ? (
            <button type="button" disabled={busy} onClick={() => void restore(entry.version)}>
              Restore version {entry.version}
            </button>
          ) : (
            <p class="muted small">This is the block's current value.</p>
          )}
          <Alert message={error} />
        </div>
      )}
    </div>
  );
}

function Diff({ before, after }: { before: string; after: string }) {
  const lines = diffLines(before, after);
  return (
    <pre class="diff" aria-label="Changes">
      {lines.map((line, i) => (
        <div key={i} class={line.kind}>
          <span aria-hidden="true">{line.kind === 'added' ? '+ ' : line.kind === 'removed' ? '- ' : '  '}</span>
          {line.kind !== 'same' && <span class="visually-hidden">{line.kind}: </span>}
          {line.text || ' '}
        </div>
      ))}
    </pre>
  );
}
