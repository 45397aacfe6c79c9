import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { containsText } from './text-match.js';

export class TagStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly like: 'like' | 'ilike',
  ) {}

  /** Distinct tags across agents and blocks, ordered by name, paged by tag value. */
  async list(options: {
    after?: string | undefined;
    before?: string | undefined;
    limit: number;
    order: 'asc' | 'desc';
    name?: string | undefined;
  }): Promise<string[]> {
    const union = this.db.selectFrom('agent_tags').select('tag').union(this.db.selectFrom('block_tags').select('tag'));
    let q = this.db.selectFrom(union.as('t')).select('t.tag').distinct();
    if (options.name) q = q.where(containsText('t.tag', options.name, this.like));
    const asc = options.order === 'asc';
    if (options.after !== undefined) q = q.where('t.tag', asc ? '>' : '<', options.after);
    if (options.before !== undefined) q = q.where('t.tag', asc ? '<' : '>', options.before);
    const rows = await q
      .orderBy(sql.ref('t.tag'), asc ? 'asc' : 'desc')
      .limit(options.limit)
      .execute();
    return rows.map((r) => r.tag);
  }
}
