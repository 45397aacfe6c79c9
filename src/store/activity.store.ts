import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { AgentSummary } from '../schemas/activity.js';
import type { Database } from './schema.js';

/**
 * Read-only aggregates for the memory inspector: per-agent counts in one query per table for a page of agents, and
 * a change marker that moves whenever a write lands that a page could show. The marker is computed from the tables,
 * not from events in this process, so it also sees writes made by other Cairn processes on the same database.
 */
export class ActivityStore {
  constructor(private readonly db: Kysely<Database>) {}

  async summaries(agentIds: string[]): Promise<AgentSummary[]> {
    if (agentIds.length === 0) return [];
    const ids = sql.join(agentIds);
    const counted = async (query: RawBuilder<{ agent_id: string; n: number | string }>) =>
      new Map((await query.execute(this.db)).rows.map((r) => [r.agent_id, Number(r.n)]));
    const [blocks, passages, conversations, messages] = await Promise.all([
      counted(sql`select agent_id, count(*) as n from agent_blocks where agent_id in (${ids}) group by agent_id`),
      counted(
        sql`select aa.agent_id as agent_id, count(*) as n from agent_archives aa join passages p on p.archive_id = aa.archive_id
            where aa.agent_id in (${ids}) group by aa.agent_id`,
      ),
      counted(
        sql`select agent_id, count(*) as n from conversations where agent_id in (${ids}) and deleted = 0 group by agent_id`,
      ),
      sql<{ agent_id: string; n: number | string; last: string | null }>`
        select agent_id, count(*) as n, max(created_at) as last from messages where agent_id in (${ids}) group by agent_id`
        .execute(this.db)
        .then((r) => new Map(r.rows.map((row) => [row.agent_id, row]))),
    ]);
    return agentIds.map((agentId) => ({
      agent_id: agentId,
      blocks: blocks.get(agentId) ?? 0,
      passages: passages.get(agentId) ?? 0,
      messages: Number(messages.get(agentId)?.n ?? 0),
      conversations: conversations.get(agentId) ?? 0,
      last_message_at: messages.get(agentId)?.last ?? null,
    }));
  }

  /** Counts and highest sequence numbers that any write the inspector shows changes; for one agent, or all. */
  async marker(agentId: string | undefined): Promise<string> {
    const query =
      agentId === undefined
        ? sql<Record<string, unknown>>`select
            (select count(*) from agents) as agents,
            (select max(updated_at) from agents) as agents_updated,
            (select max(seq) from block_history) as history,
            (select max(seq) from messages) as messages,
            (select count(*) from messages) as message_count,
            (select count(*) from passages) as passages,
            (select max(seq) from passages) as passages_seq,
            (select max(seq) from runs) as runs,
            (select count(*) from runs where completed_at is not null) as runs_done`
        : sql<Record<string, unknown>>`select
            (select updated_at from agents where id = ${agentId}) as agent_updated,
            (select count(*) from agent_blocks where agent_id = ${agentId}) as blocks,
            (select max(h.seq) from block_history h join agent_blocks ab on ab.block_id = h.block_id
              where ab.agent_id = ${agentId}) as history,
            (select max(seq) from messages where agent_id = ${agentId}) as messages,
            (select count(*) from messages where agent_id = ${agentId}) as message_count,
            (select count(*) from agent_archives aa join passages p on p.archive_id = aa.archive_id
              where aa.agent_id = ${agentId}) as passages,
            (select max(p.seq) from agent_archives aa join passages p on p.archive_id = aa.archive_id
              where aa.agent_id = ${agentId}) as passages_seq,
            (select max(seq) from runs where agent_id = ${agentId}) as runs,
            (select count(*) from runs where agent_id = ${agentId} and completed_at is not null) as runs_done,
            (select count(*) from conversations where agent_id = ${agentId}) as conversations,
            (select max(updated_at) from conversations where agent_id = ${agentId}) as conversations_updated`;
    const row = (await query.execute(this.db)).rows[0] ?? {};
    return Object.values(row)
      .map((v) => (v === null || v === undefined ? '-' : String(v)))
      .join('.');
  }
}
