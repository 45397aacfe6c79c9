import type { Kysely } from 'kysely';
import { fetchPage, seqById, type PageSpec } from './paging.js';
import type { StepRecord } from './run.store.js';
import type { Database } from './schema.js';

export interface StepFilter {
  agentId?: string | undefined;
  model?: string | undefined;
  start?: string | undefined;
  end?: string | undefined;
  feedback?: 'positive' | 'negative' | undefined;
  hasFeedback?: boolean | undefined;
  /** Any of these tags. */
  tags?: string[] | undefined;
}

/** The steps the loop records, read across runs (`/v1/steps`), and the feedback a client leaves on one. */
export class StepStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly likeOperator: 'like' | 'ilike',
  ) {}

  findById(id: string): Promise<StepRecord | undefined> {
    return this.db.selectFrom('steps').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(filter: StepFilter, page: PageSpec): Promise<StepRecord[]> {
    let q = this.db.selectFrom('steps').selectAll();
    if (filter.agentId) q = q.where('agent_id', '=', filter.agentId);
    if (filter.model)
      q = q.where((eb) => eb.or([eb('model', '=', filter.model!), eb('model_handle', '=', filter.model!)]));
    if (filter.start) q = q.where('created_at', '>=', filter.start);
    if (filter.end) q = q.where('created_at', '<=', filter.end);
    if (filter.feedback) q = q.where('feedback', '=', filter.feedback);
    if (filter.hasFeedback === true) q = q.where('feedback', 'is not', null);
    if (filter.hasFeedback === false) q = q.where('feedback', 'is', null);
    const tags = filter.tags ?? [];
    // Tags are a small JSON array per step; a quoted match on the text finds one element exactly.
    if (tags.length)
      q = q.where((eb) => eb.or(tags.map((t) => eb('tags', this.likeOperator, `%${JSON.stringify(t)}%`))));
    return fetchPage(q, 'seq', seqById(this.db, 'steps'), page);
  }

  /** As Letta: the feedback is always replaced, the tags only when some are given. */
  async setFeedback(id: string, feedback: string | null, tags: string[] | null | undefined): Promise<void> {
    await this.db
      .updateTable('steps')
      .set(tags?.length ? { feedback, tags: JSON.stringify(tags) } : { feedback })
      .where('id', '=', id)
      .execute();
  }
}
