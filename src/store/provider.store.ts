import type { Kysely, Selectable } from 'kysely';
import type { Database, ProviderRow } from './schema.js';

export type ProviderRecord = Selectable<ProviderRow>;

/** BYOK providers. Their keys arrive here sealed; this store never sees a key in clear. */
export class ProviderStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: Omit<ProviderRecord, 'seq'>): Promise<void> {
    await this.db.insertInto('providers').values(row).execute();
  }

  async update(id: string, patch: Partial<Omit<ProviderRecord, 'seq' | 'id'>>): Promise<void> {
    if (Object.keys(patch).length > 0) await this.db.updateTable('providers').set(patch).where('id', '=', id).execute();
  }

  findById(id: string): Promise<ProviderRecord | undefined> {
    return this.db.selectFrom('providers').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByName(name: string): Promise<ProviderRecord | undefined> {
    return this.db.selectFrom('providers').selectAll().where('name', '=', name).executeTakeFirst();
  }

  list(): Promise<ProviderRecord[]> {
    return this.db.selectFrom('providers').selectAll().orderBy('seq').execute();
  }

  /** True when a row was deleted. */
  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('providers').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
