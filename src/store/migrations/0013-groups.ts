import type { CreateTableBuilder, Kysely } from 'kysely';
import type { DialectName } from '../dialect/types.js';

/**
 * Multi-agent groups (Letta's `groups` and `groups_agents`): the sleeptime group an agent with `enable_sleeptime`
 * gets, and the round-robin, supervisor and dynamic groups `/v1/groups` creates. `turns_counter` is bumped by one
 * UPDATE per primary turn, so with several processes each trigger fires once. Steps gain Letta's feedback and tags.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await withSeq(dialect, db.schema.createTable('groups'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('manager_type', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('manager_agent_id', 'text', (c) => c.references('agents.id').onDelete('cascade'))
    .addColumn('sleeptime_agent_frequency', 'integer')
    .addColumn('turns_counter', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_processed_message_id', 'text')
    .addColumn('max_turns', 'integer')
    .addColumn('termination_token', 'text')
    .addColumn('hidden', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('project_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('groups_manager_idx').on('groups').column('manager_agent_id').execute();
  await db.schema
    .createTable('group_agents')
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('group_agents_pk', ['group_id', 'agent_id'])
    .execute();
  await db.schema.createIndex('group_agents_agent_idx').on('group_agents').column('agent_id').execute();
  await db.schema
    .createTable('group_blocks')
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('block_id', 'text', (c) => c.notNull().references('blocks.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('group_blocks_pk', ['group_id', 'block_id'])
    .execute();
  await db.schema.alterTable('steps').addColumn('feedback', 'text').execute();
  await db.schema.alterTable('steps').addColumn('tags', 'text').execute();
}

/** The monotonic `seq` primary key of every ordered table, as each engine spelled it when this shipped. */
function withSeq<T extends string>(dialect: DialectName, table: CreateTableBuilder<T, never>) {
  return dialect === 'sqlite'
    ? table.addColumn('seq', 'integer', (col) => col.primaryKey().autoIncrement())
    : table.addColumn('seq', 'bigserial', (col) => col.primaryKey());
}
