import type { Kysely, Selectable } from 'kysely';
import { fetchPage, seqById, type PageSpec } from './paging.js';
import type { Database, MessageRow } from './schema.js';

export type MessageRecord = Selectable<MessageRow>;
export type NewMessage = Omit<MessageRecord, 'seq'>;

/** Which thread a listing reads: one conversation, the agent's default one (`conversation_id` NULL), or all. */
export type ThreadFilter = { kind: 'all' } | { kind: 'default' } | { kind: 'conversation'; id: string };

export class MessageStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insertMany(rows: NewMessage[]): Promise<void> {
    if (rows.length > 0) await this.db.insertInto('messages').values(rows).execute();
  }

  findById(id: string): Promise<MessageRecord | undefined> {
    return this.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Which of `ids` are stored. */
  async existingIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.selectFrom('messages').select('id').where('id', 'in', ids).execute();
    return new Set(rows.map((r) => r.id));
  }

  /** Rows in the order of `ids` (an in-context list); unknown ids are skipped. */
  async findByIds(ids: string[]): Promise<MessageRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('messages').selectAll().where('id', 'in', ids).execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /**
   * The only in-place change to a stored message, used for the system message alone: the runtime keeps other rows
   * in memory across turns (src/runtime/message-cache.ts) because they never change.
   */
  async updateContent(id: string, content: string, text: string): Promise<void> {
    await this.db.updateTable('messages').set({ content, text }).where('id', '=', id).execute();
  }

  private threadQuery(agentId: string, thread: ThreadFilter) {
    let q = this.db.selectFrom('messages').selectAll().where('agent_id', '=', agentId);
    if (thread.kind === 'default') q = q.where('conversation_id', 'is', null);
    if (thread.kind === 'conversation') q = q.where('conversation_id', '=', thread.id);
    return q;
  }

  list(agentId: string, thread: ThreadFilter, page: PageSpec): Promise<MessageRecord[]> {
    return fetchPage(this.threadQuery(agentId, thread), 'seq', seqById(this.db, 'messages'), page);
  }

  /** All of a thread's rows in order; used by fork and reset, never on the per-step path. */
  listThread(agentId: string, thread: ThreadFilter): Promise<MessageRecord[]> {
    return this.threadQuery(agentId, thread).orderBy('seq').execute();
  }

  listForRun(runId: string, page: PageSpec): Promise<MessageRecord[]> {
    return fetchPage(
      this.db.selectFrom('messages').selectAll().where('run_id', '=', runId),
      'seq',
      seqById(this.db, 'messages'),
      page,
    );
  }

  listForStep(stepId: string, page: PageSpec): Promise<MessageRecord[]> {
    return fetchPage(
      this.db.selectFrom('messages').selectAll().where('step_id', '=', stepId),
      'seq',
      seqById(this.db, 'messages'),
      page,
    );
  }

  /**
   * A group chat's messages: the inputs its turns were sent (marked with the group) and every row of those turns'
   * runs, so a participant's replies belong to the group without a row ever being changed after it is written.
   */
  private groupQuery(groupId: string) {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb('group_id', '=', groupId),
          eb(
            'run_id',
            'in',
            eb.selectFrom('messages').select('run_id').where('group_id', '=', groupId).where('run_id', 'is not', null),
          ),
        ]),
      );
  }

  listForGroup(groupId: string, page: PageSpec): Promise<MessageRecord[]> {
    return fetchPage(this.groupQuery(groupId), 'seq', seqById(this.db, 'messages'), page);
  }

  /** Every row of a group chat, for its reset. */
  async listAllForGroup(groupId: string): Promise<MessageRecord[]> {
    return this.groupQuery(groupId).orderBy('seq').execute();
  }

  /** Every agent's messages (`GET /v1/messages/`), optionally one conversation's. */
  listAll(conversationId: string | undefined, page: PageSpec): Promise<MessageRecord[]> {
    let q = this.db.selectFrom('messages').selectAll();
    if (conversationId !== undefined) q = q.where('conversation_id', '=', conversationId);
    return fetchPage(q, 'seq', seqById(this.db, 'messages'), page);
  }

  async count(agentId: string, thread: ThreadFilter): Promise<number> {
    const row = await this.threadQuery(agentId, thread)
      .clearSelect()
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Whether any stored tool return answers one of these calls (the idempotent approval retry, §5.6). */
  async anyToolReturnFor(agentId: string, toolCallIds: string[]): Promise<boolean> {
    if (toolCallIds.length === 0) return false;
    const row = await this.db
      .selectFrom('messages')
      .select('id')
      .where('agent_id', '=', agentId)
      .where('role', '=', 'tool')
      .where('tool_call_id', 'in', toolCallIds)
      .executeTakeFirst();
    return row !== undefined;
  }

  async deleteByIds(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.db.deleteFrom('messages').where('id', 'in', ids).execute();
  }
}
