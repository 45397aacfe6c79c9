import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
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

export interface RankedMessage {
  message: MessageRecord;
  score: number;
}

/**
 * Search over conversation history (the `messages` table; its vectors, migration 0011); writing messages belongs to
 * the runtime.
 */
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
  async search(terms: string[], filter: RecallFilter, limit: number): Promise<RankedMessage[]> {
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

  /** Messages whose vector of `model` is nearest `vector`, best first; score = cosine similarity. */
  async nearest(model: string, vector: Float32Array, filter: RecallFilter, limit: number): Promise<RankedMessage[]> {
    const distance = this.dialect.search.vectorDistance('v.embedding', vector, vector.length);
    const q = (this.db as Kysely<any>)
      .selectFrom('message_vectors as v')
      .innerJoin('messages', 'messages.id', 'v.message_id')
      .selectAll('messages')
      .select(distance.as('distance'))
      .where('v.agent_id', '=', filter.agentId)
      .where('v.model', '=', model)
      .where('v.dim', '=', vector.length);
    const rows = await this.filtered(q, filter).orderBy('distance').limit(limit).execute();
    return rows.map(({ distance: d, ...message }: any) => ({
      message: message as MessageRecord,
      score: 1 - Number(d),
    }));
  }

  /** Queues every embeddable message of the agent for `model` and drops its vectors of any other model. */
  async requeueVectors(agentId: string, model: string, now: string): Promise<void> {
    const db = this.db as Kysely<any>;
    await db.deleteFrom('message_vectors').where('agent_id', '=', agentId).where('model', '!=', model).execute();
    await db
      .insertInto('message_embed_queue')
      .columns(['message_id', 'agent_id', 'attempts', 'next_at'])
      .expression(
        db
          .selectFrom('messages')
          .select(['id', 'agent_id', sql.lit(0).as('attempts'), sql.val(now).as('next_at')])
          .where('agent_id', '=', agentId)
          .where('role', 'in', ['user', 'assistant'])
          .where('text', '<>', ''),
      )
      .onConflict((oc) =>
        oc.column('message_id').doUpdateSet({ attempts: 0, next_at: now, lease_until: null, error: null }),
      )
      .execute();
  }

  /** The newest messages, when there is no query text. */
  async recent(filter: RecallFilter, limit: number): Promise<MessageRecord[]> {
    const q = (this.db as Kysely<any>).selectFrom('messages').selectAll('messages');
    return this.filtered(q, filter).orderBy('messages.seq', 'desc').limit(limit).execute() as Promise<MessageRecord[]>;
  }
}
