import { sql, type RawBuilder, type SqlBool } from 'kysely';

/**
 * Case-insensitive substring match of `text` in `column`. `%`, `_` and `\` in the user's text are escaped, so a
 * search for `50%` finds "50%" rather than everything starting with "50". SQLite's LIKE has no default escape
 * character, hence the explicit `ESCAPE`.
 */
export function containsText(column: string, text: string, like: 'like' | 'ilike'): RawBuilder<SqlBool> {
  const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<SqlBool>`${sql.ref(column)} ${sql.raw(like)} ${pattern} escape '\\'`;
}
