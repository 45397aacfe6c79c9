import type { CreateTableBuilder, Kysely } from 'kysely';
import type { DialectName } from '../dialect/types.js';

export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await withSeq(dialect, db.schema.createTable('agents'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('agent_type', 'text', (c) => c.notNull())
    .addColumn('system', 'text', (c) => c.notNull())
    .addColumn('model', 'text')
    .addColumn('embedding', 'text')
    .addColumn('llm_config', 'text', (c) => c.notNull())
    .addColumn('embedding_config', 'text')
    .addColumn('model_settings', 'text')
    .addColumn('compaction_settings', 'text')
    .addColumn('context_window_limit', 'integer')
    .addColumn('tool_rules', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text')
    .addColumn('message_ids', 'text', (c) => c.notNull())
    .addColumn('enable_sleeptime', 'integer', (c) => c.notNull())
    .addColumn('message_buffer_autoclear', 'integer', (c) => c.notNull())
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('hidden', 'integer', (c) => c.notNull())
    .addColumn('project_id', 'text')
    .addColumn('template_id', 'text')
    .addColumn('base_template_id', 'text')
    .addColumn('response_format', 'text')
    .addColumn('secrets', 'text', (c) => c.notNull())
    .addColumn('last_run_completion', 'text')
    .addColumn('last_run_duration_ms', 'integer')
    .addColumn('last_stop_reason', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('agents_name_idx').on('agents').column('name').execute();

  await withSeq(dialect, db.schema.createTable('blocks'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('char_limit', 'integer', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('read_only', 'integer', (c) => c.notNull())
    .addColumn('hidden', 'integer', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text')
    .addColumn('template_name', 'text')
    .addColumn('is_template', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('blocks_label_idx').on('blocks').column('label').execute();

  await db.schema
    .createTable('agent_blocks')
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('block_id', 'text', (c) => c.notNull().references('blocks.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('agent_blocks_pk', ['agent_id', 'block_id'])
    .execute();
  await db.schema.createIndex('agent_blocks_block_idx').on('agent_blocks').column('block_id').execute();

  for (const [table, owner] of [
    ['agent_tags', 'agents.id'],
    ['block_tags', 'blocks.id'],
  ] as const) {
    await db.schema
      .createTable(table)
      .addColumn('owner_id', 'text', (c) => c.notNull().references(owner).onDelete('cascade'))
      .addColumn('tag', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, ['owner_id', 'tag'])
      .execute();
    await db.schema.createIndex(`${table}_tag_idx`).on(table).column('tag').execute();
  }

  await withSeq(dialect, db.schema.createTable('tools'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text')
    .addColumn('tool_type', 'text', (c) => c.notNull())
    .addColumn('source_type', 'text', (c) => c.notNull())
    .addColumn('source_code', 'text')
    .addColumn('json_schema', 'text', (c) => c.notNull())
    .addColumn('args_json_schema', 'text')
    .addColumn('return_char_limit', 'integer', (c) => c.notNull())
    .addColumn('pip_requirements', 'text')
    .addColumn('npm_requirements', 'text')
    .addColumn('default_requires_approval', 'integer', (c) => c.notNull())
    .addColumn('enable_parallel_execution', 'integer', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('agent_tools')
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('tool_id', 'text', (c) => c.notNull().references('tools.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('agent_tools_pk', ['agent_id', 'tool_id'])
    .execute();
  await db.schema.createIndex('agent_tools_tool_idx').on('agent_tools').column('tool_id').execute();

  await withSeq(dialect, db.schema.createTable('identities'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('identifier_key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('identity_type', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text')
    .addColumn('properties', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('identities_key_idx')
    .on('identities')
    .columns(['identifier_key', 'project_id'])
    .unique()
    .execute();

  for (const [table, target] of [
    ['identity_agents', 'agents.id'],
    ['identity_blocks', 'blocks.id'],
  ] as const) {
    await db.schema
      .createTable(table)
      .addColumn('identity_id', 'text', (c) => c.notNull().references('identities.id').onDelete('cascade'))
      .addColumn('target_id', 'text', (c) => c.notNull().references(target).onDelete('cascade'))
      .addPrimaryKeyConstraint(`${table}_pk`, ['identity_id', 'target_id'])
      .execute();
    await db.schema.createIndex(`${table}_target_idx`).on(table).column('target_id').execute();
  }
}

/** The monotonic `seq` primary key of every ordered table, as each engine spelled it when this shipped. */
function withSeq<T extends string>(dialect: DialectName, table: CreateTableBuilder<T, never>) {
  return dialect === 'sqlite'
    ? table.addColumn('seq', 'integer', (col) => col.primaryKey().autoIncrement())
    : table.addColumn('seq', 'bigserial', (col) => col.primaryKey());
}
