import type { CreateTableBuilder, Kysely } from 'kysely';
import type { DialectName } from '../dialect/types.js';

/** Conversation history (recall memory) and the conversations that group it. */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await withSeq(dialect, db.schema.createTable('conversations'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('summary', 'text')
    .addColumn('description', 'text')
    .addColumn('in_context_message_ids', 'text', (c) => c.notNull())
    .addColumn('isolated_block_ids', 'text', (c) => c.notNull())
    .addColumn('model', 'text')
    .addColumn('model_settings', 'text')
    .addColumn('context_window_limit', 'integer')
    .addColumn('archived', 'integer', (c) => c.notNull())
    .addColumn('hidden', 'integer', (c) => c.notNull())
    .addColumn('deleted', 'integer', (c) => c.notNull())
    .addColumn('last_message_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('conversations_agent_idx').on('conversations').columns(['agent_id', 'seq']).execute();

  await withSeq(dialect, db.schema.createTable('messages'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    // NULL is the agent's default conversation ("agent-direct mode").
    .addColumn('conversation_id', 'text', (c) => c.references('conversations.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    // Plain text of the message for recall search (text parts, tool-call arguments), kept beside the JSON content.
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('tool_calls', 'text')
    .addColumn('tool_call_id', 'text')
    .addColumn('tool_returns', 'text')
    .addColumn('step_id', 'text')
    .addColumn('run_id', 'text')
    .addColumn('otid', 'text')
    .addColumn('group_id', 'text')
    .addColumn('sender_id', 'text')
    .addColumn('model', 'text')
    .addColumn('is_err', 'integer', (c) => c.notNull())
    .addColumn('approval_request_id', 'text')
    .addColumn('approve', 'integer')
    .addColumn('denial_reason', 'text')
    .addColumn('approvals', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('messages_agent_idx').on('messages').columns(['agent_id', 'seq']).execute();
  await db.schema.createIndex('messages_conversation_idx').on('messages').columns(['conversation_id', 'seq']).execute();
  await db.schema.createIndex('messages_run_idx').on('messages').columns(['run_id']).execute();
}

/** The monotonic `seq` primary key of every ordered table, as each engine spelled it when this shipped. */
function withSeq<T extends string>(dialect: DialectName, table: CreateTableBuilder<T, never>) {
  return dialect === 'sqlite'
    ? table.addColumn('seq', 'integer', (col) => col.primaryKey().autoIncrement())
    : table.addColumn('seq', 'bigserial', (col) => col.primaryKey());
}
