import { sql, type Kysely, type Selectable } from 'kysely';
import { fetchPage, seqById, type PageSpec } from './paging.js';
import { AGENTS_OF_ARCHIVE, AGENTS_OF_BLOCK, AGENTS_OF_IDENTITY, linkedTo, linkedToIdentityKeys } from './junctions.js';
import type { AgentRow, Database } from './schema.js';
import { ownersTagged, setTags, tagsFor } from './tag-links.js';
import { containsText } from './text-match.js';

export type AgentRecord = Selectable<AgentRow>;
/** Columns of an agent row to change. */
export type AgentPatch = Partial<Omit<AgentRecord, 'seq' | 'id'>>;

export interface AgentFilter {
  name?: string | undefined;
  tags?: string[] | undefined;
  matchAllTags?: boolean;
  queryText?: string | undefined;
  projectId?: string | undefined;
  templateId?: string | undefined;
  baseTemplateId?: string | undefined;
  identityId?: string | undefined;
  identifierKeys?: string[] | undefined;
  /** Only the agents this block is attached to. */
  blockId?: string | undefined;
  /** Only the agents this archive is attached to. */
  archiveId?: string | undefined;
  showHidden?: boolean;
  lastStopReason?: string | undefined;
}

export class AgentStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly like: 'like' | 'ilike',
  ) {}

  async insert(row: Omit<AgentRecord, 'seq'>): Promise<void> {
    await this.db.insertInto('agents').values(row).execute();
  }

  async update(id: string, patch: AgentPatch): Promise<void> {
    if (Object.keys(patch).length > 0) await this.db.updateTable('agents').set(patch).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('agents').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  findById(id: string): Promise<AgentRecord | undefined> {
    return this.db.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async exists(id: string): Promise<boolean> {
    const row = await this.db.selectFrom('agents').select('id').where('id', '=', id).executeTakeFirst();
    return row !== undefined;
  }

  findManyByIds(ids: string[]): Promise<AgentRecord[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('agents').selectAll().where('id', 'in', ids).orderBy('seq').execute();
  }

  tagsFor(ids: string[]): Promise<Map<string, string[]>> {
    return tagsFor(this.db, 'agent_tags', ids);
  }

  setTags(id: string, tags: string[]): Promise<void> {
    return setTags(this.db, 'agent_tags', id, tags);
  }

  private filtered(filter: AgentFilter) {
    let q = this.db.selectFrom('agents').selectAll('agents');
    if (filter.name !== undefined) q = q.where('agents.name', '=', filter.name);
    if (filter.queryText) q = q.where(containsText('agents.name', filter.queryText, this.like));
    if (filter.projectId !== undefined) q = q.where('agents.project_id', '=', filter.projectId);
    if (filter.templateId !== undefined) q = q.where('agents.template_id', '=', filter.templateId);
    if (filter.baseTemplateId !== undefined) q = q.where('agents.base_template_id', '=', filter.baseTemplateId);
    if (filter.lastStopReason !== undefined) q = q.where('agents.last_stop_reason', '=', filter.lastStopReason);
    if (!filter.showHidden) q = q.where('agents.hidden', '=', 0);
    if (filter.tags?.length) {
      const tags = filter.tags;
      q = q.where('agents.id', 'in', (eb) => ownersTagged(eb, 'agent_tags', tags, filter.matchAllTags ?? false));
    }
    if (filter.identityId !== undefined)
      q = q.where('agents.id', 'in', linkedTo(AGENTS_OF_IDENTITY, filter.identityId));
    if (filter.blockId !== undefined) q = q.where('agents.id', 'in', linkedTo(AGENTS_OF_BLOCK, filter.blockId));
    if (filter.archiveId !== undefined) q = q.where('agents.id', 'in', linkedTo(AGENTS_OF_ARCHIVE, filter.archiveId));
    if (filter.identifierKeys?.length)
      q = q.where('agents.id', 'in', linkedToIdentityKeys(AGENTS_OF_IDENTITY, filter.identifierKeys));
    return q;
  }

  list(
    filter: AgentFilter,
    page: PageSpec,
    orderBy: 'created_at' | 'updated_at' | 'last_run_completion' = 'created_at',
  ): Promise<AgentRecord[]> {
    const q = this.filtered(filter);
    if (orderBy === 'created_at') return fetchPage(q, 'agents.seq', seqById(this.db, 'agents'), page);
    return this.listByColumn(q, orderBy, page);
  }

  /** Ordering by a mutable column pages on (column, seq), so ties and updates never skip or repeat a row. */
  private async listByColumn(
    q: ReturnType<AgentStore['filtered']>,
    column: 'updated_at' | 'last_run_completion',
    page: PageSpec,
  ): Promise<AgentRecord[]> {
    const key = sql<string>`coalesce(${sql.ref(`agents.${column}`)}, '')`;
    const cursorOf = async (id: string) => {
      const row = await this.db
        .selectFrom('agents')
        .select(['seq', sql<string>`coalesce(${sql.ref(column)}, '')`.as('k')])
        .where('id', '=', id)
        .executeTakeFirst();
      return row;
    };
    let ascending = page.order === 'asc';
    let flip = false;
    const after = (c: { seq: number; k: string }, asc: boolean) =>
      asc
        ? sql<boolean>`(${key} > ${c.k} or (${key} = ${c.k} and agents.seq > ${c.seq}))`
        : sql<boolean>`(${key} < ${c.k} or (${key} = ${c.k} and agents.seq < ${c.seq}))`;
    if (page.after) {
      const cursor = await cursorOf(page.after);
      if (!cursor) return [];
      q = q.where(after(cursor, ascending));
    }
    if (page.before) {
      const cursor = await cursorOf(page.before);
      if (!cursor) return [];
      q = q.where(after(cursor, !ascending));
      if (!page.after) {
        ascending = !ascending;
        flip = true;
      }
    }
    const direction = ascending ? 'asc' : 'desc';
    const rows = await q.orderBy(key, direction).orderBy('agents.seq', direction).limit(page.limit).execute();
    return flip ? rows.reverse() : rows;
  }

  async count(filter: AgentFilter): Promise<number> {
    const row = await this.filtered(filter)
      .clearSelect()
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
