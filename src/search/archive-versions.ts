import type { Kysely } from 'kysely';
import type { SearchTables } from './tables.js';

/**
 * Per-archive write counters that triggers keep in the database (`passage_vector_versions`, migration 0006;
 * `passage_text_versions`, migration 0007). The in-process indexes compare them with the counts they were built at
 * to learn, with one primary-key read, whether any connection or process has written since.
 */
export interface ArchiveVersions {
  inserts: number;
  deletes: number;
}

export type VersionTable = 'passage_vector_versions' | 'passage_text_versions';

/** The counters of these archives; an archive never written has none (read it as zero). */
export async function readArchiveVersions(
  db: Kysely<SearchTables>,
  table: VersionTable,
  archiveIds: string[],
): Promise<Map<string, ArchiveVersions>> {
  const rows = await db
    .selectFrom(table)
    .select(['archive_id', 'inserts', 'deletes'])
    .where('archive_id', 'in', archiveIds)
    .execute();
  return new Map(rows.map((r) => [r.archive_id, { inserts: Number(r.inserts), deletes: Number(r.deletes) }]));
}

export const NEVER_WRITTEN: Readonly<ArchiveVersions> = Object.freeze({ inserts: 0, deletes: 0 });
