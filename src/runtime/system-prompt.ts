import { randomUUID } from 'node:crypto';

import type { MemoryEvents } from '../domain/memory-events.js';
import type { AgentPatch, AgentRecord } from '../store/agent.store.js';
import type { ConversationRecord } from '../store/conversation.store.js';
import type { Stores } from '../store/index.js';
import { parseJson } from '../store/json.js';
import type { NewMessage } from '../store/message.store.js';
import type { ArchivalPort } from '../domain/ports.js';
import { usesSendMessage } from '../domain/letta-messages.js';
import { messageRow, textOf, type ContentPart, type MessageContext } from '../domain/messages.js';
import { packToolReturn, packedLogin } from '../domain/packing.js';
import { compileMemory, compileMemoryMetadata, compileSystemPrompt } from '../domain/prompts/memory.js';
import { compileDirectories } from '../domain/prompts/folders.js';
import { agentFileLimits } from '../domain/files.js';
import type { ToolRule } from '../domain/tool-rules.js';
import { missing } from '../domain/errors.js';

export interface InitialMessage {
  role?: string;
  content?: unknown;
}

/** Where a thread keeps its in-context message ids: the agent row (default conversation) or a conversation row. */
export async function inContextIds(tx: Stores, agent: AgentRecord, conversationId: string | null): Promise<string[]> {
  if (conversationId === null) return inContextIdsOf(agent);
  const conversation = await tx.conversations.findById(conversationId);
  if (!conversation) throw missing('Conversation', conversationId);
  return inContextIdsOf(agent, conversation);
}

/** A thread's in-context ids from rows already read: the conversation's, or the agent's own thread's. */
export function inContextIdsOf(agent: AgentRecord, conversation?: ConversationRecord): string[] {
  return parseJson<string[]>(conversation ? conversation.in_context_message_ids : agent.message_ids, []);
}

/** `agentPatch`: other agent columns written in the same statement when the thread is the agent's own. */
export async function setInContextIds(
  tx: Stores,
  agentId: string,
  conversationId: string | null,
  ids: string[],
  now: string,
  agentPatch: AgentPatch = {},
): Promise<void> {
  if (conversationId === null) return tx.agents.update(agentId, { message_ids: JSON.stringify(ids), ...agentPatch });
  await tx.conversations.update(conversationId, {
    in_context_message_ids: JSON.stringify(ids),
    updated_at: now,
    last_message_at: now,
  });
  await tx.agents.update(agentId, agentPatch);
}

/**
 * Compiles the system prompt (base + memory + metadata, §7) and keeps it stored as message 0 of every thread of
 * the agent: written at creation, rebuilt in the writer's transaction whenever core memory changes.
 */
export class SystemPrompts implements MemoryEvents {
  constructor(private readonly archival: ArchivalPort) {}

  async memoryString(tx: Stores, agent: AgentRecord): Promise<string> {
    const blocks = await tx.blocks.listForAgent(agent.id);
    const llm = parseJson<{ model_endpoint_type?: string; context_window?: number }>(agent.llm_config, {});
    const memory = compileMemory(
      blocks,
      parseJson<ToolRule[]>(agent.tool_rules, []),
      agent.agent_type,
      llm.model_endpoint_type ?? 'openai',
    );
    const [folders, files] = await Promise.all([tx.folders.foldersOf(agent.id), tx.folders.agentFiles(agent.id)]);
    return (
      memory +
      compileDirectories(
        folders,
        files.map((f) => ({
          folderId: f.folder_id,
          fileName: f.file_name,
          isOpen: f.is_open === 1,
          visibleContent: f.visible_content,
        })),
        agentFileLimits(agent),
        agent.agent_type,
      )
    );
  }

  /** The agent's archival figures for `<memory_metadata>`: the same for every thread. */
  private async archivalStats(tx: Stores, agentId: string): Promise<{ count: number; tags: string[] }> {
    return this.archival.stats(agentId, tx);
  }

  /** `shared`: what is the same for every thread of the agent, when the caller already has it. */
  async compile(
    tx: Stores,
    agent: AgentRecord,
    conversationId: string | null,
    inContextCount: number,
    shared?: { memory: string; stats: { count: number; tags: string[] } },
  ): Promise<{ memory: string; system: string }> {
    const memory = shared?.memory ?? (await this.memoryString(tx, agent));
    const total = await tx.messages.count(
      agent.id,
      conversationId === null ? { kind: 'default' } : { kind: 'conversation', id: conversationId },
    );
    const stats = shared?.stats ?? (await this.archivalStats(tx, agent.id));
    const metadata = compileMemoryMetadata({
      agentId: agent.id,
      conversationId,
      recompiledAt: new Date(),
      timezone: agent.timezone,
      recallCount: Math.max(0, total - inContextCount),
      archivalCount: stats.count,
      archivalTags: stats.tags,
    });
    return { memory, system: compileSystemPrompt(agent.system, memory, metadata) };
  }

  /** Starts a thread: the compiled system message, then the boot sequence or the caller's initial messages (§5.4). */
  async startThread(
    tx: Stores,
    agent: AgentRecord,
    conversationId: string | null,
    initial?: InitialMessage[] | null,
  ): Promise<string[]> {
    const ctx: MessageContext = { agentId: agent.id, conversationId, runId: null, stepId: null, model: agent.model };
    const rest =
      initial != null
        ? initialMessages(ctx, initial)
        : usesSendMessage(agent.agent_type)
          ? bootMessages(ctx, agent.timezone)
          : [];
    const { system } = await this.compile(tx, agent, conversationId, 1 + rest.length);
    const rows = [messageRow(ctx, 'system', [{ type: 'text', text: system }]), ...rest];
    await tx.messages.insertMany(rows);
    return rows.map((r) => r.id);
  }

  async agentCreated(
    tx: Stores,
    agentId: string,
    options?: { initialMessages?: InitialMessage[] | null },
  ): Promise<void> {
    const agent = await tx.agents.findById(agentId);
    if (!agent) return;
    const ids = await this.startThread(tx, agent, null, options?.initialMessages);
    await tx.agents.update(agentId, { message_ids: JSON.stringify(ids) });
  }

  async blocksChanged(tx: Stores, agentIds: string[]): Promise<void> {
    for (const agentId of agentIds) await this.rebuild(tx, agentId, false);
  }

  /**
   * Rewrites message 0 of the default thread and every live conversation. Skipped when the compiled memory is
   * already in the stored text (unless forced), so an unrelated write does not churn the prompt-cache prefix.
   */
  async rebuild(tx: Stores, agentId: string, force: boolean): Promise<string | undefined> {
    const agent = await tx.agents.findById(agentId);
    if (!agent) return undefined;
    let result: string | undefined;
    const threads = [
      { conversationId: null, ids: inContextIdsOf(agent) },
      ...(await tx.conversations.listLive(agentId)).map((c) => ({
        conversationId: c.id,
        ids: inContextIdsOf(agent, c),
      })),
    ];
    const memory = await this.memoryString(tx, agent);
    let stats: { count: number; tags: string[] } | undefined;
    for (const { conversationId, ids } of threads) {
      const first = ids[0] ? await tx.messages.findById(ids[0]) : undefined;
      if (!first || first.role !== 'system') continue;
      const current = textOf(first);
      if (!force && memory && current.includes(memory) && current.startsWith(agent.system)) {
        if (conversationId === null) result = current;
        continue;
      }
      stats ??= await this.archivalStats(tx, agentId);
      const { system } = await this.compile(tx, agent, conversationId, ids.length, { memory, stats });
      await tx.messages.updateContent(first.id, JSON.stringify([{ type: 'text', text: system }]), '');
      if (conversationId === null) result = system;
    }
    return result;
  }
}

function initialMessages(ctx: MessageContext, initial: InitialMessage[]): NewMessage[] {
  return initial.map((m) => {
    const role = m.role === 'assistant' || m.role === 'system' ? m.role : 'user';
    const parts: ContentPart[] =
      typeof m.content === 'string'
        ? [{ type: 'text', text: m.content }]
        : Array.isArray(m.content)
          ? m.content.flatMap((p: { type?: string; text?: string }) =>
              p?.type === 'text' && typeof p.text === 'string' ? [{ type: 'text' as const, text: p.text }] : [],
            )
          : [];
    return messageRow(ctx, role, parts);
  });
}

/** `get_initial_boot_messages` for memgpt-style agents. */
function bootMessages(ctx: MessageContext, timezone: string): NewMessage[] {
  const callId = randomUUID();
  const call = {
    id: callId,
    type: 'function',
    function: { name: 'send_message', arguments: JSON.stringify({ message: 'More human than human is our motto.' }) },
  };
  const ret = packToolReturn(true, null, timezone);
  return [
    messageRow(
      ctx,
      'assistant',
      [{ type: 'text', text: 'Bootup sequence complete. Persona activated. Testing messaging functionality.' }],
      { tool_calls: JSON.stringify([call]) },
    ),
    messageRow(ctx, 'tool', [{ type: 'text', text: ret }], {
      name: 'send_message',
      tool_call_id: callId,
      tool_returns: JSON.stringify([
        { tool_call_id: callId, status: 'success', stdout: null, stderr: null, func_response: 'None' },
      ]),
    }),
    messageRow(ctx, 'user', [{ type: 'text', text: packedLogin(timezone) }]),
  ];
}
