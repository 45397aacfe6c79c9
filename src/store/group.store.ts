import type { Kysely, Selectable } from 'kysely';
import { fetchPage, seqById, type PageSpec } from './paging.js';
import type { Database, GroupRow } from './schema.js';

export type GroupRecord = Selectable<GroupRow>;

/** A group with its members (in order) and shared blocks. */
export interface GroupWithMembers extends GroupRecord {
  agent_ids: string[];
  shared_block_ids: string[];
}

export interface GroupFilter {
  managerType?: string | undefined;
  projectId?: string | undefined;
  showHidden?: boolean | undefined;
}

export class GroupStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: Omit<GroupRecord, 'seq'>, agentIds: string[], blockIds: string[]): Promise<void> {
    await this.db.insertInto('groups').values(row).execute();
    await this.setAgents(row.id, agentIds);
    if (blockIds.length)
      await this.db
        .insertInto('group_blocks')
        .values(blockIds.map((block_id) => ({ group_id: row.id, block_id })))
        .execute();
  }

  async setAgents(groupId: string, agentIds: string[]): Promise<void> {
    await this.db.deleteFrom('group_agents').where('group_id', '=', groupId).execute();
    if (agentIds.length)
      await this.db
        .insertInto('group_agents')
        .values(agentIds.map((agent_id, position) => ({ group_id: groupId, agent_id, position })))
        .execute();
  }

  async addBlock(groupId: string, blockId: string): Promise<void> {
    await this.db
      .insertInto('group_blocks')
      .values({ group_id: groupId, block_id: blockId })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  async removeBlock(groupId: string, blockId: string): Promise<void> {
    await this.db.deleteFrom('group_blocks').where('group_id', '=', groupId).where('block_id', '=', blockId).execute();
  }

  async findById(id: string): Promise<GroupWithMembers | undefined> {
    const row = await this.db.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? (await this.withMembers([row]))[0] : undefined;
  }

  async list(filter: GroupFilter, page: PageSpec): Promise<GroupWithMembers[]> {
    let q = this.db.selectFrom('groups').selectAll();
    if (filter.managerType) q = q.where('manager_type', '=', filter.managerType);
    if (filter.projectId) q = q.where('project_id', '=', filter.projectId);
    if (!filter.showHidden) q = q.where('hidden', '=', 0);
    return this.withMembers(await fetchPage(q, 'seq', seqById(this.db, 'groups'), page));
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('groups')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The group an agent manages (its `multi_agent_group`); Letta allows one. */
  async managedBy(agentId: string): Promise<GroupWithMembers | undefined> {
    const row = await this.db
      .selectFrom('groups')
      .selectAll()
      .where('manager_agent_id', '=', agentId)
      .orderBy('seq')
      .executeTakeFirst();
    return row ? (await this.withMembers([row]))[0] : undefined;
  }

  /** The groups these agents manage, by manager (one query for a whole listing of agents). */
  async managedByEach(agentIds: string[]): Promise<Map<string, GroupWithMembers>> {
    if (agentIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('groups')
      .selectAll()
      .where('manager_agent_id', 'in', agentIds)
      .orderBy('seq', 'desc')
      .execute();
    return new Map((await this.withMembers(rows)).map((g) => [g.manager_agent_id!, g]));
  }

  /** Every group the agent manages or belongs to. */
  async ofAgent(agentId: string): Promise<GroupWithMembers[]> {
    const rows = await this.db
      .selectFrom('groups')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb('manager_agent_id', '=', agentId),
          eb('id', 'in', eb.selectFrom('group_agents').select('group_id').where('agent_id', '=', agentId)),
        ]),
      )
      .orderBy('seq')
      .execute();
    return this.withMembers(rows);
  }

  async update(id: string, patch: Partial<Omit<GroupRecord, 'seq' | 'id'>>): Promise<void> {
    await this.db.updateTable('groups').set(patch).where('id', '=', id).execute();
  }

  /**
   * Counts one turn of the group's manager and answers the new count. One atomic UPDATE: of several processes
   * finishing turns at once each gets a count of its own, so a trigger at `count % frequency == 0` fires once.
   */
  async countTurn(id: string): Promise<number | undefined> {
    const row = await this.db
      .updateTable('groups')
      .set((eb) => ({ turns_counter: eb('turns_counter', '+', 1) }))
      .where('id', '=', id)
      .returning('turns_counter')
      .executeTakeFirst();
    return row ? Number(row.turns_counter) : undefined;
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('groups').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  private async withMembers(rows: GroupRecord[]): Promise<GroupWithMembers[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [agents, blocks] = await Promise.all([
      this.db.selectFrom('group_agents').selectAll().where('group_id', 'in', ids).orderBy('position').execute(),
      this.db.selectFrom('group_blocks').selectAll().where('group_id', 'in', ids).execute(),
    ]);
    return rows.map((r) => ({
      ...r,
      agent_ids: agents.filter((a) => a.group_id === r.id).map((a) => a.agent_id),
      shared_block_ids: blocks.filter((b) => b.group_id === r.id).map((b) => b.block_id),
    }));
  }
}
