import { notFound } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { nowIso } from '../lib/time.js';
import { inContextIds, type SystemPrompts } from '../runtime/system-prompt.js';
import type { CreateConversation, UpdateConversation } from '../schemas/conversation.js';
import type { PageQuery } from '../schemas/common.js';
import type { ConversationRecord } from '../store/conversation.store.js';
import type { Stores } from '../store/index.js';
import { bool, flag, parseJson, toJsonText } from '../store/json.js';
import { missing } from '../domain/errors.js';

export function toConversation(row: ConversationRecord) {
  return {
    id: row.id,
    agent_id: row.agent_id,
    summary: row.summary,
    description: row.description,
    in_context_message_ids: parseJson<string[]>(row.in_context_message_ids, []),
    isolated_block_ids: parseJson<string[]>(row.isolated_block_ids, []),
    model: row.model,
    model_settings: parseJson(row.model_settings, null),
    context_window_limit: row.context_window_limit,
    archived: bool(row.archived),
    hidden: bool(row.hidden),
    last_message_at: row.last_message_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
    created_by_id: null,
    last_updated_by_id: null,
  };
}

/** Conversations: separate threads of one agent, each with its own compiled system message and in-context list (§3.2). */
export class ConversationService {
  constructor(
    private readonly stores: Stores,
    private readonly prompts: SystemPrompts,
  ) {}

  async require(conversationId: string, tx: Stores = this.stores): Promise<ConversationRecord> {
    const row = await tx.conversations.findById(conversationId);
    if (!row) throw missing('Conversation', conversationId);
    return row;
  }

  async get(conversationId: string) {
    return toConversation(await this.require(conversationId));
  }

  async create(
    agentId: string,
    input: CreateConversation,
    copyFrom?: { conversationId: string | null; upToMessageId?: string | undefined },
  ) {
    return this.stores.transaction(async (tx) => {
      const agent = await tx.agents.findById(agentId);
      if (!agent) throw missing('Agent', agentId);
      const now = nowIso();
      const id = newId('conv');
      await tx.conversations.insert({
        id,
        agent_id: agentId,
        summary: input.summary ?? null,
        description: input.description ?? null,
        in_context_message_ids: '[]',
        isolated_block_ids: '[]',
        model: input.model ?? null,
        model_settings: toJsonText(input.model_settings),
        context_window_limit: input.context_window_limit ?? null,
        archived: 0,
        hidden: flag(input.hidden),
        deleted: 0,
        last_message_at: null,
        created_at: now,
        updated_at: now,
      });
      let ids = await this.prompts.startThread(tx, agent, id, []);
      if (copyFrom) {
        const sourceIds = (await inContextIds(tx, agent, copyFrom.conversationId)).slice(1);
        const cut = copyFrom.upToMessageId ? sourceIds.indexOf(copyFrom.upToMessageId) : -1;
        const rows = await tx.messages.findByIds(cut >= 0 ? sourceIds.slice(0, cut + 1) : sourceIds);
        const copies = rows.map(({ seq: _seq, ...row }) => ({ ...row, id: newId('message'), conversation_id: id }));
        await tx.messages.insertMany(copies);
        ids = [...ids, ...copies.map((c) => c.id)];
      }
      // Not setInContextIds: a new conversation has no last message yet.
      await tx.conversations.update(id, { in_context_message_ids: JSON.stringify(ids) });
      return toConversation(await this.require(id, tx));
    });
  }

  async list(query: PageQuery & { agent_id?: string | undefined; summary_search?: string | undefined }) {
    const rows = await this.stores.conversations.list(
      { agentId: query.agent_id, summarySearch: query.summary_search },
      { ...query, order: query.order ?? 'desc' },
    );
    return rows.map(toConversation);
  }

  async update(conversationId: string, input: UpdateConversation) {
    await this.require(conversationId);
    const changes: Partial<ConversationRecord> = { updated_at: nowIso() };
    if (input.summary !== undefined) changes.summary = input.summary;
    if (input.description !== undefined) changes.description = input.description;
    if (input.archived != null) changes.archived = flag(input.archived);
    if (input.model !== undefined) changes.model = input.model;
    if (input.model_settings !== undefined) changes.model_settings = toJsonText(input.model_settings);
    if (input.context_window_limit !== undefined) changes.context_window_limit = input.context_window_limit;
    if (input.last_message_at !== undefined) changes.last_message_at = input.last_message_at;
    await this.stores.conversations.update(conversationId, changes);
    return this.get(conversationId);
  }

  async delete(conversationId: string): Promise<void> {
    await this.require(conversationId);
    await this.stores.conversations.update(conversationId, { deleted: 1, updated_at: nowIso() });
  }

  async fork(conversationId: string, agentId: string | undefined, messageId: string | undefined) {
    const source = conversationId === 'default' ? null : await this.require(conversationId);
    const owner = source?.agent_id ?? agentId;
    if (!owner) throw notFound("Conversation 'default' needs agent_id");
    return this.create(owner, {}, { conversationId: source?.id ?? null, upToMessageId: messageId });
  }
}
