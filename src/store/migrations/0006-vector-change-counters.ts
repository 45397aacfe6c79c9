import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect/types.js';

/** Per-archive counters of vector writes, which keep SQLite's in-process vector prefilter current. */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await dialect.search.createVectorChangeCounters(db);
}
