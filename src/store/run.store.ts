import type { Kysely, Selectable } from 'kysely';
import { fetchPage, seqById, type PageSpec } from './paging.js';
import type { Database, RunRow, StepRow } from './schema.js';

export type RunRecord = Selectable<RunRow>;

/** A new run's row: what `fields` leaves out is not known yet (no stop reason, usage, timings or lock). */
export function newRunRow(
  fields: Pick<RunRecord, 'id' | 'agent_id' | 'status' | 'created_at'> & Partial<Omit<RunRecord, 'seq'>>,
): Omit<RunRecord, 'seq'> {
  return {
    conversation_id: null,
    stop_reason: null,
    background: 0,
    streamed: 0,
    metadata: null,
    request_config: null,
    callback_url: null,
    usage: '{}',
    ttft_ns: null,
    total_duration_ns: null,
    completed_at: null,
    heartbeat_at: fields.created_at,
    thread_lock: null,
    ...fields,
  };
}
export type StepRecord = Selectable<StepRow>;

export interface RunFilter {
  agentIds?: string[] | undefined;
  statuses?: string[] | undefined;
  background?: boolean | undefined;
  stopReason?: string | undefined;
  /** `null` selects the default conversation. */
  conversationId?: string | null | undefined;
}

export class RunStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: Omit<RunRecord, 'seq'>): Promise<void> {
    await this.db.insertInto('runs').values(row).execute();
  }

  /** Only for a run that never started: a send refused after its run (and turn lock) was taken. */
  async deleteUnstarted(id: string): Promise<void> {
    await this.db.deleteFrom('runs').where('id', '=', id).execute();
  }

  findById(id: string): Promise<RunRecord | undefined> {
    return this.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The status alone: polled at every step boundary, so it must stay a one-column primary-key lookup. */
  async statusOf(id: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('runs').select('status').where('id', '=', id).executeTakeFirst();
    return row?.status;
  }

  async update(id: string, patch: Partial<Omit<RunRecord, 'seq' | 'id'>>): Promise<void> {
    await this.db.updateTable('runs').set(patch).where('id', '=', id).execute();
  }

  /**
   * A turn's own end: its final figures and metadata, and the release of its turn lock, in one statement that needs
   * no read before it (so it can join a write batch). A run a cancel or the stale-run sweeper finished first keeps
   * its status, stop reason and completion time.
   */
  async recordEnd(
    id: string,
    end: {
      status: string;
      stop_reason: string;
      completed_at: string;
      metadata: string;
      usage: string;
      total_duration_ns: number;
      ttft_ns: number | null;
    },
  ): Promise<void> {
    await this.db
      .updateTable('runs')
      .set((eb) => {
        const active = eb('status', 'in', ['created', 'running']);
        return {
          status: eb.case().when(active).then(end.status).else(eb.ref('status')).end(),
          stop_reason: eb.case().when(active).then(end.stop_reason).else(eb.ref('stop_reason')).end(),
          completed_at: eb
            .case()
            .when(active)
            .then(end.completed_at)
            .else(eb.fn.coalesce('completed_at', eb.val(end.completed_at)))
            .end(),
          metadata: end.metadata,
          usage: end.usage,
          total_duration_ns: end.total_duration_ns,
          ttft_ns: end.ttft_ns,
          thread_lock: null,
        };
      })
      .where('id', '=', id)
      .execute();
  }

  /** Moves a run to a final status unless it already has one (a cancel that raced the loop's own finish). */
  async finishIfActive(id: string, patch: Partial<Omit<RunRecord, 'seq' | 'id'>>): Promise<boolean> {
    const result = await this.db
      .updateTable('runs')
      .set(patch)
      .where('id', '=', id)
      .where('status', 'in', ['created', 'running'])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  list(filter: RunFilter, page: PageSpec): Promise<RunRecord[]> {
    let q = this.db.selectFrom('runs').selectAll();
    if (filter.agentIds?.length) q = q.where('agent_id', 'in', filter.agentIds);
    if (filter.statuses?.length) q = q.where('status', 'in', filter.statuses);
    if (filter.background !== undefined) q = q.where('background', '=', filter.background ? 1 : 0);
    if (filter.stopReason) q = q.where('stop_reason', '=', filter.stopReason);
    if (filter.conversationId === null) q = q.where('conversation_id', 'is', null);
    else if (filter.conversationId !== undefined) q = q.where('conversation_id', '=', filter.conversationId);
    return fetchPage(q, 'seq', seqById(this.db, 'runs'), page);
  }

  activeRunIds(agentId: string, conversationId: string | null | undefined): Promise<string[]> {
    let q = this.db
      .selectFrom('runs')
      .select('id')
      .where('agent_id', '=', agentId)
      .where('status', 'in', ['created', 'running']);
    if (conversationId === null) q = q.where('conversation_id', 'is', null);
    else if (conversationId !== undefined) q = q.where('conversation_id', '=', conversationId);
    return q.execute().then((rows) => rows.map((r) => r.id));
  }

  async heartbeat(ids: string[], now: string): Promise<void> {
    if (ids.length > 0) await this.db.updateTable('runs').set({ heartbeat_at: now }).where('id', 'in', ids).execute();
  }

  /**
   * Fails active runs whose owner stopped heartbeating (its process died) and frees the turn locks such runs hold,
   * including a run cancelled while its turn was still going when the process died.
   */
  async failStale(before: string, now: string): Promise<string[]> {
    const stale = await this.db
      .selectFrom('runs')
      .select('id')
      .where('status', 'in', ['created', 'running'])
      .where((eb) => eb.or([eb('heartbeat_at', 'is', null), eb('heartbeat_at', '<', before)]))
      .where('created_at', '<', before)
      .execute();
    const ids = stale.map((r) => r.id);
    if (ids.length > 0) {
      await this.db
        .updateTable('runs')
        .set({
          status: 'failed',
          stop_reason: 'error',
          completed_at: now,
          thread_lock: null,
          metadata: JSON.stringify({ error: 'The server process running this run stopped before it finished.' }),
        })
        .where('id', 'in', ids)
        .where('status', 'in', ['created', 'running'])
        .execute();
    }
    await this.db
      .updateTable('runs')
      .set({ thread_lock: null })
      .where('thread_lock', 'is not', null)
      .where('status', 'not in', ['created', 'running'])
      .where((eb) => eb.or([eb('heartbeat_at', 'is', null), eb('heartbeat_at', '<', before)]))
      .execute();
    return ids;
  }

  async insertStep(row: Omit<StepRecord, 'seq' | 'feedback' | 'tags'>): Promise<void> {
    await this.db.insertInto('steps').values(row).execute();
  }

  listSteps(runId: string, page: PageSpec): Promise<StepRecord[]> {
    return fetchPage(
      this.db.selectFrom('steps').selectAll().where('run_id', '=', runId),
      'seq',
      seqById(this.db, 'steps'),
      page,
    );
  }

  async appendChunks(runId: string, chunks: { seqId: number; data: string }[]): Promise<void> {
    if (chunks.length === 0) return;
    await this.db
      .insertInto('run_chunks')
      .values(chunks.map((c) => ({ run_id: runId, seq_id: c.seqId, data: c.data })))
      .execute();
  }

  readChunks(runId: string, afterSeqId: number, limit: number): Promise<{ seq_id: number; data: string }[]> {
    return this.db
      .selectFrom('run_chunks')
      .select(['seq_id', 'data'])
      .where('run_id', '=', runId)
      .where('seq_id', '>', afterSeqId)
      .orderBy('seq_id')
      .limit(limit)
      .execute();
  }

  /** The run holding a thread's turn lock (`runs.thread_lock`), if any. */
  async lockHolder(lock: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('runs').select('id').where('thread_lock', '=', lock).executeTakeFirst();
    return row?.id;
  }
}
