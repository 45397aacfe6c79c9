import type Letta from '@letta-ai/letta-client';
import { z } from 'zod';
import {
  agentSummary,
  archivalDelete,
  archivalInsert,
  archivalSearch,
  askAgent,
  blockView,
  conversationSearch,
  createBlock,
  getCoreMemory,
  listAgents,
  listPassages,
} from '../ops.js';
import { paginate, ToolError, type ToolOutput } from '../output.js';
import { DESTRUCTIVE, defineTool, READ, requireAgent, WRITE, type ToolContext, type ToolDef } from '../tool.js';

/**
 * The `letta` profile: the seven consolidated tools of the Letta MCP server (oculairmedia, v3) with the same tool
 * names, `operation` values and parameter names, so existing prompts and skills keep working, plus the classic
 * flat names. Agent, memory-block, passage and messaging operations are implemented; the rest answer an explicit
 * "unsupported" error naming the operation.
 */

/** A tool call's arguments, already validated by the tool's zod input schema. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Args = Record<string, any>;
type Op = (a: Args, ctx: ToolContext) => Promise<ToolOutput>;

const str = (d?: string) => (d ? z.string().optional().describe(d) : z.string().optional());
const int = z.number().int().min(0).optional();
const strings = z.array(z.string()).optional();
const object = (d: string) => z.record(z.string(), z.unknown()).optional().describe(d);
const pagination = z
  .object({ limit: z.number().int().min(1).max(200).optional(), offset: z.number().int().min(0).optional() })
  .optional();

function pageOf(a: Args): { offset: number; limit: number } {
  return { offset: a.offset ?? a.pagination?.offset ?? 0, limit: a.limit ?? a.pagination?.limit ?? 20 };
}

const unsupported =
  (tool: string, operation: string): Op =>
  async () => {
    throw new ToolError(
      `unsupported: ${tool} operation '${operation}' is not implemented by Cairn's built-in MCP server`,
    );
  };

/** A hub: `operation` picks the handler; unknown operations are refused with the list of valid ones. */
function hub(
  name: string,
  description: string,
  params: Record<string, z.ZodType>,
  ops: Record<string, Op>,
  unsupportedOps: string[],
  annotations = WRITE,
): ToolDef {
  const all: Record<string, Op> = { ...ops };
  for (const op of unsupportedOps) all[op] = unsupported(name, op);
  const valid = Object.keys(all);
  return defineTool({
    name,
    description: `${description} Operations: ${valid.join(', ')}.`,
    input: z.object({
      operation: z
        .string()
        .min(1)
        .describe(`One of: ${valid.join(', ')}`),
      ...params,
    }),
    annotations,
    run: async (a, ctx) => {
      const op = all[a.operation];
      if (!op)
        throw new ToolError(`unknown operation '${a.operation}' for ${name}; valid operations: ${valid.join(', ')}`);
      return op(a, ctx);
    },
  });
}

// ---- agents ---------------------------------------------------------------------------------------------------

async function agentDetail(client: Letta, agentId: string, verbose: boolean): Promise<ToolOutput> {
  const agent = await client.agents.retrieve(agentId, { include: ['agent.blocks', 'agent.tags', 'agent.tools'] });
  if (verbose) return { data: agent };
  return {
    data: {
      ...agentSummary(agent),
      system: agent.system ? `${agent.system.slice(0, 300)}${agent.system.length > 300 ? '…' : ''}` : null,
      blocks: (agent.blocks ?? []).map((b) => blockView(b, 300)),
      tools: (agent.tools ?? []).map((t) => t.name),
    },
  };
}

const agentOps: Record<string, Op> = {
  list: (a, ctx) =>
    listAgents(ctx.client, {
      ...pageOf(a),
      name: a.filters?.agent_name_filter ?? a.name,
      tags: tagList(a.filters?.agent_tag_filter ?? a.tags),
      query_text: a.query,
    }),
  search: (a, ctx) => listAgents(ctx.client, { ...pageOf(a), query_text: a.query ?? a.name }),
  count: async (_a, ctx) => ({ data: { count: await ctx.client.get<number>('/v1/agents/count') } }),
  create: async (a, ctx) => {
    if (!a.name) throw new ToolError('create needs name');
    const agent = await ctx.client.agents.create({
      name: a.name,
      ...(a.description ? { description: a.description } : {}),
      ...(a.system ? { system: a.system } : {}),
      ...(a.tags ? { tags: tagList(a.tags) } : {}),
      ...(a.tool_ids ? { tool_ids: a.tool_ids } : {}),
      ...(a.model ? { model: a.model } : {}),
      ...(a.embedding ? { embedding: a.embedding } : {}),
      ...(a.llm_config ? { llm_config: a.llm_config } : {}),
      ...(a.embedding_config ? { embedding_config: a.embedding_config } : {}),
    } as Parameters<Letta['agents']['create']>[0]);
    return { data: agentSummary(agent) };
  },
  get: (a, ctx) => agentDetail(ctx.client, requireAgent(a.agent_id, ctx), a.verbose === true),
  update: async (a, ctx) => {
    const body =
      a.update_data ??
      Object.fromEntries(
        Object.entries({
          name: a.name,
          description: a.description,
          system: a.system,
          tags: a.tags,
          tool_ids: a.tool_ids,
          model: a.model,
        }).filter(([, v]) => v !== undefined),
      );
    if (Object.keys(body).length === 0)
      throw new ToolError('update needs update_data (or name, description, system, tags, tool_ids, model)');
    return { data: agentSummary(await ctx.client.agents.update(requireAgent(a.agent_id, ctx), body)) };
  },
  delete: async (a, ctx) => {
    const agentId = a.agent_id;
    if (!agentId) throw new ToolError('delete needs agent_id (the default agent is never deleted implicitly)');
    await ctx.client.agents.delete(agentId);
    return { data: { deleted: agentId } };
  },
  bulk_delete: async (a, ctx) => {
    const ids: string[] = a.filters?.agent_ids ?? [];
    if (ids.length === 0) throw new ToolError('bulk_delete needs filters.agent_ids');
    for (const id of ids) await ctx.client.agents.delete(id);
    return { data: { deleted: ids } };
  },
  list_tools: async (a, ctx) => {
    // From the agent itself: `GET /v1/agents/{id}/tools` is not served by every Letta-compatible server.
    const agent = await ctx.client.agents.retrieve(requireAgent(a.agent_id, ctx), { include: ['agent.tools'] });
    const tools = (agent.tools ?? []).map((t) => ({
      id: t.id,
      name: t.name,
      description: (t.description ?? '').slice(0, 200),
    }));
    const page = paginate(tools, pageOf(a).offset, pageOf(a).limit);
    return { data: page.items, next_offset: page.next_offset };
  },
  send_message: async (a, ctx) => {
    const text = Array.isArray(a.messages)
      ? a.messages
          .filter((m: Args) => (m.role ?? 'user') === 'user')
          .map((m: Args) => String(m.content ?? ''))
          .join('\n')
      : a.query;
    if (!text) throw new ToolError('send_message needs messages: [{role: "user", content}]');
    return askAgent(ctx.client, requireAgent(a.agent_id, ctx), text);
  },
  context: async (a, ctx) => ({ data: await ctx.client.get(`/v1/agents/${requireAgent(a.agent_id, ctx)}/context`) }),
  reset_messages: async (a, ctx) => {
    const agentId = requireAgent(a.agent_id, ctx);
    await ctx.client.agents.messages.reset(agentId, { add_default_initial_messages: false });
    return { data: { reset: agentId } };
  },
  summarize: async (a, ctx) => ({ data: await ctx.client.agents.messages.compact(requireAgent(a.agent_id, ctx), {}) }),
  search_messages: (a, ctx) =>
    conversationSearch(ctx.client, requireAgent(a.agent_id, ctx), {
      query: a.query ?? '',
      roles: a.search_filters?.role ? [a.search_filters.role] : undefined,
      start_date: a.search_filters?.start_date,
      end_date: a.search_filters?.end_date,
      limit: pageOf(a).limit,
      conversation_id: a.conversation_id,
    }),
  list_conversations: async (a, ctx) => {
    const list = await ctx.client.conversations.list({ agent_id: requireAgent(a.agent_id, ctx), limit: 200 });
    const page = paginate(
      list.map((c) => ({ id: c.id, summary: c.summary ?? null, created_at: c.created_at ?? null })),
      pageOf(a).offset,
      pageOf(a).limit,
    );
    return { data: page.items, next_offset: page.next_offset };
  },
  get_conversation: async (a, ctx) => {
    if (!a.conversation_id) throw new ToolError('get_conversation needs conversation_id');
    return { data: await ctx.client.conversations.retrieve(a.conversation_id) };
  },
};

function tagList(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string' && value)
    return value
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
  return undefined;
}

// ---- memory ---------------------------------------------------------------------------------------------------

const blockLabel = (a: Args) => {
  const label = a.block_label ?? a.label;
  if (!label) throw new ToolError('needs block_label');
  return label as string;
};
const blockId = (a: Args) => {
  if (!a.block_id) throw new ToolError('needs block_id');
  return a.block_id as string;
};

async function listBlocks(a: Args, ctx: ToolContext): Promise<ToolOutput> {
  const { offset, limit } = pageOf(a);
  const blocks = a.agent_id
    ? (await ctx.client.agents.blocks.list(a.agent_id, { limit: 500 })).getPaginatedItems()
    : (
        await ctx.client.blocks.list({
          limit: offset + limit + 1,
          ...(a.label ? { label: a.label } : {}),
          ...(a.name ? { name: a.name } : {}),
          ...(a.is_template ? { templates_only: true } : {}),
        })
      ).getPaginatedItems();
  const page = paginate(
    blocks.map((b) => blockView(b, a.verbose ? undefined : 500)),
    offset,
    limit,
  );
  return { data: page.items, next_offset: page.next_offset };
}

const memoryOps: Record<string, Op> = {
  get_core_memory: (a, ctx) => getCoreMemory(ctx.client, requireAgent(a.agent_id, ctx), a.verbose ? undefined : 2_000),
  update_core_memory: async (a, ctx) => {
    if (a.value === undefined) throw new ToolError('update_core_memory needs value');
    return {
      data: blockView(
        await ctx.client.agents.blocks.update(blockLabel(a), {
          agent_id: requireAgent(a.agent_id, ctx),
          value: a.value,
        }),
      ),
    };
  },
  get_block_by_label: async (a, ctx) => ({
    data: blockView(
      await ctx.client.agents.blocks.retrieve(blockLabel(a), { agent_id: requireAgent(a.agent_id, ctx) }),
    ),
  }),
  list_blocks: listBlocks,
  create_block: (a, ctx) => {
    if (!a.label) throw new ToolError('create_block needs label');
    return createBlock(ctx.client, a.agent_id, {
      label: a.label,
      value: a.value,
      description: a.description,
      limit: a.limit_chars,
      metadata: a.metadata,
    });
  },
  get_block: async (a, ctx) => ({ data: blockView(await ctx.client.blocks.retrieve(blockId(a))) }),
  update_block: async (a, ctx) => {
    const body = Object.fromEntries(
      Object.entries({ value: a.value, label: a.label, description: a.description, metadata: a.metadata }).filter(
        ([, v]) => v !== undefined,
      ),
    );
    if (Object.keys(body).length === 0)
      throw new ToolError('update_block needs value (or label, description, metadata)');
    return { data: blockView(await ctx.client.blocks.update(blockId(a), body)) };
  },
  attach_block: async (a, ctx) => {
    const agent = await ctx.client.agents.blocks.attach(blockId(a), { agent_id: requireAgent(a.agent_id, ctx) });
    return { data: { agent_id: agent.id, attached: a.block_id } };
  },
  detach_block: async (a, ctx) => {
    const agent = await ctx.client.agents.blocks.detach(blockId(a), { agent_id: requireAgent(a.agent_id, ctx) });
    return { data: { agent_id: agent.id, detached: a.block_id } };
  },
  list_agents_using_block: async (a, ctx) => {
    const agents = (await ctx.client.blocks.agents.list(blockId(a), { limit: 500 })).getPaginatedItems();
    const page = paginate(agents.map(agentSummary), pageOf(a).offset, pageOf(a).limit);
    return { data: page.items, next_offset: page.next_offset };
  },
  search_archival: (a, ctx) => {
    if (!a.query) throw new ToolError('search_archival needs query');
    return archivalSearch(ctx.client, requireAgent(a.agent_id, ctx), {
      query: a.query,
      tags: a.tags,
      top_k: a.limit ?? 10,
      start_datetime: a.start_date,
      end_datetime: a.end_date,
    });
  },
  list_passages: (a, ctx) => listPassages(ctx.client, requireAgent(a.agent_id, ctx), { ...pageOf(a), search: a.query }),
  create_passage: (a, ctx) => {
    if (!a.text) throw new ToolError('create_passage needs text');
    return archivalInsert(ctx.client, requireAgent(a.agent_id, ctx), a.text, a.tags);
  },
  update_passage: async () => {
    throw new ToolError(
      'unsupported: passages cannot be modified (there is no PATCH for passages); delete_passage, then create_passage',
    );
  },
  delete_passage: (a, ctx) => {
    if (!a.passage_id) throw new ToolError('delete_passage needs passage_id');
    return archivalDelete(ctx.client, requireAgent(a.agent_id, ctx), a.passage_id);
  },
  search_memory: async (a, ctx) => {
    if (!a.query) throw new ToolError('search_memory needs query');
    const agentId = requireAgent(a.agent_id, ctx);
    const source = a.source ?? 'both';
    const limit = a.limit ?? 10;
    const [archival, recall] = await Promise.all([
      source === 'recall'
        ? undefined
        : archivalSearch(ctx.client, agentId, {
            query: a.query,
            top_k: limit,
            start_datetime: a.start_date,
            end_datetime: a.end_date,
          }),
      source === 'archival'
        ? undefined
        : conversationSearch(ctx.client, agentId, {
            query: a.query,
            limit,
            start_date: a.start_date,
            end_date: a.end_date,
          }),
    ]);
    return { data: { ...(archival ? { archival: archival.data } : {}), ...(recall ? { recall: recall.data } : {}) } };
  },
};

// ---- the hubs -------------------------------------------------------------------------------------------------

export function lettaTools(): ToolDef[] {
  const agentId = str('Agent id (agent-…)');
  return [
    hub(
      'letta_agent_advanced',
      'Agents: list, create, inspect, update and delete agents; send messages; search their history.',
      {
        agent_id: agentId,
        name: str(),
        description: str(),
        system: str('System prompt'),
        model: str('Model handle, e.g. openai/gpt-4o-mini'),
        embedding: str('Embedding handle'),
        llm_config: object('Legacy LLM config'),
        embedding_config: object('Legacy embedding config'),
        tool_ids: strings,
        tags: strings,
        pagination,
        messages: z.array(z.object({ role: z.string(), content: z.string() })).optional(),
        query: str(),
        search_filters: z.object({ start_date: str(), end_date: str(), role: str() }).optional(),
        export_data: object('Agent file to import'),
        update_data: object('Fields to change (update)'),
        filters: z
          .object({ agent_name_filter: str(), agent_tag_filter: str('Comma-separated tags'), agent_ids: strings })
          .optional(),
        conversation_id: str(),
        verbose: z.boolean().optional(),
      },
      agentOps,
      [
        'export',
        'import',
        'clone',
        'get_config',
        'stream',
        'async_message',
        'cancel_message',
        'send_conversation_message',
        'cancel_conversation',
        'compact_conversation',
        'preview_payload',
        'get_message',
      ],
      { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
    ),
    hub(
      'letta_memory_unified',
      'Memory: core memory blocks (read, update, create, attach), archival passages (list, create, delete, search) and memory search.',
      {
        agent_id: agentId,
        block_id: str(),
        block_label: str(),
        passage_id: str(),
        archive_id: str(),
        label: str(),
        value: str(),
        description: str(),
        text: str('Passage text'),
        tags: strings,
        metadata: object('Block metadata'),
        limit_chars: z.number().int().min(1).optional().describe('Character limit of a new block'),
        embedding: str(),
        embedding_config: object('Embedding config'),
        query: str(),
        limit: z.number().int().min(1).max(200).optional(),
        offset: int,
        is_template: z.boolean().optional(),
        source: z.enum(['archival', 'recall', 'both']).optional(),
        start_date: str(),
        end_date: str(),
        verbose: z.boolean().optional(),
      },
      memoryOps,
      [
        'list_archives',
        'get_archive',
        'create_archive',
        'update_archive',
        'delete_archive',
        'attach_archive',
        'detach_archive',
        'list_agents_using_archive',
      ],
      { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
    ),
    hub(
      'letta_tool_manager',
      'Tools: not supported by this server (Cairn manages built-in tools itself).',
      {
        tool_id: str(),
        agent_id: agentId,
        agent_ids: strings,
        source_code: str(),
        source_type: str(),
        tags: strings,
        description: str(),
        json_schema: object('Tool JSON schema'),
        args_json_schema: object('Args schema'),
        return_char_limit: int,
        tool_args: object('Arguments'),
        env_vars: object('Environment'),
        name: str(),
        verbose: z.boolean().optional(),
      },
      {},
      [
        'list',
        'get',
        'create',
        'update',
        'delete',
        'upsert',
        'attach',
        'detach',
        'bulk_attach',
        'generate_from_prompt',
        'generate_schema',
        'run_from_source',
        'add_base_tools',
      ],
    ),
    hub(
      'letta_source_manager',
      'Sources (data sources): not supported by this server.',
      {
        source_id: str(),
        agent_id: agentId,
        name: str(),
        description: str(),
        file_id: str(),
        file_name: str(),
        file_data: str('Base64 file content'),
        content_type: str(),
        limit: z.number().int().min(1).optional(),
        include_content: z.boolean().optional(),
      },
      {},
      [
        'list',
        'get',
        'create',
        'update',
        'delete',
        'count',
        'attach',
        'detach',
        'list_attached',
        'upload',
        'delete_files',
        'list_files',
        'list_agents_using',
      ],
    ),
    hub(
      'letta_job_monitor',
      'Jobs: not supported by this server.',
      { job_id: str(), limit: z.number().int().min(1).optional() },
      {},
      ['list', 'get', 'cancel', 'list_active'],
      READ,
    ),
    hub(
      'letta_file_folder_ops',
      'Files and folders: not supported by this server.',
      { agent_id: agentId, file_id: str(), folder_id: str(), limit: z.number().int().min(1).optional(), offset: int },
      {},
      [
        'list_files',
        'open_file',
        'close_file',
        'close_all_files',
        'list_folders',
        'attach_folder',
        'detach_folder',
        'list_agents_in_folder',
      ],
    ),
    hub(
      'letta_mcp_ops',
      'MCP servers registered with the agent server: not supported by this server.',
      {
        server_name: str(),
        mcp_server_id: str(),
        server_config: object('Server config'),
        tool_name: str(),
        tool_id: str(),
        tool_args: object('Arguments'),
        oauth_config: object('OAuth config'),
        pagination,
        agent_id: agentId,
      },
      {},
      [
        'add',
        'update',
        'delete',
        'test',
        'connect',
        'resync',
        'list_servers',
        'list_tools',
        'register_tool',
        'execute',
        'attach_mcp_server',
      ],
    ),
    ...plainTools(),
  ];
}

/** The classic flat names (Letta MCP server 1.x/2.0), each one call of the matching hub operation. */
function plainTools(): ToolDef[] {
  const agentId = str('Agent id (agent-…); defaults to the session agent');
  const limit = z.number().int().min(1).max(200).optional();
  return [
    defineTool({
      name: 'create_agent',
      description: 'Create an agent.',
      input: z.object({
        name: z.string().min(1),
        description: str(),
        model: str('Model handle'),
        embedding: str('Embedding handle'),
        tags: strings,
      }),
      annotations: WRITE,
      run: (a, ctx) => agentOps.create!(a, ctx),
    }),
    defineTool({
      name: 'list_agents',
      description: 'List agents, optionally filtered by text.',
      input: z.object({ filter: str('Text to match in names'), limit, offset: int }),
      annotations: READ,
      run: (a, ctx) => listAgents(ctx.client, { query_text: a.filter, ...pageOf(a) }),
    }),
    defineTool({
      name: 'retrieve_agent',
      description: 'Get one agent with its blocks and tools.',
      input: z.object({ agent_id: agentId, verbose: z.boolean().optional() }),
      annotations: READ,
      run: (a, ctx) => agentOps.get!(a, ctx),
    }),
    defineTool({
      name: 'modify_agent',
      description: "Update an agent's fields (name, description, system, tags, model …).",
      input: z.object({ agent_id: agentId, update_data: z.record(z.string(), z.unknown()) }),
      annotations: { ...WRITE, idempotentHint: true },
      run: (a, ctx) => agentOps.update!(a, ctx),
    }),
    defineTool({
      name: 'delete_agent',
      description: 'Delete an agent and its memory.',
      input: z.object({ agent_id: z.string().min(1) }),
      annotations: DESTRUCTIVE,
      run: (a, ctx) => agentOps.delete!(a, ctx),
    }),
    defineTool({
      name: 'list_memory_blocks',
      description: "List an agent's memory blocks, or all blocks filtered by label or name.",
      input: z.object({
        agent_id: str('Agent whose blocks to list; omit for all blocks'),
        label: str(),
        name: str(),
        templates_only: z.boolean().optional(),
        limit,
        offset: int,
      }),
      annotations: READ,
      run: (a, ctx) => listBlocks({ ...a, is_template: a.templates_only }, ctx),
    }),
    defineTool({
      name: 'create_memory_block',
      description: 'Create a memory block, attached to agent_id when given.',
      input: z.object({
        label: z.string().min(1),
        value: z.string(),
        name: str(),
        agent_id: str('Agent to attach the block to'),
        metadata: z.record(z.string(), z.unknown()).optional(),
      }),
      annotations: WRITE,
      run: (a, ctx) => createBlock(ctx.client, a.agent_id, { label: a.label, value: a.value, metadata: a.metadata }),
    }),
    defineTool({
      name: 'read_memory_block',
      description: 'Read a memory block by id.',
      input: z.object({ block_id: z.string().min(1) }),
      annotations: READ,
      run: (a, ctx) => memoryOps.get_block!(a, ctx),
    }),
    defineTool({
      name: 'update_memory_block',
      description: 'Update a memory block by id (value and/or metadata).',
      input: z.object({
        block_id: z.string().min(1),
        value: str(),
        metadata: z.record(z.string(), z.unknown()).optional(),
      }),
      annotations: { ...WRITE, idempotentHint: true },
      run: (a, ctx) => memoryOps.update_block!(a, ctx),
    }),
    defineTool({
      name: 'attach_memory_block',
      description: 'Attach an existing memory block to an agent.',
      input: z.object({
        block_id: z.string().min(1),
        agent_id: agentId,
        label: str('Unused; accepted for compatibility'),
      }),
      annotations: { ...WRITE, idempotentHint: true },
      run: (a, ctx) => memoryOps.attach_block!(a, ctx),
    }),
    defineTool({
      name: 'list_passages',
      description: "List an agent's archival passages, optionally filtered by text.",
      input: z.object({
        agent_id: agentId,
        search: str('Text the passage contains'),
        after: str(),
        before: str(),
        ascending: z.boolean().optional(),
        limit,
        offset: int,
      }),
      annotations: READ,
      run: (a, ctx) => listPassages(ctx.client, requireAgent(a.agent_id, ctx), a),
    }),
    defineTool({
      name: 'create_passage',
      description: "Insert a passage into an agent's archival memory.",
      input: z.object({ agent_id: agentId, text: z.string().min(1), tags: strings }),
      annotations: WRITE,
      run: (a, ctx) => memoryOps.create_passage!(a, ctx),
    }),
    defineTool({
      name: 'search_passages',
      description: "Search an agent's archival memory by meaning and keywords, with tag and date filters.",
      input: z.object({
        agent_id: agentId,
        query: z.string().min(1),
        tags: strings,
        tag_match_mode: z.enum(['any', 'all']).optional(),
        top_k: limit,
        start_datetime: str(),
        end_datetime: str(),
      }),
      annotations: READ,
      run: (a, ctx) => archivalSearch(ctx.client, requireAgent(a.agent_id, ctx), a),
    }),
  ];
}
