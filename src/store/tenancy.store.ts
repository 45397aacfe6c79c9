import type { Kysely, Selectable } from 'kysely';
import { fetchPage, seqById, type PageSpec } from './paging.js';
import type { ApiKeyRow, Database, OrganizationRow, UserRow } from './schema.js';

export type OrganizationRecord = Selectable<OrganizationRow>;
export type UserRecord = Selectable<UserRow>;
export type ApiKeyRecord = Selectable<ApiKeyRow>;

/** Organisations, users and API keys: the control plane, always in the main database. */
export class TenancyStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Idempotent, so that several processes starting at once all succeed. */
  async ensureOrganization(row: Omit<OrganizationRecord, 'seq'>): Promise<void> {
    await this.db
      .insertInto('organizations')
      .values(row)
      .onConflict((c) => c.column('id').doNothing())
      .execute();
  }

  async ensureUser(row: Omit<UserRecord, 'seq'>): Promise<void> {
    await this.db
      .insertInto('users')
      .values(row)
      .onConflict((c) => c.column('id').doNothing())
      .execute();
  }

  async insertOrganization(row: Omit<OrganizationRecord, 'seq'>): Promise<void> {
    await this.db.insertInto('organizations').values(row).execute();
  }

  async updateOrganization(
    id: string,
    patch: Partial<Pick<OrganizationRecord, 'name' | 'privileged_tools' | 'updated_at'>>,
  ): Promise<void> {
    await this.db.updateTable('organizations').set(patch).where('id', '=', id).execute();
  }

  /** Its users and keys go with it (foreign-key cascades). */
  async deleteOrganization(id: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('api_keys').where('organization_id', '=', id).execute();
      await tx.deleteFrom('users').where('organization_id', '=', id).execute();
      await tx.deleteFrom('organizations').where('id', '=', id).execute();
    });
  }

  findOrganization(id: string): Promise<OrganizationRecord | undefined> {
    return this.db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findOrganizationByName(name: string): Promise<OrganizationRecord | undefined> {
    return this.db.selectFrom('organizations').selectAll().where('name', '=', name).executeTakeFirst();
  }

  listOrganizations(page: PageSpec): Promise<OrganizationRecord[]> {
    return fetchPage(this.db.selectFrom('organizations').selectAll(), 'seq', seqById(this.db, 'organizations'), page);
  }

  async insertUser(row: Omit<UserRecord, 'seq'>): Promise<void> {
    await this.db.insertInto('users').values(row).execute();
  }

  async updateUser(
    id: string,
    patch: Partial<Pick<UserRecord, 'name' | 'organization_id' | 'updated_at'>>,
  ): Promise<void> {
    await this.db.updateTable('users').set(patch).where('id', '=', id).execute();
  }

  /** Its keys go with it: a key acts as its user, and a user who is gone can no longer act. */
  async deleteUser(id: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('api_keys').where('user_id', '=', id).execute();
      await tx.deleteFrom('users').where('id', '=', id).execute();
    });
  }

  findUser(id: string): Promise<UserRecord | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findUserByName(organizationId: string, name: string): Promise<UserRecord | undefined> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('name', '=', name)
      .orderBy('seq')
      .executeTakeFirst();
  }

  listUsers(page: PageSpec, organizationId?: string): Promise<UserRecord[]> {
    let query = this.db.selectFrom('users').selectAll();
    if (organizationId) query = query.where('organization_id', '=', organizationId);
    return fetchPage(query, 'seq', seqById(this.db, 'users'), page);
  }

  async insertKey(row: Omit<ApiKeyRecord, 'seq'>): Promise<void> {
    await this.db.insertInto('api_keys').values(row).execute();
  }

  findKeyByPrefix(prefix: string): Promise<ApiKeyRecord | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('prefix', '=', prefix).executeTakeFirst();
  }

  listKeys(): Promise<ApiKeyRecord[]> {
    return this.db.selectFrom('api_keys').selectAll().orderBy('seq').execute();
  }

  /** Whether any key can still be used: once one can, a request without a credential is refused. */
  async anyActiveKey(): Promise<boolean> {
    const row = await this.db
      .selectFrom('api_keys')
      .select('id')
      .where('revoked_at', 'is', null)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** By id or prefix; true when a key that was active is now revoked. */
  async revokeKey(idOrPrefix: string, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: at })
      .where((eb) => eb.or([eb('id', '=', idOrPrefix), eb('prefix', '=', idOrPrefix)]))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async touchKey(id: string, at: string): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }
}
