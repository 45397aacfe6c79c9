import { Alert } from '../alert';
import { useState } from 'preact/hooks';
import { api, get, type Passage } from '../api';
import { errorText, when } from '../format';
import { useFetch } from '../use-fetch';

interface Search {
  query: string;
  mode: 'hybrid' | 'lexical' | 'vector';
  tags: string;
  tagMatch: 'any' | 'all';
  start: string;
  end: string;
}

const EMPTY: Search = { query: '', mode: 'hybrid', tags: '', tagMatch: 'any', start: '', end: '' };
const tagList = (text: string) =>
  text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);

/** Archival memory: the same search as the API (mode, tags, dates), the newest passages otherwise, add and delete. */
export function ArchivalTab({ agentId, live }: { agentId: string; live: number }) {
  const [form, setForm] = useState<Search>(EMPTY);
  const [applied, setApplied] = useState<Search>(EMPTY);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  const loaded = useFetch(
    async (signal) => {
      const tags = tagList(applied.tags);
      if (applied.query.trim())
        return (
          await get<{ results: Passage[] }>(
            `/v1/agents/${agentId}/archival-memory/search`,
            {
              query: applied.query,
              mode: applied.mode,
              tags,
              tag_match_mode: applied.tagMatch,
              start_datetime: applied.start ? new Date(applied.start).toISOString() : undefined,
              end_datetime: applied.end ? new Date(applied.end).toISOString() : undefined,
              top_k: 50,
            },
            signal,
          )
        ).results;
      // Without a query, the newest passages, filtered by tag here (the list route has no tag filter).
      const newest = await get<Passage[]>(
        `/v1/agents/${agentId}/archival-memory`,
        { limit: 100, ascending: false },
        signal,
      );
      const wanted = (own: string[]) =>
        applied.tagMatch === 'all' ? tags.every((t) => own.includes(t)) : tags.some((t) => own.includes(t));
      return tags.length === 0 ? newest : newest.filter((p) => wanted(p.tags ?? []));
    },
    [agentId, applied, live, reload],
  );
  const passages = loaded.data;

  const set = <K extends keyof Search>(key: K, value: Search[K]) => setForm((f) => ({ ...f, [key]: value }));

  const remove = async (passage: Passage) => {
    if (!confirm('Delete this passage? This cannot be undone.')) return;
    try {
      await api('DELETE', `/v1/agents/${agentId}/archival-memory/${passage.id}`);
      setReload((n) => n + 1);
    } catch (failure) {
      setError(errorText(failure));
    }
  };

  return (
    <>
      <form
        class="card search"
        role="search"
        aria-label="Search archival memory"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(form);
        }}
      >
        <div class="grid">
          <label class="wide">
            Query
            <input type="search" value={form.query} onInput={(e) => set('query', e.currentTarget.value)} />
          </label>
          <label>
            Mode
            <select value={form.mode} onChange={(e) => set('mode', e.currentTarget.value as Search['mode'])}>
              <option value="hybrid">Hybrid</option>
              <option value="lexical">Lexical</option>
              <option value="vector">Vector</option>
            </select>
          </label>
          <label>
            Tags (comma-separated)
            <input value={form.tags} onInput={(e) => set('tags', e.currentTarget.value)} />
          </label>
          <label>
            Tags match
            <select
              value={form.tagMatch}
              onChange={(e) => set('tagMatch', e.currentTarget.value as Search['tagMatch'])}
            >
              <option value="any">Any</option>
              <option value="all">All</option>
            </select>
          </label>
          <label>
            From
            <input type="datetime-local" value={form.start} onInput={(e) => set('start', e.currentTarget.value)} />
          </label>
          <label>
            To
            <input type="datetime-local" value={form.end} onInput={(e) => set('end', e.currentTarget.value)} />
          </label>
        </div>
        <div class="row">
          <button type="submit">Search</button>
          <button
            type="button"
            class="quiet"
            onClick={() => {
              setForm(EMPTY);
              setApplied(EMPTY);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <AddPassage agentId={agentId} onAdded={() => setReload((n) => n + 1)} />
      <Alert message={error ?? loaded.error} />
      <h2>{applied.query.trim() ? 'Results' : 'Newest passages'}</h2>
      {passages === null ? (
        <p class="muted">Loading…</p>
      ) : passages.length === 0 ? (
        <p class="muted">No passages.</p>
      ) : (
        <ul class="passages" aria-live="polite">
          {passages.map((p) => (
            <li key={p.id} class="card passage">
              <p class="passage-text">{p.content ?? p.text}</p>
              <div class="row small">
                <span class="muted" title={p.timestamp ?? p.created_at}>
                  {when(p.timestamp ?? p.created_at)}
                </span>
                {(p.tags ?? []).map((t) => (
                  <button
                    key={t}
                    type="button"
                    class="chip"
                    title="Filter by this tag"
                    onClick={() => {
                      const next = { ...form, tags: t };
                      setForm(next);
                      setApplied(next);
                    }}
                  >
                    {t}
                  </button>
                ))}
                <button type="button" class="danger quiet" onClick={() => void remove(p)}>
                  Delete<span class="visually-hidden"> passage</span>
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function AddPassage({ agentId, onAdded }: { agentId: string; onAdded: () => void }) {
  const [text, setText] = useState('');
  const [tags, setTags] = useState('');
  const [error, setError] = useState<string | null>(null);
  const add = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      await api('POST', `/v1/agents/${agentId}/archival-memory`, { body: { text, tags: tagList(tags) } });
      setText('');
      setTags('');
      onAdded();
    } catch (failure) {
      setError(errorText(failure));
    }
  };
  return (
    <details class="card">
      <summary>Add a passage</summary>
      <form onSubmit={(e) => void add(e)}>
        <label for="new-passage">Text</label>
        <textarea id="new-passage" rows={3} value={text} required onInput={(e) => setText(e.currentTarget.value)} />
        <label for="new-passage-tags">Tags (comma-separated)</label>
        <input id="new-passage-tags" value={tags} onInput={(e) => setTags(e.currentTarget.value)} />
        <Alert message={error} />
        <button type="submit">Add</button>
      </form>
    </details>
  );
}
