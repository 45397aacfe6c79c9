import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Dialect } from './dialect/types.js';
import type { MessageRecord } from './message.store.js';
import type { Database } from './schema.js';

export interface RecallFilter {
  /** Absent: every agent's history. */
  agentId?: string | undefined;
  roles: string[];
  /** `null`: the agent's default thread (messages outside any conversation). */
  conversationId?: string | null | undefined;
  start?: string | undefined;
  end?: string | undefined;
  /** Tool calls of these tools are left out (a search must not find the searches themselves). */
  excludeToolCalls: string[];
}

/** Read-only search over conversation history (the `messages` table); writing messages belongs to the runtime. */
export class RecallStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  private filtered<O>(q: SelectQueryBuilder<any, any, O>, filter: RecallFilter): SelectQueryBuilder<any, any, O> {
    let query = q.where('messages.role', 'in', filter.roles);
    if (filter.agentId !== undefined) query = query.where('messages.agent_id', '=', filter.agentId);
    if (filter.conversationId === null) query = query.where('messages.conversation_id', 'is', null);
    else if (filter.conversationId !== undefined)
      query = query.where('messages.conversation_id', '=', filter.conversationId);
    if (filter.start) query = query.where('messages.created_at', '>=', filter.start);
    if (filter.end) query = query.where('messages.created_at', '<=', filter.end);
    for (const tool of filter.excludeToolCalls) {
      query = query.where((eb: any) =>
        eb.or([eb('messages.tool_calls', 'is', null), eb('messages.tool_calls', 'not like', `%"${tool}"%`)]),
      );
    }
    return query;
  }

  /** Messages matching any of `terms`, best first, with their full-text score. */
  async search(
    terms: string[],
    filter: RecallFilter,
    limit: number,
  ): Promise<{ message: MessageRecord; score: number }[]> {
    const q = (this.db as Kysely<any>)
      .selectFrom(this.dialect.search.textMatches('messages', terms).as('m'))
      .innerJoin('messages', 'messages.seq', 'm.seq')
      .selectAll('messages')
      .select('m.score as score');
    const rows = await this.filtered(q, filter)
      .orderBy('m.score', 'desc')
      .orderBy('messages.seq', 'desc')
      .limit(limit)
      .execute();
    return rows.map(({ score, ...message }: any) => ({ message: message as MessageRecord, score: Number(score) }));
  }

  /** The newest messages, when there is no query text. */
  async recent(filter: RecallFilter, limit: number): Promise<MessageRecord[]> {
    const q = (this.db as Kysely<any>).selectFrom('messages').selectAll('messages');
    return this.filtered(q, filter).orderBy('messages.seq', 'desc').limit(limit).execute() as Promise<MessageRecord[]>;
  }
}
