import type { Kysely } from 'kysely';

/**
 * The turn lock moves into the run that holds it: `runs.thread_lock` (agent + thread, unique while set) replaces the
 * `turn_locks` table. Taking the lock is the run's insert and releasing it is part of the run's final update, two
 * statements fewer per turn (two round trips on PostgreSQL).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('thread_lock', 'text').execute();
  // NULLs are distinct in a unique index on both engines: only held locks collide.
  await db.schema.createIndex('runs_thread_lock_idx').unique().on('runs').column('thread_lock').execute();
  const held = await db.selectFrom('turn_locks').select(['agent_id', 'thread', 'run_id']).execute();
  for (const lock of held)
    await db
      .updateTable('runs')
      .set({ thread_lock: `${lock.agent_id}:${lock.thread}` })
      .where('id', '=', lock.run_id)
      .execute();
  await db.schema.dropTable('turn_locks').execute();
}
