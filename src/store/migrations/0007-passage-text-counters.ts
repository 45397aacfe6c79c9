import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect/types.js';

/** Per-archive counters of passage writes, which keep the in-process lexical index current. */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await dialect.search.createTextChangeCounters(db);
}
