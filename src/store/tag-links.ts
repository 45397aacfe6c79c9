import type { ExpressionBuilder, Kysely } from 'kysely';
import { groupBy } from '../lib/collections.js';
import type { Database } from './schema.js';

/** Agents and blocks keep their tags in identical junction tables; these serve both. */
export type TagTable = 'agent_tags' | 'block_tags' | 'passage_tags';

export async function tagsFor(db: Kysely<Database>, table: TagTable, ids: string[]): Promise<Map<string, string[]>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom(table)
    .select(['owner_id', 'tag'])
    .where('owner_id', 'in', ids)
    .orderBy('tag')
    .execute();
  return groupBy(
    rows,
    (r) => r.owner_id,
    (r) => r.tag,
  );
}

export async function setTags(db: Kysely<Database>, table: TagTable, id: string, tags: string[]): Promise<void> {
  await db.deleteFrom(table).where('owner_id', '=', id).execute();
  const unique = [...new Set(tags)];
  if (unique.length > 0) {
    await db
      .insertInto(table)
      .values(unique.map((tag) => ({ owner_id: id, tag })))
      .execute();
  }
}

/** A subquery of owner ids having any (or all) of `tags`. */
export function ownersTagged<DB extends Database, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  table: TagTable,
  tags: string[],
  matchAll: boolean,
) {
  const unique = [...new Set(tags)];
  const matching = (eb as unknown as ExpressionBuilder<Database, TagTable>)
    .selectFrom(table)
    .select('owner_id')
    .where('tag', 'in', unique);
  return matchAll ? matching.groupBy('owner_id').having((h) => h.fn.count('tag'), '=', unique.length) : matching;
}
