import type { Kysely } from 'kysely';
import type { DialectName } from '../dialect/types.js';

/**
 * Uploads are held in the memory of the process that accepted them until parsed, so a file whose process died can
 * never finish. That process refreshes `heartbeat_at` while it holds the file; on PostgreSQL, where several processes
 * share the database, any of them fails a file whose heartbeat went stale, as the stale-run sweep does for runs.
 */
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('folder_files').addColumn('heartbeat_at', 'text').execute();
}
