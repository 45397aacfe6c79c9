import { sql, type Kysely, type Selectable } from 'kysely';
import type { Block } from '../schemas/block.js';
import { bool, parseJson } from './json.js';
import { BLOCKS_OF_IDENTITY, linkedTo, linkedToIdentityKeys } from './junctions.js';
import { fetchPage, seqById, type PageSpec } from './paging.js';
import type { BlockRow, Database } from './schema.js';
import { groupBy } from '../lib/collections.js';
import { ownersTagged, setTags, tagsFor } from './tag-links.js';
import { containsText } from './text-match.js';

export type BlockRecord = Selectable<BlockRow>;

export interface BlockFilter {
  label?: string | undefined;
  templatesOnly?: boolean;
  projectId?: string | undefined;
  identityId?: string | undefined;
  identifierKeys?: string[] | undefined;
  tags?: string[] | undefined;
  matchAllTags?: boolean;
  labelSearch?: string | undefined;
  valueSearch?: string | undefined;
  descriptionSearch?: string | undefined;
  agentCountGt?: number | undefined;
  agentCountLt?: number | undefined;
  agentCountIn?: number[] | undefined;
  showHidden?: boolean | undefined;
}

export function toBlock(row: BlockRecord, tags: string[]): Block {
  return {
    id: row.id,
    label: row.label,
    value: row.value,
    limit: row.char_limit,
    description: row.description,
    read_only: bool(row.read_only),
    hidden: row.hidden ? true : null,
    metadata: parseJson(row.metadata, {}),
    tags,
    project_id: row.project_id,
    template_name: row.template_name,
    is_template: bool(row.is_template),
    template_id: null,
    base_template_id: null,
    deployment_id: null,
    entity_id: null,
    preserve_on_migration: false,
    created_by_id: null,
    last_updated_by_id: null,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export class BlockStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly like: 'like' | 'ilike',
  ) {}

  async insert(row: Omit<BlockRecord, 'seq'>, tags: string[]): Promise<void> {
    await this.db.insertInto('blocks').values(row).execute();
    await this.setTags(row.id, tags);
  }

  async update(id: string, patch: Partial<Omit<BlockRecord, 'seq' | 'id'>>): Promise<void> {
    if (Object.keys(patch).length > 0) await this.db.updateTable('blocks').set(patch).where('id', '=', id).execute();
  }

  setTags(id: string, tags: string[]): Promise<void> {
    return setTags(this.db, 'block_tags', id, tags);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('blocks').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  findById(id: string): Promise<BlockRecord | undefined> {
    return this.db.selectFrom('blocks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findManyByIds(ids: string[]): Promise<BlockRecord[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('blocks').selectAll().where('id', 'in', ids).execute();
  }

  /** The blocks attached to an agent, in attachment order. */
  listForAgent(agentId: string): Promise<BlockRecord[]> {
    return this.db
      .selectFrom('agent_blocks')
      .innerJoin('blocks', 'blocks.id', 'agent_blocks.block_id')
      .selectAll('blocks')
      .where('agent_blocks.agent_id', '=', agentId)
      .orderBy('agent_blocks.position')
      .execute();
  }

  /** One page of an agent's blocks in attachment order; cursors are block ids. */
  pageForAgent(agentId: string, page: PageSpec): Promise<BlockRecord[]> {
    const q = this.db
      .selectFrom('agent_blocks')
      .innerJoin('blocks', 'blocks.id', 'agent_blocks.block_id')
      .selectAll('blocks')
      .where('agent_blocks.agent_id', '=', agentId);
    const positionOf = async (blockId: string) =>
      (
        await this.db
          .selectFrom('agent_blocks')
          .select('position')
          .where('agent_id', '=', agentId)
          .where('block_id', '=', blockId)
          .executeTakeFirst()
      )?.position;
    return fetchPage(q, 'agent_blocks.position', positionOf, page);
  }

  async listForAgents(agentIds: string[]): Promise<Map<string, BlockRecord[]>> {
    if (agentIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('agent_blocks')
      .innerJoin('blocks', 'blocks.id', 'agent_blocks.block_id')
      .selectAll('blocks')
      .select('agent_blocks.agent_id as owner')
      .where('agent_blocks.agent_id', 'in', agentIds)
      .orderBy('agent_blocks.position')
      .execute();
    return groupBy(
      rows,
      (r) => r.owner,
      ({ owner: _owner, ...block }) => block,
    );
  }

  findForAgentByLabel(agentId: string, label: string): Promise<BlockRecord | undefined> {
    return this.db
      .selectFrom('agent_blocks')
      .innerJoin('blocks', 'blocks.id', 'agent_blocks.block_id')
      .selectAll('blocks')
      .where('agent_blocks.agent_id', '=', agentId)
      .where('blocks.label', '=', label)
      .executeTakeFirst();
  }

  tagsFor(ids: string[]): Promise<Map<string, string[]>> {
    return tagsFor(this.db, 'block_tags', ids);
  }

  async attach(agentId: string, blockId: string): Promise<void> {
    const last = await this.db
      .selectFrom('agent_blocks')
      .select((eb) => eb.fn.max('position').as('max'))
      .where('agent_id', '=', agentId)
      .executeTakeFirst();
    await this.db
      .insertInto('agent_blocks')
      .values({ agent_id: agentId, block_id: blockId, position: Number(last?.max ?? -1) + 1 })
      .execute();
  }

  async detach(agentId: string, blockId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('agent_blocks')
      .where('agent_id', '=', agentId)
      .where('block_id', '=', blockId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async agentIdsFor(blockId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('agent_blocks').select('agent_id').where('block_id', '=', blockId).execute();
    return rows.map((r) => r.agent_id);
  }

  async list(filter: BlockFilter, page: PageSpec): Promise<BlockRecord[]> {
    let q = this.db.selectFrom('blocks').selectAll('blocks');
    if (filter.label !== undefined) q = q.where('blocks.label', '=', filter.label);
    if (filter.templatesOnly) q = q.where('blocks.is_template', '=', 1);
    if (filter.projectId !== undefined) q = q.where('blocks.project_id', '=', filter.projectId);
    if (!filter.showHidden) q = q.where('blocks.hidden', '=', 0);
    if (filter.labelSearch) q = q.where(containsText('blocks.label', filter.labelSearch, this.like));
    if (filter.valueSearch) q = q.where(containsText('blocks.value', filter.valueSearch, this.like));
    if (filter.descriptionSearch) q = q.where(containsText('blocks.description', filter.descriptionSearch, this.like));
    if (filter.identityId !== undefined)
      q = q.where('blocks.id', 'in', linkedTo(BLOCKS_OF_IDENTITY, filter.identityId));
    if (filter.identifierKeys?.length)
      q = q.where('blocks.id', 'in', linkedToIdentityKeys(BLOCKS_OF_IDENTITY, filter.identifierKeys));
    if (filter.tags?.length) {
      const tags = filter.tags;
      q = q.where('blocks.id', 'in', (eb) => ownersTagged(eb, 'block_tags', tags, filter.matchAllTags ?? false));
    }
    const agentCount = sql<number>`(select count(*) from agent_blocks where agent_blocks.block_id = blocks.id)`;
    if (filter.agentCountGt !== undefined) q = q.where(agentCount, '>', filter.agentCountGt);
    if (filter.agentCountLt !== undefined) q = q.where(agentCount, '<', filter.agentCountLt);
    if (filter.agentCountIn?.length) q = q.where(agentCount, 'in', filter.agentCountIn);
    return fetchPage(q, 'blocks.seq', seqById(this.db, 'blocks'), page);
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('blocks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
