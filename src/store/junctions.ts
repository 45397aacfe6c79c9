import { sql, type RawBuilder } from 'kysely';

/** A junction table seen from one side: which column holds the listed rows' ids, and which the other side's. */
interface Junction {
  table: 'identity_agents' | 'identity_blocks' | 'agent_blocks' | 'agent_archives';
  listed: 'target_id' | 'agent_id' | 'block_id' | 'archive_id';
  by: 'identity_id' | 'agent_id' | 'block_id' | 'archive_id';
}

export const AGENTS_OF_IDENTITY: Junction = { table: 'identity_agents', listed: 'target_id', by: 'identity_id' };
export const BLOCKS_OF_IDENTITY: Junction = { table: 'identity_blocks', listed: 'target_id', by: 'identity_id' };
export const AGENTS_OF_BLOCK: Junction = { table: 'agent_blocks', listed: 'agent_id', by: 'block_id' };
export const AGENTS_OF_ARCHIVE: Junction = { table: 'agent_archives', listed: 'agent_id', by: 'archive_id' };
export const ARCHIVES_OF_AGENT: Junction = { table: 'agent_archives', listed: 'archive_id', by: 'agent_id' };

/** The ids linked to `id` through `junction`: a subquery for `where(column, 'in', …)`. */
export function linkedTo(junction: Junction, id: string): RawBuilder<string> {
  return sql<string>`(select ${sql.ref(junction.listed)} from ${sql.table(junction.table)} where ${sql.ref(junction.by)} = ${id})`;
}

/** The targets of identity links (`identity_agents` / `identity_blocks`) whose identity has one of `keys`. */
export function linkedToIdentityKeys(junction: Junction, keys: string[]): RawBuilder<string> {
  const t = sql.table(junction.table);
  return sql<string>`(select ${t}.target_id from ${t} inner join identities on identities.id = ${t}.identity_id where identities.identifier_key in (${sql.join(keys)}))`;
}
