import type { Kysely, Selectable } from 'kysely';
import { fetchPage, seqById, type PageSpec } from './paging.js';
import { containsText } from './text-match.js';
import type { ConversationRow, Database } from './schema.js';

export type ConversationRecord = Selectable<ConversationRow>;

export class ConversationStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly like: 'like' | 'ilike',
  ) {}

  async insert(row: Omit<ConversationRecord, 'seq'>): Promise<void> {
    await this.db.insertInto('conversations').values(row).execute();
  }

  /** Soft-deleted conversations are invisible to every lookup. */
  findById(id: string): Promise<ConversationRecord | undefined> {
    return this.db
      .selectFrom('conversations')
      .selectAll()
      .where('id', '=', id)
      .where('deleted', '=', 0)
      .executeTakeFirst();
  }

  async update(id: string, patch: Partial<Omit<ConversationRecord, 'seq' | 'id'>>): Promise<void> {
    if (Object.keys(patch).length > 0)
      await this.db.updateTable('conversations').set(patch).where('id', '=', id).execute();
  }

  listLive(agentId: string): Promise<ConversationRecord[]> {
    return this.db
      .selectFrom('conversations')
      .selectAll()
      .where('agent_id', '=', agentId)
      .where('deleted', '=', 0)
      .execute();
  }

  list(
    filter: { agentId?: string | undefined; summarySearch?: string | undefined },
    page: PageSpec,
  ): Promise<ConversationRecord[]> {
    let q = this.db.selectFrom('conversations').selectAll().where('deleted', '=', 0);
    if (filter.agentId) q = q.where('agent_id', '=', filter.agentId);
    if (filter.summarySearch) q = q.where(containsText('summary', filter.summarySearch, this.like));
    return fetchPage(q, 'seq', seqById(this.db, 'conversations'), page);
  }
}
