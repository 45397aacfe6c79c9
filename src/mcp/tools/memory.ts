import { z } from 'zod';
import {
  archivalDelete,
  archivalInsert,
  archivalSearch,
  askAgent,
  captureMessages,
  conversationSearch,
  createBlock,
  getCoreMemory,
  listAgents,
  updateBlock,
} from '../ops.js';
import { shortHash } from '../output.js';
import { DESTRUCTIVE, defineTool, IDEMPOTENT_WRITE, READ, requireAgent, WRITE, type ToolDef } from '../tool.js';

/** Parameters shared by the memory tools; each is optional so a default agent can stand in. */
const agentId = z.string().optional().describe('Agent id (agent-…); defaults to the session agent');
const offset = z.number().int().min(0).optional().describe('Items to skip (from next_offset)');
const limit = (max: number, dflt: number) =>
  z.number().int().min(1).max(max).optional().describe(`Page size (default ${dflt}, max ${max})`);
const date = (what: string) => z.string().optional().describe(`${what}: ISO date or datetime (YYYY-MM-DD[THH:MM])`);

/**
 * The `memory` profile: about ten small flat tools covering what a coding assistant needs from persistent memory.
 * `ask_agent` is listed only when enabled, because each call runs the agent's LLM.
 */
export function memoryTools(options: { askAgent: boolean }): ToolDef[] {
  const tools: ToolDef[] = [
    defineTool({
      name: 'memory_list_agents',
      description: 'List agents (id, name, tags). Filter by name, tags or text.',
      input: z.object({
        name: z.string().optional(),
        tags: z.array(z.string()).optional(),
        query: z.string().optional().describe('Text in name or description'),
        offset,
        limit: limit(100, 20),
      }),
      annotations: READ,
      run: (a, ctx) =>
        listAgents(ctx.client, { name: a.name, tags: a.tags, query_text: a.query, offset: a.offset, limit: a.limit }),
    }),
    defineTool({
      name: 'memory_get_core',
      description: "Read the agent's core memory blocks: label, description, value, chars used and limit.",
      input: z.object({ agent_id: agentId }),
      annotations: READ,
      run: (a, ctx) => getCoreMemory(ctx.client, requireAgent(a.agent_id, ctx)),
    }),
    defineTool({
      name: 'memory_update_block',
      description:
        'Edit a core memory block by label: replace the value, append a line, or str_replace old_text with new_text. Read-only blocks and the limit are respected.',
      input: z.object({
        agent_id: agentId,
        label: z.string().min(1),
        mode: z.enum(['replace', 'append', 'str_replace']),
        value: z.string().optional().describe('New value (replace) or text to append (append)'),
        old_text: z.string().optional().describe('Exact text to replace (str_replace); must occur once'),
        new_text: z.string().optional().describe('Replacement (str_replace); empty deletes'),
      }),
      annotations: WRITE,
      run: (a, ctx) => updateBlock(ctx.client, requireAgent(a.agent_id, ctx), a),
    }),
    defineTool({
      name: 'memory_create_block',
      description: 'Create a core memory block and attach it to the agent.',
      input: z.object({
        agent_id: agentId,
        label: z.string().min(1),
        value: z.string().optional(),
        description: z.string().optional().describe('What the block is for (shown to the agent)'),
        limit: z.number().int().min(1).optional().describe('Character limit'),
      }),
      annotations: WRITE,
      run: (a, ctx) => createBlock(ctx.client, requireAgent(a.agent_id, ctx), a),
    }),
    defineTool({
      name: 'archival_insert',
      description: 'Store a memory in archival (long-term, searchable) memory, with optional tags.',
      input: z.object({ agent_id: agentId, text: z.string().min(1), tags: z.array(z.string()).optional() }),
      annotations: WRITE,
      run: (a, ctx) => archivalInsert(ctx.client, requireAgent(a.agent_id, ctx), a.text, a.tags),
    }),
    defineTool({
      name: 'archival_search',
      description: 'Search archival memory by meaning and keywords; filter by tags and dates.',
      input: z.object({
        agent_id: agentId,
        query: z.string().min(1),
        tags: z.array(z.string()).optional(),
        tag_match_mode: z.enum(['any', 'all']).optional(),
        top_k: limit(50, 10),
        start_datetime: date('Earliest'),
        end_datetime: date('Latest'),
      }),
      annotations: READ,
      run: (a, ctx) => archivalSearch(ctx.client, requireAgent(a.agent_id, ctx), a),
    }),
    defineTool({
      name: 'archival_delete',
      description: 'Delete one archival memory by its passage id.',
      input: z.object({ agent_id: agentId, passage_id: z.string().min(1) }),
      annotations: DESTRUCTIVE,
      run: (a, ctx) => archivalDelete(ctx.client, requireAgent(a.agent_id, ctx), a.passage_id),
    }),
    defineTool({
      name: 'conversation_search',
      description:
        'Search past conversation messages (including recorded Claude Code sessions) by text, role and date.',
      input: z.object({
        agent_id: agentId,
        query: z.string().min(1),
        roles: z.array(z.enum(['user', 'assistant', 'system', 'tool'])).optional(),
        start_date: date('Earliest'),
        end_date: date('Latest'),
        limit: limit(50, 10),
      }),
      annotations: READ,
      run: (a, ctx) => conversationSearch(ctx.client, requireAgent(a.agent_id, ctx), a),
    }),
    defineTool({
      name: 'log_session_entry',
      description: "Append an entry to the agent's conversation history without running the agent (no LLM call).",
      input: z.object({
        agent_id: agentId,
        role: z.enum(['user', 'assistant', 'system']).optional().describe('Default assistant'),
        content: z.string().min(1),
        session_id: z.string().optional().describe('Client session id; used to make retries idempotent'),
        source: z.string().optional().describe('Where the entry comes from, e.g. claude_code'),
        conversation_id: z.string().optional(),
      }),
      annotations: IDEMPOTENT_WRITE,
      run: async (a, ctx) => {
        const content = a.source ? `[${a.source}] ${a.content}` : a.content;
        const result = await captureMessages(
          ctx.client,
          requireAgent(a.agent_id, ctx),
          [
            {
              role: a.role ?? 'assistant',
              content,
              ...(a.session_id ? { otid: `${a.session_id}:${shortHash(content)}` } : {}),
            },
          ],
          a.conversation_id,
        );
        return { data: result };
      },
    }),
  ];
  if (options.askAgent) {
    tools.push(
      defineTool({
        name: 'ask_agent',
        description: 'Send a message to the agent and return its reply (runs its LLM; costs tokens).',
        input: z.object({ agent_id: agentId, message: z.string().min(1) }),
        annotations: { ...WRITE, openWorldHint: true },
        run: (a, ctx) => askAgent(ctx.client, requireAgent(a.agent_id, ctx), a.message),
      }),
    );
  }
  return tools;
}
