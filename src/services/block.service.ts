import { conflict, invalidField } from '../lib/errors.js';
import { MemoryEditError, READ_ONLY_BLOCK_ERROR, missing } from '../domain/errors.js';
import type { BlockWriter } from '../domain/ports.js';
import { newId } from '../lib/ids.js';
import { nowIso } from '../lib/time.js';
import {
  DEFAULT_BLOCK_LIMIT,
  type Block,
  type BlockUpdate,
  type CreateBlock,
  type ListBlocksQuery,
} from '../schemas/block.js';
import { toBlock, type BlockRecord } from '../store/block.store.js';
import type { WriteOrigin } from '../store/block-history.store.js';
import { currentActor } from './actor.js';
import type { Stores } from '../store/index.js';
import { flag, toJsonText } from '../store/json.js';
import type { MemoryEventBus } from '../domain/memory-events.js';

/** Letta's defaults for the two conventional blocks (`letta/constants.py`). */
const DEFAULT_DESCRIPTIONS: Record<string, string> = {
  persona:
    'The persona block: Stores details about your current persona, guiding how you behave and respond. This helps you to maintain consistency and personality in your interactions.',
  human:
    'The human block: Stores key details about the person you are conversing with, allowing for more personalized and friend-like conversation.',
};

/**
 * Block limits are enforced (decision in docs/decisions.md): a value never exceeds its block's `limit`, whether
 * the API or an agent writes it. The API answers 422 naming the field; an agent's tool gets Letta's error text.
 */
function assertWithinLimit(value: string, limit: number, field: 'value' | 'limit'): void {
  if (value.length <= limit) return;
  const message =
    field === 'value'
      ? `Value length (${value.length} characters) exceeds block limit (${limit} characters)`
      : `Limit (${limit}) cannot be less than current value length (${value.length} characters)`;
  throw invalidField(['body', field], message);
}

export class BlockService implements BlockWriter {
  constructor(
    private readonly stores: Stores,
    private readonly events: MemoryEventBus,
  ) {}

  async present(records: BlockRecord[], tx: Stores = this.stores): Promise<Block[]> {
    const tags = await tx.blocks.tagsFor(records.map((r) => r.id));
    return records.map((r) => toBlock(r, tags.get(r.id) ?? []));
  }

  async presentOne(record: BlockRecord, tx: Stores = this.stores): Promise<Block> {
    const [block] = await this.present([record], tx);
    return block!;
  }

  /** Inserts a block inside the caller's transaction; used by agent creation as well. */
  async insert(tx: Stores, input: CreateBlock): Promise<BlockRecord> {
    const limit = input.limit ?? DEFAULT_BLOCK_LIMIT;
    assertWithinLimit(input.value, limit, 'value');
    const now = nowIso();
    const row = {
      id: newId('block'),
      label: input.label,
      value: input.value,
      char_limit: limit,
      description: input.description ?? DEFAULT_DESCRIPTIONS[input.label] ?? null,
      read_only: flag(input.read_only),
      hidden: flag(input.hidden),
      metadata: toJsonText(input.metadata ?? {}) ?? '{}',
      project_id: input.project_id ?? null,
      template_name: input.template_name ?? null,
      is_template: flag(input.is_template),
      version: 1,
      created_at: now,
      updated_at: now,
    };
    await tx.blocks.insert(row, input.tags ?? []);
    // The first version is history too: a later change has something to be compared with and restored to.
    await tx.blockHistory.recordWrite({ seq: 0, ...row }, { actor: currentActor() });
    return { seq: 0, ...row };
  }

  async create(input: CreateBlock): Promise<Block> {
    return this.stores.transaction(async (tx) => this.presentOne(await this.insert(tx, input), tx));
  }

  async get(blockId: string): Promise<Block> {
    return this.presentOne(await this.require(blockId));
  }

  async require(blockId: string, tx: Stores = this.stores): Promise<BlockRecord> {
    const row = await tx.blocks.findById(blockId);
    if (!row) throw missing('Block', blockId);
    return row;
  }

  async list(query: ListBlocksQuery): Promise<Block[]> {
    const rows = await this.stores.blocks.list(
      {
        label: query.label ?? query.name,
        templatesOnly: query.templates_only,
        projectId: query.project_id,
        identityId: query.identity_id,
        identifierKeys: query.identifier_keys,
        tags: query.tags,
        matchAllTags: query.match_all_tags,
        labelSearch: query.label_search,
        valueSearch: query.value_search,
        descriptionSearch: query.description_search,
        agentCountGt: query.connected_to_agents_count_gt,
        agentCountLt: query.connected_to_agents_count_lt,
        agentCountIn: query.connected_to_agents_count_eq,
        showHidden: query.show_hidden_blocks,
      },
      { ...query, order: query.order ?? 'asc' },
    );
    return this.present(rows);
  }

  count(): Promise<number> {
    return this.stores.blocks.count();
  }

  /** `GET /identities/{id}/blocks`. */
  async listForIdentity(identityId: string): Promise<Block[]> {
    await this.requireIdentity(identityId, this.stores);
    return this.present(
      await this.stores.blocks.list({ identityId, showHidden: true }, { limit: 10_000, order: 'asc' }),
    );
  }

  /** `PATCH /blocks/{id}/identities/attach|detach/{identity_id}`. */
  async linkIdentity(blockId: string, identityId: string, attach: boolean): Promise<Block> {
    return this.stores.transaction(async (tx) => {
      const row = await this.require(blockId, tx);
      await this.requireIdentity(identityId, tx);
      if (attach) await tx.identities.link('identity_blocks', identityId, blockId);
      else await tx.identities.unlink('identity_blocks', identityId, blockId);
      return this.presentOne(row, tx);
    });
  }

  private async requireIdentity(identityId: string, tx: Stores): Promise<void> {
    if (!(await tx.identities.findById(identityId))) throw missing('Identity', identityId);
  }

  /** An update through the API: read-only blocks may be changed here, never by an agent's tools. */
  async update(blockId: string, patch: BlockUpdate): Promise<Block> {
    return this.stores.transaction(async (tx) => {
      const row = await this.lockForWrite(tx, await this.require(blockId, tx));
      const updated = await this.applyUpdate(tx, row, patch);
      return this.presentOne(updated, tx);
    });
  }

  /**
   * The block read again under the memory locks of every agent it is attached to, for a write about to be made from
   * it: a git push to one of them then either sees the write or is seen by it (`GitMemoryStore.lockAgents`).
   */
  async lockForWrite(tx: Stores, row: BlockRecord): Promise<BlockRecord> {
    if (!tx.gitMemory.locksAgents) return row;
    await tx.gitMemory.lockAgents(await tx.blocks.agentIdsFor(row.id));
    return this.require(row.id, tx);
  }

  async applyUpdate(
    tx: Stores,
    row: BlockRecord,
    patch: BlockUpdate,
    origin: WriteOrigin = { actor: currentActor() },
  ): Promise<BlockRecord> {
    const value = patch.value ?? row.value;
    const limit = patch.limit ?? row.char_limit;
    if (patch.limit != null && patch.value == null) assertWithinLimit(value, limit, 'limit');
    else assertWithinLimit(value, limit, 'value');
    if (patch.label != null && patch.label !== row.label) await this.assertLabelFreeOnAgents(tx, row.id, patch.label);
    const changes: Partial<BlockRecord> = {};
    if (patch.value != null) changes.value = patch.value;
    if (patch.limit != null) changes.char_limit = patch.limit;
    if (patch.label != null) changes.label = patch.label;
    if (patch.description !== undefined) changes.description = patch.description;
    if (patch.read_only != null) changes.read_only = flag(patch.read_only);
    if (patch.hidden != null) changes.hidden = flag(patch.hidden);
    if (patch.metadata != null) changes.metadata = JSON.stringify(patch.metadata);
    if (patch.project_id !== undefined) changes.project_id = patch.project_id;
    if (patch.template_name !== undefined) changes.template_name = patch.template_name;
    if (patch.is_template != null) changes.is_template = flag(patch.is_template);
    changes.version = row.version + 1;
    changes.updated_at = nowIso();
    await tx.blocks.update(row.id, changes);
    await tx.blockHistory.recordWrite({ ...row, ...changes }, origin);
    if (patch.tags != null) await tx.blocks.setTags(row.id, patch.tags);
    const memoryVisible =
      changes.value !== undefined ||
      changes.label !== undefined ||
      changes.description !== undefined ||
      changes.char_limit !== undefined ||
      changes.read_only !== undefined;
    if (memoryVisible) await this.events.blocksChanged(tx, await tx.blocks.agentIdsFor(row.id));
    return { ...row, ...changes };
  }

  /**
   * The one path by which an agent's memory tools change a block. Read-only blocks and over-limit values are
   * refused with Letta's error texts; the write lands on the shared row, so every attached agent sees it.
   */
  async writeByAgent(
    tx: Stores,
    agentId: string,
    label: string,
    compute: (current: string) => string,
  ): Promise<BlockRecord> {
    const found = await tx.blocks.findForAgentByLabel(agentId, label);
    if (!found) {
      const labels = (await tx.blocks.listForAgent(agentId)).map((b) => b.label);
      throw new MemoryEditError(`Block field ${label} does not exist (available sections = ${labels.join(', ')})`);
    }
    const row = await this.lockForWrite(tx, found);
    if (row.read_only) throw new MemoryEditError(READ_ONLY_BLOCK_ERROR);
    const value = compute(row.value);
    if (value.length > row.char_limit) {
      throw new MemoryEditError(`Edit failed: Exceeds ${row.char_limit} character limit (requested ${value.length})`);
    }
    return this.applyUpdate(tx, row, { value }, { actor: { kind: 'agent_tool', name: agentId } });
  }

  async delete(blockId: string): Promise<void> {
    await this.stores.transaction(async (tx) => {
      const agentIds = await tx.blocks.agentIdsFor(blockId);
      if (!(await tx.blocks.delete(blockId))) throw missing('Block', blockId);
      await this.events.blocksChanged(tx, agentIds);
    });
  }

  /** An agent sees its blocks by label, so two attached blocks may not share one. */
  async assertLabelFreeOnAgents(tx: Stores, blockId: string, label: string): Promise<void> {
    for (const agentId of await tx.blocks.agentIdsFor(blockId)) {
      const clash = await tx.blocks.findForAgentByLabel(agentId, label);
      if (clash && clash.id !== blockId) throw conflict(`Agent ${agentId} already has a block with label '${label}'`);
    }
  }

  async attachToAgent(tx: Stores, agentId: string, blockId: string): Promise<void> {
    const block = await this.require(blockId, tx);
    const clash = await tx.blocks.findForAgentByLabel(agentId, block.label);
    if (clash?.id === blockId) return;
    if (clash) throw conflict(`Agent ${agentId} already has a block with label '${block.label}'`);
    await tx.blocks.attach(agentId, blockId);
  }

  /** One block onto several agents at once (a group's), all-or-nothing with the caller's transaction. */
  async attachToAgents(tx: Stores, agentIds: string[], blockId: string): Promise<void> {
    await this.require(blockId, tx);
    for (const agentId of agentIds) await this.attachToAgent(tx, agentId, blockId);
    await this.events.blocksChanged(tx, agentIds);
  }

  async detachFromAgents(tx: Stores, agentIds: string[], blockId: string): Promise<void> {
    await this.require(blockId, tx);
    const changed: string[] = [];
    for (const agentId of agentIds) if (await tx.blocks.detach(agentId, blockId)) changed.push(agentId);
    if (changed.length > 0) await this.events.blocksChanged(tx, changed);
  }
}
