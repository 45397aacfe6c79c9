import { invalidField } from '../lib/errors.js';
import { formatInZone, parseBound, zoneOrUtc } from '../lib/zoned-time.js';
import type { Stores } from '../store/index.js';
import type { MessageRecord } from '../store/message.store.js';
import type { RecallFilter } from '../store/recall.store.js';
import { queryTerms } from './search-text.js';
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
}

export interface RecallHit {
  message: MessageRecord;
  /** ISO timestamp in the agent's timezone. */
  timestamp: string;
  /** Full-text score; absent when there was no query (newest first). */
  relevance?: number;
}

const DEFAULT_ROLES: RecallRole[] = ['user', 'assistant'];
const MAX_LIMIT = 1000;

/**
 * Recall memory: search over the agent's conversation history, for the `conversation_search` tool and the API.
 * Text queries rank by full-text score (stemmed, stop words dropped); without a query the newest messages come
 * first. Unlike Letta's SQL fallback, the date range is always applied.
 */
export class RecallService {
  constructor(private readonly stores: Stores) {}

  async search(agentId: string, options: RecallSearchOptions, tx: Stores = this.stores): Promise<RecallHit[]> {
    const agent = await tx.agents.findById(agentId);
    if (!agent) throw missing('Agent', agentId);
    return this.searchIn(agentId, zoneOrUtc(agent.timezone), options, tx);
  }

  /** `agentId` undefined searches every agent's history, with dates read in UTC. */
  private async searchIn(
    agentId: string | undefined,
    timeZone: string,
    options: RecallSearchOptions,
    tx: Stores,
  ): Promise<RecallHit[]> {
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
    const terms = queryTerms(options.query ?? '');
    if (terms.length === 0) {
      const rows = await tx.recall.recent(filter, limit);
      return rows.map((message) => ({ message, timestamp: formatInZone(message.created_at, timeZone) }));
    }
    const rows = await tx.recall.search(terms, filter, limit);
    return rows.map(({ message, score }) => ({
      message,
      timestamp: formatInZone(message.created_at, timeZone),
      relevance: score,
    }));
  }

  /** One agent's history, or with no agent every agent's; a conversation of `default` is the agent's own thread. */
  private searchScoped(body: MessageSearchBody | OrgMessageSearchBody, defaultLimit: number): Promise<RecallHit[]> {
    const options: RecallSearchOptions = {
      query: body.query,
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
  async searchMessages(body: MessageSearchBody) {
    const hits = await this.searchScoped(body, 10);
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
