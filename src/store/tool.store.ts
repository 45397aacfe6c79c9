import { sql, type Kysely, type Selectable, type SelectQueryBuilder } from 'kysely';
import type { Tool } from '../schemas/tool.js';
import { bool, parseJson } from './json.js';
import type { Database, ToolRow } from './schema.js';
import { groupBy } from '../lib/collections.js';
import { fetchPage, seqById, type PageSpec } from './paging.js';

export interface ToolFilter {
  names?: string[] | undefined;
  ids?: string[] | undefined;
  /** Case-insensitive substring of the name. */
  search?: string | undefined;
  toolTypes?: string[] | undefined;
  excludeToolTypes?: string[] | undefined;
  /** true: only `letta_*` types; false: none of them. */
  lettaTools?: boolean | undefined;
  /** Any of these tags. */
  tags?: string[] | undefined;
}

export type ToolRecord = Selectable<ToolRow>;

export function toTool(row: ToolRecord): Tool {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    tool_type: row.tool_type as Tool['tool_type'],
    source_type: row.source_type,
    source_code: row.source_code,
    json_schema: parseJson(row.json_schema, {}),
    args_json_schema: parseJson(row.args_json_schema, null),
    return_char_limit: row.return_char_limit,
    pip_requirements: parseJson(row.pip_requirements, null),
    npm_requirements: parseJson(row.npm_requirements, null),
    default_requires_approval: bool(row.default_requires_approval),
    enable_parallel_execution: bool(row.enable_parallel_execution),
    tags: parseJson(row.tags, []),
    metadata_: parseJson(row.metadata, {}),
    project_id: row.project_id,
    created_by_id: null,
    last_updated_by_id: null,
  };
}

export class ToolStore {
  constructor(private readonly db: Kysely<Database>) {}

  findById(id: string): Promise<ToolRecord | undefined> {
    return this.db.selectFrom('tools').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findManyByIds(ids: string[]): Promise<ToolRecord[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('tools').selectAll().where('id', 'in', ids).execute();
  }

  findManyByNames(names: string[]): Promise<ToolRecord[]> {
    if (names.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('tools').selectAll().where('name', 'in', names).execute();
  }

  findByName(name: string): Promise<ToolRecord | undefined> {
    return this.db.selectFrom('tools').selectAll().where('name', '=', name).executeTakeFirst();
  }

  list(filter: ToolFilter, page: PageSpec): Promise<ToolRecord[]> {
    return fetchPage(
      this.filtered(this.db.selectFrom('tools').selectAll(), filter),
      'seq',
      seqById(this.db, 'tools'),
      page,
    );
  }

  /** Every matching tool, oldest first (for `POST /tools/search`, which ranks them itself). */
  listAll(filter: ToolFilter): Promise<ToolRecord[]> {
    return this.filtered(this.db.selectFrom('tools').selectAll(), filter).orderBy('seq').execute();
  }

  async count(filter: ToolFilter): Promise<number> {
    const row = await this.filtered(
      this.db.selectFrom('tools').select((eb) => eb.fn.countAll<number | string>().as('n')),
      filter,
    ).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** The agent's tools in attachment order, paged by their position (Letta pages them by creation time). */
  async listForAgent(agentId: string, page: PageSpec): Promise<ToolRecord[]> {
    const q = this.db
      .selectFrom('agent_tools')
      .innerJoin('tools', 'tools.id', 'agent_tools.tool_id')
      .selectAll('tools')
      .where('agent_tools.agent_id', '=', agentId);
    return fetchPage(q, 'tools.seq', seqById(this.db, 'tools'), page);
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('tools').where('id', '=', id).execute();
  }

  private filtered<O>(query: SelectQueryBuilder<Database, 'tools', O>, f: ToolFilter) {
    let q = query;
    if (f.names) q = q.where('name', 'in', f.names.length ? f.names : ['']);
    if (f.ids) q = q.where('id', 'in', f.ids.length ? f.ids : ['']);
    if (f.search) q = q.where(sql<boolean>`lower(name) like ${`%${f.search.toLowerCase()}%`}`);
    if (f.toolTypes?.length) q = q.where('tool_type', 'in', f.toolTypes);
    if (f.excludeToolTypes?.length) q = q.where('tool_type', 'not in', f.excludeToolTypes);
    if (f.lettaTools === true) q = q.where('tool_type', 'like', 'letta_%');
    if (f.lettaTools === false) q = q.where('tool_type', 'not like', 'letta_%');
    const tags = f.tags;
    // Tags are stored as a JSON array of strings: a tag matches as its quoted JSON form.
    if (tags?.length) q = q.where((eb) => eb.or(tags.map((t) => eb('tags', 'like', `%${JSON.stringify(t)}%`))));
    return q;
  }

  async insert(row: Omit<ToolRecord, 'seq'>): Promise<void> {
    await this.db.insertInto('tools').values(row).execute();
  }

  async update(id: string, patch: Partial<Omit<ToolRecord, 'seq' | 'id'>>): Promise<void> {
    if (Object.keys(patch).length > 0) await this.db.updateTable('tools').set(patch).where('id', '=', id).execute();
  }

  async listForAgents(agentIds: string[]): Promise<Map<string, ToolRecord[]>> {
    if (agentIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('agent_tools')
      .innerJoin('tools', 'tools.id', 'agent_tools.tool_id')
      .selectAll('tools')
      .select('agent_tools.agent_id as owner')
      .where('agent_tools.agent_id', 'in', agentIds)
      .orderBy('agent_tools.position')
      .execute();
    return groupBy(
      rows,
      (r) => r.owner,
      ({ owner: _owner, ...tool }) => tool,
    );
  }

  async attach(agentId: string, toolIds: string[]): Promise<void> {
    if (toolIds.length === 0) return;
    const existing = await this.db
      .selectFrom('agent_tools')
      .select(['tool_id', 'position'])
      .where('agent_id', '=', agentId)
      .execute();
    const present = new Set(existing.map((r) => r.tool_id));
    let position = existing.reduce((max, r) => Math.max(max, r.position), -1);
    const fresh = [...new Set(toolIds)].filter((id) => !present.has(id));
    if (fresh.length === 0) return;
    await this.db
      .insertInto('agent_tools')
      .values(fresh.map((tool_id) => ({ agent_id: agentId, tool_id, position: ++position })))
      .execute();
  }

  async detach(agentId: string, toolId: string): Promise<void> {
    await this.db.deleteFrom('agent_tools').where('agent_id', '=', agentId).where('tool_id', '=', toolId).execute();
  }
}
