import type { CreateTableBuilder, Kysely } from 'kysely';
import type { DialectName } from '../dialect/types.js';

/**
 * BYOK providers (Letta's `byok` category): LLM providers a client registers through `/v1/providers`, next to the
 * ones the operator's environment configures. The API key and access key are sealed values (src/lib/secrets.ts),
 * never plain text. `models` is the JSON list of model names last synced from the provider, so `GET /v1/models/`
 * does not call every provider on each listing.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await withSeq(dialect, db.schema.createTable('providers'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('provider_type', 'text', (c) => c.notNull())
    .addColumn('base_url', 'text')
    .addColumn('region', 'text')
    .addColumn('api_version', 'text')
    .addColumn('api_key_enc', 'text')
    .addColumn('access_key_enc', 'text')
    .addColumn('models', 'text', (c) => c.notNull())
    .addColumn('last_synced', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

/** The monotonic `seq` primary key of every ordered table, as each engine spelled it when this shipped. */
function withSeq<T extends string>(dialect: DialectName, table: CreateTableBuilder<T, never>) {
  return dialect === 'sqlite'
    ? table.addColumn('seq', 'integer', (col) => col.primaryKey().autoIncrement())
    : table.addColumn('seq', 'bigserial', (col) => col.primaryKey());
}
