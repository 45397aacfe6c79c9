import { sql, type Kysely, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { PageQuery } from '../schemas/common.js';

export interface PageSpec extends PageQuery {
  /** Resolved from the request's `order`, or the route's default. */
  order: 'asc' | 'desc';
}

/**
 * Keyset pagination on the monotonic `seq` column. `after`/`before` name rows by id and mean "after/before this
 * row in the requested order"; an unknown cursor yields an empty page, which ends the SDK's auto-pagination.
 * `before` pages are fetched nearest-first and flipped back, so a page is always returned in the requested order.
 */
export async function fetchPage<DB, TB extends keyof DB, O extends { seq: number }>(
  query: SelectQueryBuilder<DB, TB, O>,
  seqColumn: string,
  cursorSeq: (id: string) => Promise<number | undefined>,
  page: PageSpec,
): Promise<O[]> {
  let q = query;
  const seq = sql.ref(seqColumn);
  let ascending = page.order === 'asc';
  const gt = (bound: number) => sql<SqlBool>`${seq} > ${bound}`;
  const lt = (bound: number) => sql<SqlBool>`${seq} < ${bound}`;
  if (page.after) {
    const bound = await cursorSeq(page.after);
    if (bound === undefined) return [];
    q = q.where(ascending ? gt(bound) : lt(bound));
  }
  let flip = false;
  if (page.before) {
    const bound = await cursorSeq(page.before);
    if (bound === undefined) return [];
    q = q.where(ascending ? lt(bound) : gt(bound));
    if (!page.after) {
      ascending = !ascending;
      flip = true;
    }
  }
  const rows = await q
    .orderBy(seq, ascending ? 'asc' : 'desc')
    .limit(page.limit)
    .execute();
  return flip ? rows.reverse() : rows;
}

/** `fetchPage`'s cursor lookup for a table whose cursors are row ids: the row's `seq`. */
export function seqById(db: Kysely<any>, table: string): (id: string) => Promise<number | undefined> {
  return async (id) => {
    const row = await db.selectFrom(table).select('seq').where('id', '=', id).executeTakeFirst();
    return row ? Number(row.seq) : undefined;
  };
}
