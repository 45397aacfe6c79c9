import { MemoryEditError } from '../../domain/errors.js';
import { CORE_MEMORY_LINE_NUMBER_WARNING } from '../../domain/prompts/memory.js';
import type { ToolCall, ToolContext, ToolExecutionResult, ToolExecutor } from '../../domain/ports.js';

const EDITED = (label: string) =>
  `The core memory block with label \`${label}\` has been successfully edited. Your system prompt has been recompiled with the updated memory contents and is now active in your context. Review the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). Edit the memory block again if necessary.`;

const LINE_PREFIX = /(^|\n)\s*\d+→/;

/** A tool error the model sees verbatim (Letta's `str(exception)`). */
class ToolError extends Error {}

function str(args: Record<string, unknown>, key: string, required = true): string {
  const value = args[key];
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) {
    if (required) throw new ToolError(`missing required argument '${key}'`);
    return '';
  }
  return String(value);
}

function guardLineNumbers(field: string, value: string): void {
  if (LINE_PREFIX.test(value)) {
    throw new ToolError(
      `${field} contains a line number prefix, which is not allowed. Do not include line numbers when calling memory tools (line numbers are for display purposes only).`,
    );
  }
  if (value.includes(CORE_MEMORY_LINE_NUMBER_WARNING)) {
    throw new ToolError(
      `${field} contains a line number warning, which is not allowed. Do not include line number information when calling memory tools (line numbers are for display purposes only).`,
    );
  }
}

const expandTabs = (s: string) => s.replace(/\t/g, '        ');

function countOccurrences(haystack: string, needle: string): number {
  if (!needle) return 0;
  let n = 0;
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + needle.length)) n++;
  return n;
}

function formatAgo(createdAt: string, now: number): string {
  const s = Math.max(0, Math.floor((now - Date.parse(createdAt)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

type Impl = (args: Record<string, unknown>, ctx: ToolContext) => Promise<unknown>;

const edit = (ctx: ToolContext, label: string, compute: (current: string) => string) =>
  ctx.stores.transaction((tx) => ctx.blocks.writeByAgent(tx, ctx.agentId, label, compute));

/** Letta's core tools (`core_tool_executor.py`), each writing memory only through the `BlockWriter` port. */
const IMPLS: Record<string, Impl> = {
  send_message: async () => 'Sent message successfully.',

  core_memory_append: async (args, ctx) => {
    const content = str(args, 'content');
    await edit(ctx, str(args, 'label'), (current) => `${current}\n${content}`);
    return null;
  },

  core_memory_replace: async (args, ctx) => {
    const label = str(args, 'label');
    const oldContent = str(args, 'old_content');
    const newContent = str(args, 'new_content');
    await edit(ctx, label, (current) => {
      if (!current.includes(oldContent))
        throw new MemoryEditError(`Old content '${oldContent}' not found in memory block '${label}'`);
      return current.split(oldContent).join(newContent);
    });
    return null;
  },

  memory_replace: async (args, ctx) => {
    const label = str(args, 'label');
    const oldString = str(args, 'old_string');
    const newString = str(args, 'new_string');
    guardLineNumbers('old_string', oldString);
    guardLineNumbers('new_string', newString);
    const oldS = expandTabs(oldString);
    const newS = expandTabs(newString);
    await edit(ctx, label, (raw) => {
      const current = expandTabs(raw);
      const n = countOccurrences(current, oldS);
      if (n === 0)
        throw new MemoryEditError(
          `No replacement was performed, old_string \`${oldS}\` did not appear verbatim in memory block with label \`${label}\`.`,
        );
      if (n > 1) {
        const lines = current.split('\n').flatMap((line, i) => (line.includes(oldS) ? [i + 1] : []));
        throw new MemoryEditError(
          `No replacement was performed. Multiple occurrences of old_string \`${oldS}\` in lines [${lines.join(', ')}]. Please ensure it is unique.`,
        );
      }
      return current.replace(oldS, () => newS);
    });
    return EDITED(label);
  },

  memory_insert: async (args, ctx) => {
    const label = str(args, 'label');
    const newString = str(args, 'new_string');
    guardLineNumbers('new_string', newString);
    const rawLine = args.insert_line ?? -1;
    const insertLine = typeof rawLine === 'number' ? rawLine : Number(rawLine);
    await edit(ctx, label, (raw) => {
      const lines = expandTabs(raw).split('\n');
      let at = insertLine;
      if (at === -1) at = lines.length;
      else if (!Number.isInteger(at) || at < 0 || at > lines.length) {
        throw new MemoryEditError(
          `Invalid \`insert_line\` parameter: ${rawLine}. It should be within the range of lines of the memory block: [0, ${lines.length}], or -1 to append to the end of the memory block.`,
        );
      }
      return [...lines.slice(0, at), ...expandTabs(newString).split('\n'), ...lines.slice(at)].join('\n');
    });
    return EDITED(label);
  },

  memory_rethink: async (args, ctx) => {
    const label = str(args, 'label');
    const newMemory = str(args, 'new_memory');
    guardLineNumbers('new_memory', newMemory);
    await edit(ctx, label, () => newMemory);
    return EDITED(label);
  },

  memory_finish_edits: async () => null,

  archival_memory_insert: async (args, ctx) => {
    const archival = ctx.archival;
    const content = str(args, 'content');
    const tags = Array.isArray(args.tags) ? args.tags.map(String) : [];
    await ctx.stores.transaction(async (tx) => {
      await archival.insert(ctx.agentId, content, tags, tx);
      await ctx.recompile(tx, ctx.agentId);
    });
    return null;
  },

  archival_memory_search: async (args, ctx) => {
    const query = str(args, 'query', false);
    if (!query) return [];
    return ctx.archival.search(ctx.agentId, {
      query,
      ...(Array.isArray(args.tags) ? { tags: args.tags.map(String) } : {}),
      tagMatchMode: args.tag_match_mode === 'all' ? 'all' : 'any',
      topK: typeof args.top_k === 'number' ? args.top_k : 5,
      ...(typeof args.start_datetime === 'string' ? { start: args.start_datetime } : {}),
      ...(typeof args.end_datetime === 'string' ? { end: args.end_datetime } : {}),
    });
  },

  conversation_search: async (args, ctx) => {
    const roles = Array.isArray(args.roles) ? args.roles.map(String) : undefined;
    const limit = typeof args.limit === 'number' && args.limit > 0 ? args.limit : 5;
    const hits = await ctx.recall.search(ctx.agentId, {
      ...(typeof args.query === 'string' ? { query: args.query } : {}),
      ...(roles ? { roles } : {}),
      limit,
      ...(typeof args.start_date === 'string' ? { startDate: args.start_date } : {}),
      ...(typeof args.end_date === 'string' ? { endDate: args.end_date } : {}),
    });
    // Tool results and earlier searches would nest escaped copies of themselves (Letta filters them the same way).
    const kept = hits.filter(
      (h) => h.role !== 'tool' && !(h.role === 'assistant' && h.toolCallNames.includes('conversation_search')),
    );
    if (kept.length === 0) return { message: 'No results found.', results: [] };
    const now = Date.now();
    return {
      message: `Showing ${hits.length} results:`,
      results: kept.map((h) => ({
        timestamp: h.createdAt,
        time_ago: formatAgo(h.createdAt, now),
        role: h.role,
        ...(h.relevance ? { relevance: h.relevance } : {}),
        content: h.text,
      })),
    };
  },
};

export class CoreToolExecutor implements ToolExecutor {
  handles(_toolType: string, name: string): boolean {
    return name in IMPLS;
  }

  async execute(call: ToolCall, ctx: ToolContext): Promise<ToolExecutionResult> {
    try {
      const value = await IMPLS[call.name]!(call.args, ctx);
      return {
        status: 'success',
        funcReturn:
          value === null || value === undefined ? 'None' : typeof value === 'string' ? value : JSON.stringify(value),
      };
    } catch (error) {
      if (error instanceof MemoryEditError || error instanceof ToolError)
        return { status: 'error', funcReturn: error.message, stderr: [error.message] };
      throw error;
    }
  }
}
