import { notFound } from '../lib/errors.js';
import type { Block } from '../schemas/block.js';
import type { BlockHistoryEntry } from '../schemas/block-history.js';
import { toBlockHistoryEntry } from '../store/block-history.store.js';
import type { Stores } from '../store/index.js';
import { currentActor } from './actor.js';
import type { BlockService } from './block.service.js';

/** Reading a block's history and putting an earlier version back (Cairn extension routes, `cairn blocks history`). */
export class BlockHistoryService {
  constructor(
    private readonly stores: Stores,
    private readonly blocks: BlockService,
  ) {}

  async list(blockId: string, page: { limit: number; before?: number | undefined }): Promise<BlockHistoryEntry[]> {
    await this.blocks.require(blockId);
    return (await this.stores.blockHistory.list(blockId, page)).map(toBlockHistoryEntry);
  }

  /**
   * Writes the version's value, limit and description back through the one update path, so the limit and the
   * memory events apply as for any API write. The label and read-only flag stay as they are now: an old label
   * may belong to another block of an attached agent by now.
   */
  async restore(blockId: string, version: number): Promise<Block> {
    return this.stores.transaction(async (tx) => {
      const row = await this.blocks.lockForWrite(tx, await this.blocks.require(blockId, tx));
      const entry = await tx.blockHistory.find(blockId, version);
      if (!entry) throw notFound(`Block '${blockId}' has no version ${version}`);
      const updated = await this.blocks.applyUpdate(
        tx,
        row,
        { value: entry.value, limit: entry.char_limit, description: entry.description },
        { actor: currentActor(), restoredFrom: version },
      );
      return this.blocks.presentOne(updated, tx);
    });
  }
}
