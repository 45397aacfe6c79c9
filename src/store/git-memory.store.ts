import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/** A raw git object: its kind (`blob`, `tree`, `commit`, `tag`) and its content without the git header. */
export interface StoredGitObject {
  sha: string;
  kind: string;
  data: Buffer;
}

/** The first key of agents' memory locks, so that they never collide with other advisory locks ("cairn"). */
const AGENT_MEMORY_LOCK_CLASS = 0x6361726e;

/** The rows of agents' memory repositories: their objects and each one's single branch head. */
export class GitMemoryStore {
  /**
   * `locksAgents`: several processes may write one PostgreSQL database, so a push and a block write need a lock they
   * share; an SQLite file has one writer at a time already.
   */
  constructor(
    private readonly db: Kysely<Database>,
    readonly locksAgents = false,
  ) {}

  /**
   * Takes, until the transaction ends, the memory lock of each agent: a push to an agent's repository and any write
   * to one of its blocks hold it, so each sees the other's result. Sorted, so two writers never wait on each other.
   */
  async lockAgents(agentIds: string[]): Promise<void> {
    if (!this.locksAgents) return;
    for (const agentId of [...new Set(agentIds)].sort()) {
      await sql`select pg_advisory_xact_lock(${AGENT_MEMORY_LOCK_CLASS}, hashtext(${agentId}))`.execute(this.db);
    }
  }

  async head(agentId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('memory_git_heads')
      .select('commit_sha')
      .where('agent_id', '=', agentId)
      .executeTakeFirst();
    return row?.commit_sha;
  }

  /**
   * Moves the head from `expected` (undefined: the repository has none yet) to `next`, only if nobody moved it
   * first; false when another push or sync won. This is the whole of the concurrency control between processes.
   */
  async moveHead(agentId: string, expected: string | undefined, next: string, at: string): Promise<boolean> {
    if (expected === undefined) {
      const inserted = await this.db
        .insertInto('memory_git_heads')
        .values({ agent_id: agentId, commit_sha: next, updated_at: at })
        .onConflict((oc) => oc.column('agent_id').doNothing())
        .executeTakeFirst();
      return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
    }
    const updated = await this.db
      .updateTable('memory_git_heads')
      .set({ commit_sha: next, updated_at: at })
      .where('agent_id', '=', agentId)
      .where('commit_sha', '=', expected)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }

  /** Objects already stored (the same blob recurs across commits) are left as they are. */
  async putObjects(agentId: string, objects: StoredGitObject[]): Promise<void> {
    for (let i = 0; i < objects.length; i += 200) {
      await this.db
        .insertInto('memory_git_objects')
        .values(objects.slice(i, i + 200).map((o) => ({ agent_id: agentId, sha: o.sha, kind: o.kind, data: o.data })))
        .onConflict((oc) => oc.columns(['agent_id', 'sha']).doNothing())
        .execute();
    }
  }

  async objects(agentId: string, shas: string[]): Promise<StoredGitObject[]> {
    if (shas.length === 0) return [];
    return this.db
      .selectFrom('memory_git_objects')
      .select(['sha', 'kind', 'data'])
      .where('agent_id', '=', agentId)
      .where('sha', 'in', shas)
      .execute();
  }

  /** Objects stored after `afterSeq`, oldest first: what a process's on-disk copy has not written yet. */
  objectsSince(agentId: string, afterSeq: number, limit: number): Promise<(StoredGitObject & { seq: number })[]> {
    return this.db
      .selectFrom('memory_git_objects')
      .select(['seq', 'sha', 'kind', 'data'])
      .where('agent_id', '=', agentId)
      .where('seq', '>', afterSeq)
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
  }
}
