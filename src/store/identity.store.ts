import type { Kysely, Selectable } from 'kysely';
import type { Identity } from '../schemas/identity.js';
import { parseJson } from './json.js';
import { fetchPage, seqById, type PageSpec } from './paging.js';
import type { Database, IdentityRow } from './schema.js';
import { groupBy } from '../lib/collections.js';

export type IdentityRecord = Selectable<IdentityRow>;

type LinkTable = 'identity_agents' | 'identity_blocks';

export function toIdentity(row: IdentityRecord, agentIds: string[], blockIds: string[]): Identity {
  return {
    id: row.id,
    identifier_key: row.identifier_key,
    name: row.name,
    identity_type: row.identity_type as Identity['identity_type'],
    project_id: row.project_id,
    agent_ids: agentIds,
    block_ids: blockIds,
    properties: parseJson(row.properties, []),
  };
}

export interface IdentityFilter {
  name?: string | undefined;
  projectId?: string | undefined;
  identifierKey?: string | undefined;
  identityType?: string | undefined;
}

export class IdentityStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: Omit<IdentityRecord, 'seq'>): Promise<void> {
    await this.db.insertInto('identities').values(row).execute();
  }

  async update(id: string, patch: Partial<Omit<IdentityRecord, 'seq' | 'id'>>): Promise<void> {
    if (Object.keys(patch).length > 0)
      await this.db.updateTable('identities').set(patch).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('identities').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  findById(id: string): Promise<IdentityRecord | undefined> {
    return this.db.selectFrom('identities').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByKey(identifierKey: string, projectId: string | null): Promise<IdentityRecord | undefined> {
    let q = this.db.selectFrom('identities').selectAll().where('identifier_key', '=', identifierKey);
    q = projectId === null ? q.where('project_id', 'is', null) : q.where('project_id', '=', projectId);
    return q.executeTakeFirst();
  }

  findManyByIds(ids: string[]): Promise<IdentityRecord[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('identities').selectAll().where('id', 'in', ids).orderBy('seq').execute();
  }

  list(filter: IdentityFilter, page: PageSpec): Promise<IdentityRecord[]> {
    let q = this.db.selectFrom('identities').selectAll();
    if (filter.name !== undefined) q = q.where('name', '=', filter.name);
    if (filter.projectId !== undefined) q = q.where('project_id', '=', filter.projectId);
    if (filter.identifierKey !== undefined) q = q.where('identifier_key', '=', filter.identifierKey);
    if (filter.identityType !== undefined) q = q.where('identity_type', '=', filter.identityType);
    return fetchPage(q, 'seq', seqById(this.db, 'identities'), page);
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('identities')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Target ids (agents or blocks) linked to each identity. */
  async links(table: LinkTable, identityIds: string[]): Promise<Map<string, string[]>> {
    if (identityIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom(table)
      .select(['identity_id', 'target_id'])
      .where('identity_id', 'in', identityIds)
      .execute();
    return groupBy(
      rows,
      (r) => r.identity_id,
      (r) => r.target_id,
    );
  }

  /** Identity ids linked to each target. */
  async identitiesOf(table: LinkTable, targetIds: string[]): Promise<Map<string, string[]>> {
    if (targetIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom(table)
      .select(['identity_id', 'target_id'])
      .where('target_id', 'in', targetIds)
      .execute();
    return groupBy(
      rows,
      (r) => r.target_id,
      (r) => r.identity_id,
    );
  }

  async setLinks(table: LinkTable, identityId: string, targetIds: string[]): Promise<void> {
    await this.db.deleteFrom(table).where('identity_id', '=', identityId).execute();
    const unique = [...new Set(targetIds)];
    if (unique.length > 0) {
      await this.db
        .insertInto(table)
        .values(unique.map((target_id) => ({ identity_id: identityId, target_id })))
        .execute();
    }
  }

  async link(table: LinkTable, identityId: string, targetId: string): Promise<void> {
    const existing = await this.db
      .selectFrom(table)
      .select('identity_id')
      .where('identity_id', '=', identityId)
      .where('target_id', '=', targetId)
      .executeTakeFirst();
    if (!existing) await this.db.insertInto(table).values({ identity_id: identityId, target_id: targetId }).execute();
  }

  async unlink(table: LinkTable, identityId: string, targetId: string): Promise<void> {
    await this.db.deleteFrom(table).where('identity_id', '=', identityId).where('target_id', '=', targetId).execute();
  }

  /** Replaces the identities of one target (an agent's `identity_ids`). */
  async setIdentitiesOf(table: LinkTable, targetId: string, identityIds: string[]): Promise<void> {
    await this.db.deleteFrom(table).where('target_id', '=', targetId).execute();
    const unique = [...new Set(identityIds)];
    if (unique.length > 0) {
      await this.db
        .insertInto(table)
        .values(unique.map((identity_id) => ({ identity_id, target_id: targetId })))
        .execute();
    }
  }
}
