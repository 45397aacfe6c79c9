import type Letta from '@letta-ai/letta-client';
import type { CaptureInput, CaptureResult } from '../schemas/capture.js';
import { clip, paginate, ToolError, type ToolOutput } from './output.js';

/**
 * Memory operations over the official SDK, shared by the `memory` tools, the `letta` hubs and the plain-named
 * tools, the hooks and the CLI: one implementation per behaviour, whichever surface asks for it.
 */

type AgentLike = {
  id: string;
  name: string;
  description?: string | null;
  tags?: string[] | null;
  model?: string | null;
  created_at?: string | null;
  last_run_completion?: string | null;
};
type BlockLike = {
  id?: string | null;
  label?: string | null;
  description?: string | null;
  value: string;
  limit?: number;
  read_only?: boolean;
};

export function agentSummary(agent: AgentLike) {
  return {
    id: agent.id,
    name: agent.name,
    description: clip(agent.description ?? null, 200) || null,
    tags: agent.tags ?? [],
    model: agent.model ?? null,
    created_at: agent.created_at ?? null,
  };
}

export function blockView(block: BlockLike, valueMax?: number) {
  return {
    id: block.id ?? null,
    label: block.label ?? null,
    description: block.description ?? null,
    value: valueMax === undefined ? block.value : clip(block.value, valueMax),
    chars: block.value.length,
    limit: block.limit ?? null,
    read_only: block.read_only ?? false,
  };
}

export interface ListAgentsOptions {
  name?: string | undefined;
  tags?: string[] | undefined;
  match_all_tags?: boolean | undefined;
  query_text?: string | undefined;
  offset?: number | undefined;
  limit?: number | undefined;
}

/** One page of agents: over-fetches one row past the page to learn whether another page exists. */
export async function listAgents(client: Letta, options: ListAgentsOptions = {}): Promise<ToolOutput> {
  const offset = options.offset ?? 0;
  const limit = options.limit ?? 20;
  const page = await client.agents.list({
    limit: offset + limit + 1,
    ...(options.name ? { name: options.name } : {}),
    ...(options.tags?.length ? { tags: options.tags, match_all_tags: options.match_all_tags ?? false } : {}),
    ...(options.query_text ? { query_text: options.query_text } : {}),
  });
  const { items, next_offset } = paginate(page.getPaginatedItems(), offset, limit);
  return { data: items.map(agentSummary), next_offset };
}

export async function getCoreMemory(client: Letta, agentId: string, valueMax?: number): Promise<ToolOutput> {
  const page = await client.agents.blocks.list(agentId, { limit: 1000 });
  return { data: { agent_id: agentId, blocks: page.getPaginatedItems().map((b) => blockView(b, valueMax)) } };
}

export type UpdateMode = 'replace' | 'append' | 'str_replace';

export interface UpdateBlockArgs {
  label: string;
  mode: UpdateMode;
  value?: string | undefined;
  old_text?: string | undefined;
  new_text?: string | undefined;
}

/**
 * An agent-style edit of one block: read-only blocks are refused and the character limit is checked before
 * writing (the server enforces it as well), so the caller gets an actionable message instead of a bare 422.
 */
export async function updateBlock(client: Letta, agentId: string, args: UpdateBlockArgs): Promise<ToolOutput> {
  const block = await client.agents.blocks.retrieve(args.label, { agent_id: agentId });
  if (block.read_only) throw new ToolError(`Block '${args.label}' is read-only and cannot be edited.`);
  let value: string;
  if (args.mode === 'replace') {
    if (args.value === undefined) throw new ToolError('mode "replace" needs value');
    value = args.value;
  } else if (args.mode === 'append') {
    if (!args.value) throw new ToolError('mode "append" needs value');
    value = block.value ? `${block.value}\n${args.value}` : args.value;
  } else {
    if (!args.old_text) throw new ToolError('mode "str_replace" needs old_text (and new_text, empty to delete)');
    const count = block.value.split(args.old_text).length - 1;
    if (count === 0) throw new ToolError(`old_text was not found in block '${args.label}'`);
    if (count > 1)
      throw new ToolError(
        `old_text occurs ${count} times in block '${args.label}'; include more context so it is unique`,
      );
    value = block.value.replace(args.old_text, () => args.new_text ?? '');
  }
  const limit = block.limit ?? Infinity;
  if (value.length > limit)
    throw new ToolError(
      `Edit failed: exceeds the ${limit} character limit of block '${args.label}' (requested ${value.length})`,
    );
  const updated = await client.agents.blocks.update(args.label, { agent_id: agentId, value });
  return { data: blockView(updated) };
}

export interface CreateBlockArgs {
  label: string;
  value?: string | undefined;
  description?: string | undefined;
  limit?: number | undefined;
  read_only?: boolean | undefined;
  metadata?: Record<string, unknown> | undefined;
}

/** Creates a block and, given an agent, attaches it so that it is part of that agent's core memory at once. */
export async function createBlock(
  client: Letta,
  agentId: string | undefined,
  args: CreateBlockArgs,
): Promise<ToolOutput> {
  const block = await client.blocks.create({
    label: args.label,
    value: args.value ?? '',
    ...(args.description !== undefined ? { description: args.description } : {}),
    ...(args.limit !== undefined ? { limit: args.limit } : {}),
    ...(args.read_only !== undefined ? { read_only: args.read_only } : {}),
    ...(args.metadata !== undefined ? { metadata: args.metadata } : {}),
  });
  if (agentId) await client.agents.blocks.attach(block.id, { agent_id: agentId });
  return { data: { ...blockView(block), attached_to: agentId ?? null } };
}

type PassageLike = { id?: string | null; text: string; tags?: string[] | null; created_at?: string | null };

export function passageView(p: PassageLike, textMax?: number) {
  return {
    id: p.id ?? null,
    text: textMax === undefined ? p.text : clip(p.text, textMax),
    tags: p.tags ?? [],
    created_at: p.created_at ?? null,
  };
}

export async function archivalInsert(
  client: Letta,
  agentId: string,
  text: string,
  tags?: string[],
  createdAt?: string,
): Promise<ToolOutput> {
  const created = await client.agents.passages.create(agentId, {
    text,
    ...(tags?.length ? { tags } : {}),
    ...(createdAt ? { created_at: createdAt } : {}),
  });
  return { data: created.map((p) => passageView(p)) };
}

export interface ArchivalSearchArgs {
  query: string;
  tags?: string[] | undefined;
  tag_match_mode?: 'any' | 'all' | undefined;
  top_k?: number | undefined;
  start_datetime?: string | undefined;
  end_datetime?: string | undefined;
  /** Cairn extension (hybrid | lexical | vector); other servers ignore the unknown query parameter. */
  mode?: 'hybrid' | 'lexical' | 'vector' | undefined;
}

export async function archivalSearch(
  client: Letta,
  agentId: string,
  args: ArchivalSearchArgs,
  options: { timeout?: number } = {},
): Promise<ToolOutput> {
  const response = await client.agents.passages.search(
    agentId,
    {
      query: args.query,
      ...(args.tags?.length ? { tags: args.tags, tag_match_mode: args.tag_match_mode ?? 'any' } : {}),
      top_k: args.top_k ?? 10,
      ...(args.start_datetime ? { start_datetime: args.start_datetime } : {}),
      ...(args.end_datetime ? { end_datetime: args.end_datetime } : {}),
      ...(args.mode ? { mode: args.mode } : {}),
    } as Parameters<Letta['agents']['passages']['search']>[1],
    options,
  );
  return {
    data: response.results.map((r) => ({
      id: r.id ?? null,
      content: r.content,
      tags: r.tags ?? [],
      timestamp: r.timestamp,
    })),
  };
}

export async function archivalDelete(client: Letta, agentId: string, passageId: string): Promise<ToolOutput> {
  await client.agents.passages.delete(passageId, { agent_id: agentId });
  return { data: { deleted: passageId } };
}

export interface ListPassagesArgs {
  search?: string | undefined;
  after?: string | undefined;
  before?: string | undefined;
  ascending?: boolean | undefined;
  offset?: number | undefined;
  limit?: number | undefined;
}

export async function listPassages(client: Letta, agentId: string, args: ListPassagesArgs = {}): Promise<ToolOutput> {
  const offset = args.offset ?? 0;
  const limit = args.limit ?? 20;
  const rows = await client.agents.passages.list(agentId, {
    limit: offset + limit + 1,
    ...(args.search ? { search: args.search } : {}),
    ...(args.after ? { after: args.after } : {}),
    ...(args.before ? { before: args.before } : {}),
    ...(args.ascending !== undefined ? { ascending: args.ascending } : {}),
  });
  const page = paginate(rows, offset, limit);
  return { data: page.items.map((p) => passageView(p, 500)), next_offset: page.next_offset };
}

export interface ConversationSearchArgs {
  query: string;
  roles?: string[] | undefined;
  start_date?: string | undefined;
  end_date?: string | undefined;
  limit?: number | undefined;
  conversation_id?: string | undefined;
  /** Default hybrid (full text fused with the messages' vectors); `fts` skips embedding the query. */
  search_mode?: 'fts' | 'vector' | 'hybrid' | undefined;
}

export interface RecallItem {
  id: string;
  role: string;
  content: string;
  created_at: string;
  conversation_id: string | null;
}

/** Recall (conversation history) search: `POST /v1/messages/search` filtered to one agent. */
export async function conversationSearch(
  client: Letta,
  agentId: string,
  args: ConversationSearchArgs,
  options: { timeout?: number } = {},
): Promise<ToolOutput> {
  const body = {
    query: args.query,
    agent_id: agentId,
    limit: args.limit ?? 10,
    ...(args.conversation_id ? { conversation_id: args.conversation_id } : {}),
    ...(args.start_date ? { start_date: args.start_date } : {}),
    ...(args.end_date ? { end_date: args.end_date } : {}),
    ...(args.search_mode ? { search_mode: args.search_mode } : {}),
    // Cairn extension; other servers ignore the unknown field.
    ...(args.roles?.length ? { roles: args.roles } : {}),
  };
  const results = (await client.messages.search(body, options)) as unknown as Array<Record<string, unknown>>;
  const data: RecallItem[] = results.map((m) => ({
    id: String(m.message_id ?? m.id ?? ''),
    role: String(m.message_type ?? '').replace(/_message$/, ''),
    content: typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? ''),
    created_at: String(m.created_at ?? m.date ?? ''),
    conversation_id: (m.conversation_id as string | null | undefined) ?? null,
  }));
  return { data };
}

export type CapturedMessage = CaptureInput;

/** Records messages in the agent's history without running it (`POST /v1/agents/{id}/messages/capture`). */
export function captureMessages(
  client: Letta,
  agentId: string,
  messages: CapturedMessage[],
  conversationId?: string,
  options: { timeout?: number } = {},
): Promise<CaptureResult> {
  return client.post(`/v1/agents/${encodeURIComponent(agentId)}/messages/capture`, {
    body: { messages, ...(conversationId ? { conversation_id: conversationId } : {}) },
    ...options,
  });
}

/** One turn of the agent (costs LLM calls); returns what it said. */
export async function askAgent(client: Letta, agentId: string, message: string): Promise<ToolOutput> {
  const response = await client.agents.messages.create(agentId, { messages: [{ role: 'user', content: message }] });
  const said = response.messages.flatMap((m) =>
    m.message_type === 'assistant_message'
      ? [typeof m.content === 'string' ? m.content : m.content.map((c) => ('text' in c ? c.text : '')).join('')]
      : [],
  );
  return { data: { reply: said.join('\n'), stop_reason: response.stop_reason?.stop_reason ?? null } };
}
