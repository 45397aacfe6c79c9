import type { Kysely } from 'kysely';
import type { Dialect } from './dialect/types.js';
import type { Database } from './schema.js';

/** The tables of migration 0011, as this store reads and writes them. */
interface MessageVectorTables {
  message_embed_queue: {
    message_id: string;
    agent_id: string;
    attempts: number;
    next_at: string;
    lease_until: string | null;
    error: string | null;
  };
  message_vectors: { message_id: string; agent_id: string; model: string; dim: number; embedding: unknown };
  messages: { id: string; agent_id: string; role: string; text: string };
  agents: { id: string; embedding: string | null; embedding_config: string | null };
}

export interface MessageEmbedClaim {
  id: string;
  agent_id: string;
  text: string;
  /** The agent's embedding handle when the message was claimed. */
  model: string;
  lease: string;
}

/**
 * The background embedding queue of recall memory (`message_embed_queue`, filled by triggers) and the vectors it
 * produces. Same lease protocol as the passage queue: claims expire, several processes share the queue, a failed
 * batch is retried with backoff; the messages stay full-text searchable meanwhile.
 */
export class MessageVectorStore {
  private readonly db: Kysely<MessageVectorTables>;

  constructor(
    db: Kysely<Database>,
    private readonly dialect: Dialect,
    /** An agent's embedding handle (the catalogue's rule, which the store does not know). */
    private readonly handleOf: (agent: { embedding: string | null; embedding_config: string | null }) => string,
  ) {
    this.db = db as unknown as Kysely<MessageVectorTables>;
  }

  async claimDue(now: string, leaseUntil: string, limit: number): Promise<MessageEmbedClaim[]> {
    // The indexer polls twice a second: an empty queue costs one read, not a transaction (three round trips on
    // PostgreSQL, competing with searches for the pool).
    const any = await this.db
      .selectFrom('message_embed_queue')
      .select('message_id')
      .where('next_at', '<=', now)
      .limit(1)
      .executeTakeFirst();
    if (!any) return [];
    return this.db.transaction().execute(async (trx) => {
      let due = trx
        .selectFrom('message_embed_queue as q')
        .innerJoin('messages as m', 'm.id', 'q.message_id')
        .innerJoin('agents as a', 'a.id', 'q.agent_id')
        .select(['q.message_id', 'q.agent_id', 'm.text', 'a.embedding', 'a.embedding_config'])
        .where('q.next_at', '<=', now)
        .where((eb) => eb.or([eb('q.lease_until', 'is', null), eb('q.lease_until', '<', now)]))
        .orderBy('q.next_at')
        .limit(limit);
      if (this.dialect.name === 'postgres') due = due.forUpdate('q').skipLocked();
      const rows = await due.execute();
      if (rows.length === 0) return [];
      await trx
        .updateTable('message_embed_queue')
        .set({ lease_until: leaseUntil })
        .where(
          'message_id',
          'in',
          rows.map((r) => r.message_id),
        )
        .execute();
      return rows.map((r) => ({
        id: r.message_id,
        agent_id: r.agent_id,
        text: r.text,
        model: this.handleOf(r),
        lease: leaseUntil,
      }));
    });
  }

  /**
   * Stores the vectors and takes the messages off the queue, unless a message was queued again meanwhile (its
   * text or its agent's model changed: the lease was reset), which then stays queued.
   */
  async storeVectors(items: { claim: MessageEmbedClaim; vector: Float32Array }[]): Promise<number> {
    if (items.length === 0) return 0;
    return this.db.transaction().execute(async (trx) => {
      const current = await trx
        .selectFrom('message_embed_queue')
        .select(['message_id', 'lease_until'])
        .where(
          'message_id',
          'in',
          items.map((i) => i.claim.id),
        )
        .execute();
      const leased = new Map(current.map((r) => [r.message_id, r.lease_until]));
      const fresh = items.filter(({ claim }) => leased.get(claim.id) === claim.lease);
      if (fresh.length === 0) return 0;
      const ids = fresh.map((f) => f.claim.id);
      await trx.deleteFrom('message_vectors').where('message_id', 'in', ids).execute();
      await trx
        .insertInto('message_vectors')
        .values(
          fresh.map(({ claim, vector }) => ({
            message_id: claim.id,
            agent_id: claim.agent_id,
            model: claim.model,
            dim: vector.length,
            embedding: this.dialect.search.encodeVector(vector),
          })),
        )
        .execute();
      await trx.deleteFrom('message_embed_queue').where('message_id', 'in', ids).execute();
      return fresh.length;
    });
  }

  async failEmbedding(ids: string[], error: string, nextAt: (attempts: number) => string): Promise<void> {
    if (ids.length === 0) return;
    const rows = await this.db
      .selectFrom('message_embed_queue')
      .select(['message_id', 'attempts'])
      .where('message_id', 'in', ids)
      .execute();
    for (const row of rows) {
      const attempts = row.attempts + 1;
      await this.db
        .updateTable('message_embed_queue')
        .set({ attempts, next_at: nextAt(attempts), lease_until: null, error: error.slice(0, 1000) })
        .where('message_id', '=', row.message_id)
        .execute();
    }
  }

  async ensureVectorIndex(): Promise<void> {
    // An agent's messages are scanned exactly (the agent index narrows them); no ANN index to create.
  }

  /** Messages of the agent still waiting for a vector (tests, status). */
  async pending(agentId: string): Promise<number> {
    const row = await this.db
      .selectFrom('message_embed_queue')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('agent_id', '=', agentId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
