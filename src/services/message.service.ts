import { notFound } from '../lib/errors.js';
import { toLettaMessageList, toLettaMessages, type LettaMessage } from '../domain/letta-messages.js';
import type { SystemPrompts } from '../runtime/system-prompt.js';
import type { ListMessagesQuery } from '../schemas/message.js';
import type { PageQuery } from '../schemas/common.js';
import type { Stores } from '../store/index.js';
import type { ThreadFilter } from '../store/message.store.js';
import { missing } from '../domain/errors.js';

export class MessageService {
  constructor(
    private readonly stores: Stores,
    private readonly prompts: SystemPrompts,
  ) {}

  /**
   * Letta's ordering quirk (§1.8): with `order=desc` the newest `limit` rows are selected and returned oldest →
   * newest; `order=asc` pages forward from the oldest.
   */
  async list(agentId: string, thread: ThreadFilter, query: ListMessagesQuery): Promise<LettaMessage[]> {
    const agent = await this.stores.agents.findById(agentId);
    if (!agent) throw missing('Agent', agentId);
    const order = query.order ?? 'desc';
    let rows = await this.stores.messages.list(agentId, thread, { ...query, order });
    if (order === 'desc') rows = rows.reverse();
    const messages = toLettaMessageList(rows, { agentType: agent.agent_type, includeCompaction: true });
    const types = query.include_return_message_types;
    return types?.length ? messages.filter((m) => (types as string[]).includes(m.message_type)) : messages;
  }

  async listForThread(
    agentId: string | undefined,
    conversationId: string,
    query: ListMessagesQuery,
  ): Promise<LettaMessage[]> {
    if (conversationId === 'default') {
      if (!agentId) throw notFound("Conversation 'default' needs agent_id");
      return this.list(agentId, { kind: 'default' }, query);
    }
    const conversation = await this.stores.conversations.findById(conversationId);
    if (!conversation) throw missing('Conversation', conversationId);
    return this.list(conversation.agent_id, { kind: 'conversation', id: conversationId }, query);
  }

  /** `GET /v1/messages/`: every agent's messages, in the order asked (newest first by default). */
  async listAll(
    query: PageQuery & { conversation_id?: string | undefined; include_return_message_types?: string[] | undefined },
  ): Promise<LettaMessage[]> {
    const rows = await this.stores.messages.listAll(query.conversation_id, { ...query, order: query.order ?? 'desc' });
    const agentIds = [...new Set(rows.map((r) => r.agent_id))];
    const agents = await Promise.all(agentIds.map((id) => this.stores.agents.findById(id)));
    const typeOf = new Map(agents.flatMap((a) => (a ? [[a.id, a.agent_type] as const] : [])));
    const messages = rows.flatMap((row) =>
      toLettaMessages(row, { agentType: typeOf.get(row.agent_id) ?? 'letta_v1_agent', includeCompaction: true }),
    );
    const types = query.include_return_message_types;
    return types?.length ? messages.filter((m) => types.includes(m.message_type)) : messages;
  }

  /** `GET /v1/messages/{id}`: the LettaMessages split from one stored message, as an array. */
  async get(messageId: string): Promise<LettaMessage[]> {
    const row = await this.stores.messages.findById(messageId);
    if (!row) throw missing('Message', messageId);
    const agent = await this.stores.agents.findById(row.agent_id);
    return toLettaMessages(row, { agentType: agent?.agent_type ?? 'letta_v1_agent', includeCompaction: true });
  }

  /**
   * Clears the default thread back to a fresh start: its messages are deleted and the system message recompiled;
   * memgpt-style agents get the boot sequence again when `add_default_initial_messages` is not false.
   */
  async reset(agentId: string, addDefault: boolean): Promise<void> {
    await this.stores.transaction(async (tx) => {
      const agent = await tx.agents.findById(agentId);
      if (!agent) throw missing('Agent', agentId);
      const rows = await tx.messages.listThread(agentId, { kind: 'default' });
      await tx.messages.deleteByIds(rows.map((r) => r.id));
      const ids = await this.prompts.startThread(tx, agent, null, addDefault ? null : []);
      await tx.agents.update(agentId, { message_ids: JSON.stringify(ids) });
    });
  }
}
