import { conflict } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { nowIso } from '../lib/time.js';
import type { Identity, IdentityCreate, IdentityUpdate, ListIdentitiesQuery } from '../schemas/identity.js';
import type { Stores } from '../store/index.js';
import { toIdentity, type IdentityRecord } from '../store/identity.store.js';
import { missing } from '../domain/errors.js';

export class IdentityService {
  constructor(private readonly stores: Stores) {}

  async present(records: IdentityRecord[], tx: Stores = this.stores): Promise<Identity[]> {
    const ids = records.map((r) => r.id);
    const [agents, blocks] = await Promise.all([
      tx.identities.links('identity_agents', ids),
      tx.identities.links('identity_blocks', ids),
    ]);
    return records.map((r) => toIdentity(r, agents.get(r.id) ?? [], blocks.get(r.id) ?? []));
  }

  private async presentOne(record: IdentityRecord, tx: Stores): Promise<Identity> {
    const [identity] = await this.present([record], tx);
    return identity!;
  }

  async require(identityId: string, tx: Stores = this.stores): Promise<IdentityRecord> {
    const row = await tx.identities.findById(identityId);
    if (!row) throw missing('Identity', identityId);
    return row;
  }

  async get(identityId: string): Promise<Identity> {
    return this.presentOne(await this.require(identityId), this.stores);
  }

  async list(query: ListIdentitiesQuery): Promise<Identity[]> {
    const rows = await this.stores.identities.list(
      {
        name: query.name,
        projectId: query.project_id,
        identifierKey: query.identifier_key,
        identityType: query.identity_type,
      },
      { ...query, order: query.order ?? 'asc' },
    );
    return this.present(rows);
  }

  count(): Promise<number> {
    return this.stores.identities.count();
  }

  async create(input: IdentityCreate): Promise<Identity> {
    return this.stores.transaction(async (tx) => {
      if (await tx.identities.findByKey(input.identifier_key, input.project_id ?? null)) {
        throw conflict(`Identity with identifier key '${input.identifier_key}' already exists`);
      }
      return this.presentOne(await this.insert(tx, input), tx);
    });
  }

  /** Creates the identity, or replaces the one with the same identifier key (Letta's `PUT /identities/`). */
  async upsert(input: IdentityCreate): Promise<Identity> {
    return this.stores.transaction(async (tx) => {
      const existing = await tx.identities.findByKey(input.identifier_key, input.project_id ?? null);
      if (!existing) return this.presentOne(await this.insert(tx, input), tx);
      return this.presentOne(
        await this.applyUpdate(tx, existing, { ...input, properties: input.properties ?? [] }),
        tx,
      );
    });
  }

  async update(identityId: string, patch: IdentityUpdate): Promise<Identity> {
    return this.stores.transaction(async (tx) => {
      const row = await this.require(identityId, tx);
      if (patch.identifier_key != null && patch.identifier_key !== row.identifier_key) {
        const clash = await tx.identities.findByKey(patch.identifier_key, row.project_id);
        if (clash) throw conflict(`Identity with identifier key '${patch.identifier_key}' already exists`);
      }
      return this.presentOne(await this.applyUpdate(tx, row, patch), tx);
    });
  }

  async replaceProperties(identityId: string, properties: Identity['properties']): Promise<Identity> {
    return this.update(identityId, { properties });
  }

  async delete(identityId: string): Promise<void> {
    if (!(await this.stores.identities.delete(identityId))) throw missing('Identity', identityId);
  }

  private async insert(tx: Stores, input: IdentityCreate): Promise<IdentityRecord> {
    const now = nowIso();
    const row = {
      id: newId('identity'),
      identifier_key: input.identifier_key,
      name: input.name,
      identity_type: input.identity_type,
      project_id: input.project_id ?? null,
      properties: JSON.stringify(input.properties ?? []),
      created_at: now,
      updated_at: now,
    };
    await tx.identities.insert(row);
    await this.setLinks(tx, row.id, input.agent_ids, input.block_ids);
    return { seq: 0, ...row };
  }

  private async applyUpdate(tx: Stores, row: IdentityRecord, patch: IdentityUpdate): Promise<IdentityRecord> {
    const changes: Partial<IdentityRecord> = { updated_at: nowIso() };
    if (patch.identifier_key != null) changes.identifier_key = patch.identifier_key;
    if (patch.name != null) changes.name = patch.name;
    if (patch.identity_type != null) changes.identity_type = patch.identity_type;
    if (patch.properties != null) changes.properties = JSON.stringify(patch.properties);
    await tx.identities.update(row.id, changes);
    await this.setLinks(tx, row.id, patch.agent_ids, patch.block_ids);
    return { ...row, ...changes };
  }

  private async setLinks(
    tx: Stores,
    identityId: string,
    agentIds?: string[] | null,
    blockIds?: string[] | null,
  ): Promise<void> {
    if (agentIds != null) {
      const found = new Set((await tx.agents.findManyByIds(agentIds)).map((a) => a.id));
      const unknown = agentIds.find((id) => !found.has(id));
      if (unknown) throw missing('Agent', unknown);
      await tx.identities.setLinks('identity_agents', identityId, agentIds);
    }
    if (blockIds != null) {
      const found = new Set((await tx.blocks.findManyByIds(blockIds)).map((b) => b.id));
      const unknown = blockIds.find((id) => !found.has(id));
      if (unknown) throw missing('Block', unknown);
      await tx.identities.setLinks('identity_blocks', identityId, blockIds);
    }
  }
}
