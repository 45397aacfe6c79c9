import { conflict, invalidField, notFound } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { nowIso, toIso } from '../lib/time.js';
import { formatInZone, parseBound, zoneOrUtc } from '../lib/zoned-time.js';
import { EmbedderUnavailable, type Embedders } from '../embedders/index.js';
import {
  MAX_TOP_K,
  type Archive,
  type ArchiveCreate,
  type Passage,
  type PassageCreate,
  type SearchMode,
} from '../schemas/archival.js';
import type { AgentRecord } from '../store/agent.store.js';
import type { ArchiveRecord, PassageFilter, PassageRecord, Ranked } from '../store/archival.store.js';
import type { Stores } from '../store/index.js';
import { parseJson, toJsonText } from '../store/json.js';
import type { PageSpec } from '../store/paging.js';
import type { EmbeddingIndexer } from './embedding-indexer.js';
import type { MemoryEvents } from '../domain/memory-events.js';
import { embeddingConfigFor, embeddingHandleOf, requestedHandle } from '../domain/models.js';
import { fuseRanks, queryPeriod, queryTerms } from './search-text.js';
import { missing } from '../domain/errors.js';
import { assessTrust, promote } from '../search/fusion.js';
import { embedQuery, type FallbackNotices } from './query-embedding.js';

export interface ArchivalSearchOptions {
  query: string;
  tags?: string[] | null | undefined;
  tagMatchMode?: 'any' | 'all' | undefined;
  /** Default 5, as Letta's tool; at most {@link MAX_TOP_K}. */
  topK?: number | null | undefined;
  /** ISO dates or datetimes; naive values are read in the agent's timezone, a date-only end as end of day. */
  startDatetime?: string | null | undefined;
  endDatetime?: string | null | undefined;
  mode?: SearchMode | undefined;
  /** The query's embedding, when the caller already has it (made with the archive's model; checked for size). */
  queryVector?: Float32Array | undefined;
  /** Called when a hybrid search answered from full text alone because the embedding handle is not usable here. */
  onFallback?: ((reason: string) => void) | undefined;
}

export interface ArchivalHit {
  passage: PassageRecord;
  tags: string[];
  /** The fused score (RRF), or the single channel's score in lexical/vector mode; higher is better. */
  score: number;
}

/** What `archival_memory_search` and the REST search return per hit. */
export interface ArchivalSearchResult {
  id: string;
  timestamp: string;
  content: string;
  tags: string[];
  relevance: number;
}

/**
 * Fusion parameters, tuned on LoCoMo (docs/benchmarks/2026-11-lab-notebook.md, "Archival retrieval"). Full-text ranks weigh more
 * than vector ranks: conversational memories are usually asked about in their own words, and USE-lite alone
 * retrieves worse than BM25; vectors add the paraphrases BM25 cannot see.
 */
export const FUSION = {
  lexicalWeight: 2,
  vectorWeight: 1,
  rrfK: 5,
  /** Candidates taken from each channel before fusing. */
  depth: 100,
  /** Share of a passage's fused score lent to its neighbours (previous and next insert in its archive). */
  neighbourShare: 0.1,
  /** Share of the summed fused score of candidates written at the same instant added to each of them. */
  sameTimeShare: 0.1,
  /** Days after a period the query names whose passages still count as of that period (events are told later). */
  periodLaterDays: 7,
};

const DEFAULT_TOP_K = 5;

/** The search's filter narrowed to the period the query names, or undefined when it names none or none is left. */
function periodFilter(query: string, filter: PassageFilter, timeZone: string): PassageFilter | undefined {
  const period = queryPeriod(query, FUSION.periodLaterDays);
  if (!period) return undefined;
  let start = parseBound(period.start, 'start', timeZone, ['query', 'query']);
  let end = parseBound(period.end, 'end', timeZone, ['query', 'query']);
  if (filter.start && filter.start > start) start = filter.start;
  if (filter.end && filter.end < end) end = filter.end;
  return start <= end ? { ...filter, start, end } : undefined;
}

function archiveName(agentName: string): string {
  return `${agentName}'s Archive`;
}

export function toArchive(row: ArchiveRecord): Archive {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    vector_db_provider: 'native',
    embedding_config: parseJson(row.embedding_config, null),
    metadata: parseJson(row.metadata, {}),
    created_at: row.created_at,
    updated_at: row.updated_at,
    created_by_id: null,
    last_updated_by_id: null,
  };
}

/**
 * Archival memory: passages in archives (each agent gets a default archive on its first insert; archives can be
 * shared), full-text visible at once and embedded in the background, searched by fusing full-text and vector
 * ranks. Every method takes an optional `tx`, so the agent runtime's memory tools can call it inside their
 * own transaction.
 */
export class ArchivalService implements MemoryEvents {
  constructor(
    private readonly stores: Stores,
    private readonly embedders: Embedders,
    private readonly indexer: EmbeddingIndexer,
    /** For archives created without an embedding handle. */
    private readonly defaultEmbedding: string,
    /** Shared with recall search: one warning per agent whichever memory it searched. */
    private readonly fallbacks: FallbackNotices,
  ) {}

  /** `options` whose fallback is logged once per `owner` before the caller hears of it. */
  private loggingFallback(owner: string, options: ArchivalSearchOptions): ArchivalSearchOptions {
    return {
      ...options,
      onFallback: (reason) => {
        this.fallbacks.note(owner, reason);
        options.onFallback?.(reason);
      },
    };
  }

  // ---- presentation ---------------------------------------------------------------------------------------

  async present(rows: PassageRecord[], tx: Stores = this.stores): Promise<Passage[]> {
    const tags = await tx.archival.tagsFor(rows.map((r) => r.id));
    const configs = new Map<string, unknown>();
    for (const archiveId of new Set(rows.map((r) => r.archive_id))) {
      const archive = await tx.archival.findArchive(archiveId);
      configs.set(archiveId, parseJson(archive?.embedding_config, null));
    }
    return rows.map((row) => ({
      id: row.id,
      text: row.text,
      // Vectors stay in the store: they are large, model-specific and no client reads them back.
      embedding: null,
      embedding_config: configs.get(row.archive_id) as Passage['embedding_config'],
      archive_id: row.archive_id,
      file_id: null,
      file_name: null,
      source_id: null,
      metadata: parseJson(row.metadata, {}),
      tags: tags.get(row.id) ?? [],
      is_deleted: false,
      created_at: row.created_at,
      updated_at: row.updated_at,
      created_by_id: null,
      last_updated_by_id: null,
    }));
  }

  // ---- archives -------------------------------------------------------------------------------------------

  async requireArchive(archiveId: string, tx: Stores = this.stores): Promise<ArchiveRecord> {
    const row = await tx.archival.findArchive(archiveId);
    if (!row) throw missing('Archive', archiveId);
    return row;
  }

  private async requireAgent(agentId: string, tx: Stores): Promise<AgentRecord> {
    const row = await tx.agents.findById(agentId);
    if (!row) throw missing('Agent', agentId);
    return row;
  }

  private newArchiveRow(input: {
    name: string;
    description?: string | null | undefined;
    embedding: string;
    embeddingConfig?: unknown;
    owner?: string;
  }) {
    const now = nowIso();
    return {
      id: newId('archive'),
      name: input.name,
      description: input.description ?? null,
      embedding: input.embedding,
      embedding_config: JSON.stringify(input.embeddingConfig ?? embeddingConfigFor(input.embedding)),
      metadata: '{}',
      owner_agent_id: input.owner ?? null,
      created_at: now,
      updated_at: now,
    };
  }

  /** An archive another resource owns (a folder's passages), inserted in the caller's transaction. */
  async insertArchiveRow(
    tx: Stores,
    input: { name: string; embedding: string; embeddingConfig: unknown },
  ): Promise<ArchiveRecord> {
    const row = this.newArchiveRow(input);
    await tx.archival.insertArchive(row);
    return { seq: 0, ...row };
  }

  async createArchive(input: ArchiveCreate): Promise<Archive> {
    const handle = requestedHandle(input.embedding, input.embedding_config) ?? this.defaultEmbedding;
    const config = { ...embeddingConfigFor(handle), ...(input.embedding_config ?? {}), handle };
    const row = this.newArchiveRow({
      name: input.name,
      description: input.description,
      embedding: handle,
      embeddingConfig: config,
    });
    await this.stores.archival.insertArchive(row);
    return toArchive({ seq: 0, ...row });
  }

  async updateArchive(
    archiveId: string,
    patch: { name?: string | null | undefined; description?: string | null | undefined },
  ): Promise<Archive> {
    return this.stores.transaction(async (tx) => {
      await this.requireArchive(archiveId, tx);
      await tx.archival.updateArchive(archiveId, {
        ...(patch.name != null ? { name: patch.name } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        updated_at: nowIso(),
      });
      return toArchive(await this.requireArchive(archiveId, tx));
    });
  }

  async deleteArchive(archiveId: string): Promise<void> {
    if (!(await this.stores.archival.deleteArchive(archiveId))) throw missing('Archive', archiveId);
  }

  async listArchives(
    filter: { name?: string | undefined; agentId?: string | undefined },
    page: PageSpec,
  ): Promise<Archive[]> {
    return (await this.stores.archival.listArchives(filter, page)).map(toArchive);
  }

  /** An archive joins an agent's searches only if it shares the agent's embedding model: vectors never mix. */
  async attach(agentId: string, archiveId: string): Promise<void> {
    await this.stores.transaction(async (tx) => {
      const agent = await this.requireAgent(agentId, tx);
      const archive = await this.requireArchive(archiveId, tx);
      const handle = this.handleOf(agent);
      if (archive.embedding !== handle) {
        throw conflict(
          `Archive '${archive.name}' (${archiveId}) is embedded with '${archive.embedding}' but agent ${agentId} uses '${handle}'; vectors of different models cannot be searched together`,
        );
      }
      await tx.archival.attach(agentId, archiveId, nowIso());
    });
  }

  async detach(agentId: string, archiveId: string): Promise<void> {
    await this.stores.transaction(async (tx) => {
      await this.requireAgent(agentId, tx);
      await this.requireArchive(archiveId, tx);
      await tx.archival.detach(agentId, archiveId);
    });
  }

  private handleOf(agent: AgentRecord): string {
    return embeddingHandleOf(agent, this.defaultEmbedding);
  }

  /** The archive an agent's own inserts go to, created as `"{name}'s Archive"` on first use. */
  async defaultArchive(agentId: string, tx: Stores = this.stores): Promise<ArchiveRecord> {
    const agent = await this.requireAgent(agentId, tx);
    const [first] = await tx.archival.archivesOf(agentId);
    if (first) return first;
    const handle = this.handleOf(agent);
    const row = this.newArchiveRow({
      name: archiveName(agent.name),
      embedding: handle,
      embeddingConfig: parseJson(agent.embedding_config, null) ?? undefined,
      owner: agentId,
    });
    await tx.archival.insertArchive(row);
    await tx.archival.attach(agentId, row.id, row.created_at);
    return { seq: 0, ...row };
  }

  // ---- passages -------------------------------------------------------------------------------------------

  private async insertRows(tx: Stores, archiveId: string, inputs: PassageCreate[]): Promise<PassageRecord[]> {
    const now = nowIso();
    const rows = inputs.map((input, i) => {
      if (input.text.trim().length === 0) throw invalidField(['body', i, 'text'], 'text must not be empty');
      let createdAt = now;
      if (input.created_at) {
        const parsed = Date.parse(input.created_at);
        if (Number.isNaN(parsed))
          throw invalidField(['body', 'created_at'], `Invalid datetime '${input.created_at}'`, input.created_at);
        createdAt = toIso(parsed);
      }
      return {
        id: newId('passage'),
        archive_id: archiveId,
        text: input.text,
        metadata: toJsonText(input.metadata ?? {}) ?? '{}',
        created_at: createdAt,
        updated_at: now,
        embed_status: 'pending' as const,
        embed_attempts: 0,
        embed_next_at: now,
        embed_lease_until: null,
        embed_error: null,
      };
    });
    await tx.archival.insertPassages(
      rows,
      inputs.map((i) => i.tags ?? []),
    );
    // Embedding runs in the background: callers wake the indexer once their transaction has committed (afterCommit).
    return rows.map((r) => ({ seq: 0, ...r }));
  }

  /** One passage (no chunking) in the agent's default archive; lexically searchable when this returns. */
  async insert(agentId: string, input: PassageCreate, tx?: Stores): Promise<Passage> {
    const work = async (t: Stores) => {
      const archive = await this.defaultArchive(agentId, t);
      const [row] = await this.insertRows(t, archive.id, [input]);
      return (await this.present([row!], t))[0]!;
    };
    return (tx ?? this.stores).transaction(async (t) => {
      t.afterCommit(() => this.indexer.kick());
      return work(t);
    });
  }

  async insertIntoArchive(archiveId: string, inputs: PassageCreate[], tx: Stores = this.stores): Promise<Passage[]> {
    return tx.transaction(async (t) => {
      t.afterCommit(() => this.indexer.kick());
      await this.requireArchive(archiveId, t);
      return this.present(await this.insertRows(t, archiveId, inputs), t);
    });
  }

  async list(
    agentId: string,
    query: {
      after?: string | undefined;
      before?: string | undefined;
      limit: number;
      ascending: boolean;
      search?: string | undefined;
    },
  ): Promise<Passage[]> {
    await this.requireAgent(agentId, this.stores);
    const archives = await this.stores.archival.archivesOf(agentId);
    const rows = await this.stores.archival.listPassages(
      archives.map((a) => a.id),
      query.search,
      { after: query.after, before: query.before, limit: query.limit, order: query.ascending ? 'asc' : 'desc' },
    );
    return this.present(rows);
  }

  /** Deletes a passage of one of the agent's archives; its tags, vector and full-text entry go with it. */
  async delete(agentId: string, passageId: string, tx: Stores = this.stores): Promise<void> {
    await this.requireAgent(agentId, tx);
    const passage = await tx.archival.findPassage(passageId);
    const archives = await tx.archival.archivesOf(agentId);
    if (!passage || !archives.some((a) => a.id === passage.archive_id))
      throw notFound(`Passage with id '${passageId}' not found for agent ${agentId}`);
    await tx.archival.deletePassage(passageId);
  }

  async deleteFromArchive(archiveId: string, passageId: string): Promise<void> {
    const passage = await this.stores.archival.findPassage(passageId);
    if (!passage || passage.archive_id !== archiveId)
      throw notFound(`Passage with id '${passageId}' not found in archive ${archiveId}`);
    await this.stores.archival.deletePassage(passageId);
  }

  /** How many passages the agent's archives hold and their distinct tags (the prompt's memory metadata). */
  async stats(agentId: string, tx: Stores = this.stores): Promise<{ count: number; tags: string[] }> {
    const archiveIds = (await tx.archival.archivesOf(agentId)).map((a) => a.id);
    const [count, tags] = await Promise.all([
      tx.archival.countPassages(archiveIds),
      tx.archival.distinctTags(archiveIds),
    ]);
    return { count, tags };
  }

  // ---- search ---------------------------------------------------------------------------------------------

  /** The agent's search results in Letta's shape, timestamps in the agent's timezone. */
  async search(
    agentId: string,
    options: ArchivalSearchOptions,
    tx: Stores = this.stores,
  ): Promise<ArchivalSearchResult[]> {
    const agent = await this.requireAgent(agentId, tx);
    const timeZone = zoneOrUtc(agent.timezone);
    const hits = await this.rank(agent, options, tx);
    return hits.map((h) => ({
      id: h.passage.id,
      timestamp: formatInZone(h.passage.created_at, timeZone),
      content: h.passage.text,
      tags: h.tags,
      relevance: h.score,
    }));
  }

  /** Ranked passages of an agent's archives. */
  async rank(agent: AgentRecord, options: ArchivalSearchOptions, tx: Stores = this.stores): Promise<ArchivalHit[]> {
    const archives = await tx.archival.archivesOf(agent.id);
    return this.rankIn(archives, this.handleOf(agent), agent.timezone, this.loggingFallback(agent.id, options), tx);
  }

  /** `POST /v1/passages/search`: one agent's archives, or one archive. */
  async searchPassages(
    body: { query?: string | null; agentId?: string | null; archiveId?: string | null } & Omit<
      ArchivalSearchOptions,
      'query'
    >,
  ): Promise<{ passage: Passage; score: number; metadata: Record<string, unknown> }[]> {
    let hits: ArchivalHit[];
    if (body.agentId) {
      const agent = await this.requireAgent(body.agentId, this.stores);
      let archives = await this.stores.archival.archivesOf(agent.id);
      if (body.archiveId) archives = archives.filter((a) => a.id === body.archiveId);
      hits = await this.rankIn(
        archives,
        this.handleOf(agent),
        agent.timezone,
        this.loggingFallback(agent.id, { ...body, query: body.query ?? '' }),
      );
    } else if (body.archiveId) {
      const archive = await this.requireArchive(body.archiveId);
      hits = await this.rankIn(
        [archive],
        archive.embedding,
        'UTC',
        this.loggingFallback(archive.id, { ...body, query: body.query ?? '' }),
      );
    } else {
      hits = await this.rankEverywhere({ ...body, query: body.query ?? '' });
    }
    const passages = await this.present(hits.map((h) => h.passage));
    return passages.map((passage, i) => ({ passage, score: hits[i]!.score, metadata: {} }));
  }

  /**
   * Letta searches every archive when the search names neither an agent nor an archive. Vectors of different
   * models are never compared, so each embedding model ranks its own archives and the fused scores are merged.
   */
  private async rankEverywhere(options: ArchivalSearchOptions): Promise<ArchivalHit[]> {
    const byModel = new Map<string, ArchiveRecord[]>();
    for (const archive of await this.stores.archival.allArchives())
      byModel.set(archive.embedding, [...(byModel.get(archive.embedding) ?? []), archive]);
    const ranked = await Promise.all(
      [...byModel].map(([handle, archives]) => this.rankIn(archives, handle, 'UTC', options)),
    );
    return ranked
      .flat()
      .sort((a, b) => b.score - a.score)
      .slice(0, options.topK ?? DEFAULT_TOP_K);
  }

  /** Ranked passages of these archives, all embedded with `handle` (an agent's, or a folder's files). */
  async rankIn(
    archives: ArchiveRecord[],
    handle: string,
    agentTimeZone: string,
    options: ArchivalSearchOptions,
    tx: Stores = this.stores,
  ): Promise<ArchivalHit[]> {
    const topK = options.topK ?? DEFAULT_TOP_K;
    if (!Number.isInteger(topK) || topK < 1 || topK > MAX_TOP_K)
      throw invalidField(['query', 'top_k'], `top_k must be an integer between 1 and ${MAX_TOP_K}`, topK);
    const timeZone = zoneOrUtc(agentTimeZone);
    const filter: PassageFilter = {
      archiveIds: archives.map((a) => a.id),
      tags: options.tags ?? undefined,
      matchAllTags: options.tagMatchMode === 'all',
      start: options.startDatetime
        ? parseBound(options.startDatetime, 'start', timeZone, ['query', 'start_datetime'])
        : undefined,
      end: options.endDatetime
        ? parseBound(options.endDatetime, 'end', timeZone, ['query', 'end_datetime'])
        : undefined,
    };
    const query = options.query.trim();
    if (query === '' || archives.length === 0) return [];
    const mode = options.mode ?? 'hybrid';
    const depth = Math.max(FUSION.depth, topK);

    const foreign = archives.find((a) => a.embedding !== handle);
    if (foreign && mode !== 'lexical') {
      throw conflict(
        `Archive '${foreign.name}' (${foreign.id}) is embedded with '${foreign.embedding}', not '${handle}'; vectors of different models are never compared`,
      );
    }

    const terms = queryTerms(query);
    const period = mode === 'hybrid' ? periodFilter(query, filter, timeZone) : undefined;
    const [
      {
        lists: [lexical = [], inPeriod = []],
        ceiling,
      },
      vector,
    ] = await Promise.all([
      mode === 'vector'
        ? { lists: [], ceiling: undefined }
        : tx.archival.rankLexical(terms, period ? [filter, period] : [filter], depth),
      mode === 'lexical'
        ? []
        : this.vectorRanks(handle, options.queryVector ?? query, filter, depth, tx).catch((error: unknown) => {
            if (mode !== 'hybrid' || !(error instanceof EmbedderUnavailable)) throw error;
            options.onFallback?.(error.message);
            return [];
          }),
    ]);

    let scored: Ranked[];
    if (mode === 'hybrid') {
      const fused = fuseRanks(
        [
          { weight: FUSION.lexicalWeight, seqs: lexical.map((r) => r.seq) },
          { weight: FUSION.vectorWeight, seqs: vector.map((r) => r.seq) },
          // Passages of the period the query names get full-text ranks of their own, as strong as the archive's.
          { weight: FUSION.lexicalWeight, seqs: inPeriod.map((r) => r.seq) },
        ],
        FUSION.rrfK,
      );
      scored = await this.withContext(fused, filter, tx);
      const { vectorLead } = assessTrust({ lexical, lexicalCeiling: ceiling, vector });
      if (vectorLead !== undefined) scored = promote(scored, vectorLead);
    } else {
      scored = mode === 'lexical' ? lexical : vector;
    }
    const top = [...scored].sort((a, b) => b.score - a.score || b.seq - a.seq).slice(0, topK);
    const rows = new Map((await tx.archival.findPassagesBySeq(top.map((t) => t.seq))).map((r) => [r.seq, r]));
    const tags = await tx.archival.tagsFor([...rows.values()].map((r) => r.id));
    return top.flatMap((t) => {
      const passage = rows.get(t.seq);
      return passage ? [{ passage, tags: tags.get(passage.id) ?? [], score: t.score }] : [];
    });
  }

  /**
   * Vector ranks with the archive's model only. The query is embedded with the same handle as the stored
   * vectors and compared only with rows of that model and dimension; vectors of another dimension under the
   * same handle (a provider that changed its model) are an explicit error.
   */
  private async vectorRanks(
    handle: string,
    query: string | Float32Array,
    filter: PassageFilter,
    depth: number,
    tx: Stores,
  ): Promise<Ranked[]> {
    const vector = typeof query === 'string' ? await this.embedQuery(handle, query) : query;
    // Both at once (one round trip less on PostgreSQL); `nearest` only ever reads vectors of the query's dimension.
    const [other, nearest] = await Promise.all([
      tx.archival.otherDim(filter.archiveIds, handle, vector.length),
      tx.archival.nearest(handle, vector, filter, depth),
    ]);
    if (other !== undefined) {
      throw conflict(
        `Stored '${handle}' vectors have ${other} dimensions but the query embedding has ${vector.length}; re-embed the archive before searching`,
      );
    }
    return nearest;
  }

  /** The query's embedding with the archive's model; a provider failure is an explicit 502, never a fallback. */
  embedQuery(handle: string, query: string): Promise<Float32Array> {
    return embedQuery(this.embedders, handle, query);
  }

  /**
   * Context, as conversation memories need it. Passages stored with the same `created_at` form a unit (the turns
   * of one imported session, a batch of facts): within it a passage's insertion-order neighbours receive
   * `neighbourShare` of its fused score (the turn after a question often holds the answer), and every passage
   * receives `sameTimeShare` of the unit's summed score. Passages written at different instants (an agent's
   * separate inserts) do not lend each other anything.
   */
  private async withContext(fused: Map<number, number>, filter: PassageFilter, tx: Stores): Promise<Ranked[]> {
    if (fused.size === 0) return [];
    const scores = new Map(fused);
    // A neighbour joins the results only if it passes the search's own filters (tags, dates): only those have a time.
    const { neighbours, times } = await tx.archival.context([...fused.keys()], filter);
    if (FUSION.neighbourShare > 0) {
      for (const [seq, score] of fused) {
        const c = neighbours.get(seq);
        for (const n of [c?.prev, c?.next]) {
          if (n != null && times.has(n) && times.get(n) === c?.created_at)
            scores.set(n, (scores.get(n) ?? 0) + FUSION.neighbourShare * score);
        }
      }
    }
    if (FUSION.sameTimeShare > 0) {
      const group = new Map<string, number>();
      for (const [seq, score] of fused) {
        const at = times.get(seq);
        if (at) group.set(at, (group.get(at) ?? 0) + score);
      }
      for (const [seq, score] of scores)
        scores.set(seq, score + FUSION.sameTimeShare * (group.get(times.get(seq) ?? '') ?? 0));
    }
    return [...scores].map(([seq, score]) => ({ seq, score }));
  }

  // ---- embedding lifecycle --------------------------------------------------------------------------------

  async embeddingStatus(
    agentId: string,
  ): Promise<{ total: number; embedded: number; pending: number; failing: number; embedding: string | null }> {
    const agent = await this.requireAgent(agentId, this.stores);
    const archives = await this.stores.archival.archivesOf(agentId);
    return {
      ...(await this.stores.archival.embeddingProgress(archives.map((a) => a.id))),
      embedding: this.handleOf(agent),
    };
  }

  /** The agent's own archives follow its new model: every passage is queued again and old vectors dropped. */
  async embeddingChanged(tx: Stores, agentId: string, handle: string): Promise<void> {
    const owned = (await tx.archival.archivesOf(agentId)).filter(
      (a) => a.owner_agent_id === agentId && a.embedding !== handle,
    );
    if (owned.length === 0) return;
    const agent = await this.requireAgent(agentId, tx);
    const now = nowIso();
    for (const archive of owned) {
      await tx.archival.updateArchive(archive.id, {
        embedding: handle,
        embedding_config: agent.embedding_config ?? JSON.stringify(embeddingConfigFor(handle)),
        updated_at: now,
      });
    }
    await tx.archival.requeue(
      owned.map((a) => a.id),
      handle,
      now,
    );
    this.indexer.kick();
  }

  /** An agent's default archives go with it (cascading to passages, tags, vectors and full-text rows). */
  async agentDeleting(tx: Stores, agentId: string): Promise<void> {
    for (const archiveId of await tx.archival.ownedOnlyBy(agentId)) await tx.archival.deleteArchive(archiveId);
  }
}
