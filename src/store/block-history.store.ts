import type { Kysely, Selectable } from 'kysely';
import { nowIso } from '../lib/time.js';
import type { ActorKind, BlockHistoryEntry } from '../schemas/block-history.js';
import type { Actor } from '../schemas/block-history.js';
import type { BlockRecord } from './block.store.js';
import { bool } from './json.js';
import type { BlockHistoryRow, Database } from './schema.js';

export type BlockHistoryRecord = Selectable<BlockHistoryRow>;

export function toBlockHistoryEntry(row: BlockHistoryRecord): BlockHistoryEntry {
  return {
    block_id: row.block_id,
    version: row.version,
    label: row.label,
    value: row.value,
    limit: row.char_limit,
    description: row.description,
    read_only: bool(row.read_only),
    actor: { kind: row.actor_kind as ActorKind, name: row.actor_name },
    restored_from: row.restored_from,
    created_at: row.created_at,
  };
}

/** Who made a write, and the version it put back when it was a restore. */
export interface WriteOrigin {
  actor: Actor;
  restoredFrom?: number;
}

export class BlockHistoryStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** A copy of the block as a write left it; needs no read, so it also fits a write batch. */
  async recordWrite(block: BlockRecord, origin: WriteOrigin): Promise<void> {
    await this.db
      .insertInto('block_history')
      .values({
        block_id: block.id,
        version: block.version,
        label: block.label,
        value: block.value,
        char_limit: block.char_limit,
        description: block.description,
        read_only: block.read_only,
        actor_kind: origin.actor.kind,
        actor_name: origin.actor.name,
        restored_from: origin.restoredFrom ?? null,
        created_at: nowIso(),
      })
      .execute();
  }

  /** Newest first; `before` pages on by version. */
  list(blockId: string, page: { limit: number; before?: number | undefined }): Promise<BlockHistoryRecord[]> {
    let q = this.db.selectFrom('block_history').selectAll().where('block_id', '=', blockId);
    if (page.before !== undefined) q = q.where('version', '<', page.before);
    return q.orderBy('seq', 'desc').limit(page.limit).execute();
  }

  /** The newest entry of that version (two only where concurrent writes raced on PostgreSQL). */
  find(blockId: string, version: number): Promise<BlockHistoryRecord | undefined> {
    return this.db
      .selectFrom('block_history')
      .selectAll()
      .where('block_id', '=', blockId)
      .where('version', '=', version)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
  }
}
