import type { CreateTableBuilder, Kysely } from 'kysely';
import type { DialectName } from '../dialect/types.js';

/** Runs (one per send), their steps (one per LLM call), the SSE chunks of streamed runs, and the per-thread turn lock. */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await withSeq(dialect, db.schema.createTable('runs'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    // NULL is the agent's default conversation, as in `messages`.
    .addColumn('conversation_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('stop_reason', 'text')
    .addColumn('background', 'integer', (c) => c.notNull())
    .addColumn('streamed', 'integer', (c) => c.notNull())
    .addColumn('metadata', 'text')
    .addColumn('request_config', 'text')
    .addColumn('callback_url', 'text')
    .addColumn('usage', 'text', (c) => c.notNull())
    .addColumn('ttft_ns', dialect === 'sqlite' ? 'integer' : 'bigint')
    .addColumn('total_duration_ns', dialect === 'sqlite' ? 'integer' : 'bigint')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('completed_at', 'text')
    // Refreshed by the owning process while the run is active; a stale one means that process died.
    .addColumn('heartbeat_at', 'text')
    .execute();
  await db.schema.createIndex('runs_agent_idx').on('runs').columns(['agent_id', 'seq']).execute();
  await db.schema.createIndex('runs_status_idx').on('runs').columns(['status']).execute();

  await withSeq(dialect, db.schema.createTable('steps'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('model', 'text')
    .addColumn('model_handle', 'text')
    .addColumn('context_window_limit', 'integer')
    .addColumn('prompt_tokens', 'integer', (c) => c.notNull())
    .addColumn('completion_tokens', 'integer', (c) => c.notNull())
    .addColumn('total_tokens', 'integer', (c) => c.notNull())
    .addColumn('cached_input_tokens', 'integer')
    .addColumn('reasoning_tokens', 'integer')
    .addColumn('stop_reason', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error_type', 'text')
    .addColumn('error_data', 'text')
    .addColumn('llm_ms', 'integer')
    .addColumn('duration_ms', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('steps_run_idx').on('steps').columns(['run_id', 'seq']).execute();

  await withSeq(dialect, db.schema.createTable('run_chunks'))
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('seq_id', 'integer', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('run_chunks_run_idx').on('run_chunks').columns(['run_id', 'seq_id']).unique().execute();

  // One turn at a time per agent and conversation: the primary key is the lock, so it holds across processes.
  await db.schema
    .createTable('turn_locks')
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('thread', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('turn_locks_pk', ['agent_id', 'thread'])
    .execute();
}

/** The monotonic `seq` primary key of every ordered table, as each engine spelled it when this shipped. */
function withSeq<T extends string>(dialect: DialectName, table: CreateTableBuilder<T, never>) {
  return dialect === 'sqlite'
    ? table.addColumn('seq', 'integer', (col) => col.primaryKey().autoIncrement())
    : table.addColumn('seq', 'bigserial', (col) => col.primaryKey());
}
