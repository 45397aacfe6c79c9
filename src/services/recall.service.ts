import { EmbedderUnavailable, type Embedders } from '../embedders/index.js';
import { invalidField } from '../lib/errors.js';
import { formatInZone, parseBound, zoneOrUtc } from '../lib/zoned-time.js';
import { assessTrust, promote, type Scored } from '../search/fusion.js';
import { embedQuery, type FallbackNotices } from './query-embedding.js';
import type { Stores } from '../store/index.js';
import type { MessageRecord } from '../store/message.store.js';
import type { RankedMessage, RecallFilter } from '../store/recall.store.js';
import type { MemoryEvents } from '../domain/memory-events.js';
import { embeddingHandleOf } from '../domain/models.js';
import { fuseRanks, queryTerms } from './search-text.js';
import type { MessageSearchBody, OrgMessageSearchBody } from '../schemas/capture.js';
import { toStoredMessage } from '../domain/messages.js';
import { missing } from '../domain/errors.js';

export type RecallRole = 'user' | 'assistant' | 'tool' | 'system';

export interface RecallSearchOptions {
  query?: string | null | undefined;
  /** Default: user and assistant messages (what a person said and what the agent answered). */
  roles?: RecallRole[] | null | undefined;
  /** Default 5 (Letta's `RETRIEVAL_QUERY_DEFAULT_PAGE_SIZE`). */
  limit?: number | null | undefined;
  /** `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM` (naive = the agent's timezone), inclusive; a date-only end is end of day. */
  startDate?: string | null | undefined;
  endDate?: string | null | undefined;
  /** `null`: the agent's default thread only. */
  conversationId?: string | null | undefined;
  /** `hybrid` (default): full text and vectors fused; `fts` or `vector`: one channel. */
  mode?: RecallSearchMode | undefined;
  /** Called when a hybrid search answered from full text alone because the embedding handle is not usable here. */
  onFallback?: ((reason: string) => void) | undefined;
}

export type RecallSearchMode = 'hybrid' | 'fts' | 'vector';

export interface RecallHit {
  message: MessageRecord;
  /** ISO timestamp in the agent's timezone. */
  timestamp: string;
  /** Full-text score, or the fused (RRF) score in hybrid mode, or the cosine in vector mode; absent without a query. */
  relevance?: number;
  /** 1-based ranks in each channel that found the message (hybrid mode). */
  ranks?: { fts?: number | undefined; vector?: number | undefined };
  mode?: RecallSearchMode;
}

const DEFAULT_ROLES: RecallRole[] = ['user', 'assistant'];
const MAX_LIMIT = 1000;
/** As archival search (archival.service.ts `FUSION`): candidates per channel, full-text weight 2, RRF k = 5. */
const FUSION = { depth: 100, lexicalWeight: 2, vectorWeight: 1, rrfK: 5 };

/**
 * Recall memory: search over the agent's conversation history, for the `conversation_search` tool and the API.
 * Text queries fuse full-text ranks (stemmed, stop words dropped) with the ranks of the messages' vectors (embedded
 * in the background with the agent's embedding handle, migration 0011), with the same per-query trust as archival
 * search (src/search/fusion.ts); without a query the newest messages come first. Unlike Letta's SQL fallback, the
 * date range is always applied, to both channels.
 */
export class RecallService implements MemoryEvents {
  constructor(
    private readonly stores: Stores,
    private readonly embedders: Embedders,
    /** For agents created without an embedding handle. */
    private readonly defaultEmbedding: string,
    /** Shared with archival search: one warning per agent whichever memory it searched. */
    private readonly fallbacks: FallbackNotices,
  ) {}

  async search(agentId: string, options: RecallSearchOptions, tx: Stores = this.stores): Promise<RecallHit[]> {
    const agent = await tx.agents.findById(agentId);
    if (!agent) throw missing('Agent', agentId);
    const scope = { agentId, handle: embeddingHandleOf(agent, this.defaultEmbedding) };
    return this.searchIn(scope, zoneOrUtc(agent.timezone), options, tx);
  }

  /**
   * With no agent, every agent's history is searched, with dates read in UTC, by full text alone: agents embed with
   * different models, and vectors of different models are never compared.
   */
  private async searchIn(
    scope: { agentId: string; handle: string } | undefined,
    timeZone: string,
    options: RecallSearchOptions,
    tx: Stores,
  ): Promise<RecallHit[]> {
    const agentId = scope?.agentId;
    const limit = options.limit ?? 5;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
      throw invalidField(['limit'], `limit must be an integer between 1 and ${MAX_LIMIT}`, limit);
    const filter: RecallFilter = {
      agentId,
      roles: options.roles?.length ? options.roles : DEFAULT_ROLES,
      conversationId: options.conversationId,
      start: options.startDate ? parseBound(options.startDate, 'start', timeZone, ['start_date']) : undefined,
      end: options.endDate ? parseBound(options.endDate, 'end', timeZone, ['end_date']) : undefined,
      excludeToolCalls: ['conversation_search'],
    };
    const at = (message: MessageRecord) => formatInZone(message.created_at, timeZone);
    const terms = queryTerms(options.query ?? '');
    if (terms.length === 0) {
      const rows = await tx.recall.recent(filter, limit);
      return rows.map((message) => ({ message, timestamp: at(message) }));
    }
    const mode = options.mode ?? 'hybrid';
    if (!scope && mode === 'vector')
      throw invalidField(['search_mode'], 'a vector search needs an agent_id: agents embed with different models');
    if (mode === 'fts' || !scope) {
      const rows = await tx.recall.search(terms, filter, limit);
      return rows.map(({ message, score }) => ({ message, timestamp: at(message), relevance: score, mode }));
    }
    const depth = Math.max(FUSION.depth, limit);
    const [lexical, vector] = await Promise.all([
      mode === 'vector' ? [] : tx.recall.search(terms, filter, depth),
      this.vectorHits(scope.handle, options.query!.trim(), filter, depth, tx).catch((error: unknown) => {
        if (mode !== 'hybrid' || !(error instanceof EmbedderUnavailable)) throw error;
        this.fallbacks.note(scope.agentId, error.message);
        options.onFallback?.(error.message);
        return [];
      }),
    ]);
    if (mode === 'vector')
      return vector
        .slice(0, limit)
        .map(({ message, score }) => ({ message, timestamp: at(message), relevance: score, mode }));

    const seqsOf = (hits: RankedMessage[]) => hits.map((h) => h.message.seq);
    const fused = fuseRanks(
      [
        { weight: FUSION.lexicalWeight, seqs: seqsOf(lexical) },
        { weight: FUSION.vectorWeight, seqs: seqsOf(vector) },
      ],
      FUSION.rrfK,
    );
    const scored = (hits: RankedMessage[]): Scored[] => hits.map((h) => ({ seq: h.message.seq, score: h.score }));
    // The engines' full-text scores have no BM25 ceiling here: full text keeps the lead unless the vector
    // channel does not rate its winner.
    const { vectorLead } = assessTrust({ lexical: scored(lexical), lexicalCeiling: undefined, vector: scored(vector) });
    let ranked = [...fused].map(([seq, score]) => ({ seq, score }));
    if (vectorLead !== undefined) ranked = promote(ranked, vectorLead);
    const messages = new Map([...vector, ...lexical].map((h) => [h.message.seq, h.message]));
    const rank = (hits: RankedMessage[], seq: number) => {
      const i = hits.findIndex((h) => h.message.seq === seq);
      return i < 0 ? undefined : i + 1;
    };
    return ranked
      .sort((a, b) => b.score - a.score || b.seq - a.seq)
      .slice(0, limit)
      .map(({ seq, score }) => {
        const message = messages.get(seq)!;
        return {
          message,
          timestamp: at(message),
          relevance: score,
          ranks: { fts: rank(lexical, seq), vector: rank(vector, seq) },
          mode,
        };
      });
  }

  private async vectorHits(
    handle: string,
    query: string,
    filter: RecallFilter,
    depth: number,
    tx: Stores,
  ): Promise<RankedMessage[]> {
    const vector = await embedQuery(this.embedders, handle, query);
    return tx.recall.nearest(handle, vector, filter, depth);
  }

  /** The agent's messages follow its new model: vectors of the old one are dropped and every message queued again. */
  async embeddingChanged(tx: Stores, agentId: string, handle: string): Promise<void> {
    await tx.recall.requeueVectors(agentId, handle, new Date().toISOString());
  }

  /** One agent's history, or with no agent every agent's; a conversation of `default` is the agent's own thread. */
  private searchScoped(
    body: MessageSearchBody | OrgMessageSearchBody,
    defaultLimit: number,
    onFallback?: (reason: string) => void,
  ): Promise<RecallHit[]> {
    const options: RecallSearchOptions = {
      query: body.query,
      mode: body.search_mode,
      onFallback,
      roles: body.roles,
      limit: body.limit ?? defaultLimit,
      startDate: body.start_date,
      endDate: body.end_date,
      conversationId: body.conversation_id === 'default' ? null : (body.conversation_id ?? undefined),
    };
    return body.agent_id ? this.search(body.agent_id, options) : this.searchIn(undefined, 'UTC', options, this.stores);
  }

  /** `POST /v1/agents/messages/search`: Letta's `MessageSearchResult`s, full-text ranked. */
  async searchStoredMessages(body: OrgMessageSearchBody) {
    const hits = await this.searchScoped(body, 50);
    return hits.map((hit, i) => ({
      embedded_text: hit.message.text,
      message: toStoredMessage(hit.message),
      fts_rank: hit.relevance === undefined ? null : i + 1,
      vector_rank: null,
      // Reciprocal rank fusion over the one ranking there is (k = 60, as Letta fuses).
      rrf_score: 1 / (60 + i + 1),
    }));
  }

  /** `POST /v1/messages/search`: recall hits as Letta Cloud's message search results. */
  async searchMessages(body: MessageSearchBody, onFallback?: (reason: string) => void) {
    const hits = await this.searchScoped(body, 10, onFallback);
    return hits.map(({ message, timestamp }) => ({
      message_type: `${message.role === 'tool' ? 'tool_return' : message.role}_message`,
      message_id: message.id,
      agent_id: message.agent_id,
      conversation_id: message.conversation_id,
      content: message.text,
      created_at: timestamp,
    }));
  }
}
