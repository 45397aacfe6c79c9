import type { CreateTableBuilder, Kysely } from 'kysely';
import type { DialectName } from '../dialect/types.js';

/**
 * MCP servers as tool sources. A server's non-secret settings (command, arguments, URL, auth header name) are JSON
 * in `config`; its secrets (auth token, custom headers, stdio environment) are one sealed value in `secrets`, never
 * plain text. An MCP tool is an ordinary `tools` row (`tool_type` `external_mcp`, as Letta stores it);
 * `mcp_server_tools` says which server it came from (Letta's `MCPTools` mapping), so deleting a server or resyncing
 * it finds its tools without scanning every tool's metadata, and a tool deleted elsewhere drops its mapping.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await withSeq(dialect, db.schema.createTable('mcp_servers'))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('server_name', 'text', (c) => c.notNull().unique())
    .addColumn('server_type', 'text', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('secrets', 'text')
    .addColumn('project_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('mcp_server_tools')
    // A tool has one source: two servers offering one name share the row, and the last to register it owns it.
    .addColumn('tool_id', 'text', (c) => c.primaryKey().references('tools.id').onDelete('cascade'))
    .addColumn('mcp_server_id', 'text', (c) => c.notNull().references('mcp_servers.id').onDelete('cascade'))
    .execute();
  await db.schema.createIndex('mcp_server_tools_server_idx').on('mcp_server_tools').column('mcp_server_id').execute();
}

/** The monotonic `seq` primary key of every ordered table, as each engine spelled it when this shipped. */
function withSeq<T extends string>(dialect: DialectName, table: CreateTableBuilder<T, never>) {
  return dialect === 'sqlite'
    ? table.addColumn('seq', 'integer', (col) => col.primaryKey().autoIncrement())
    : table.addColumn('seq', 'bigserial', (col) => col.primaryKey());
}
