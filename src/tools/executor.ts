import type { BlockService } from '../services/block.service.js';
import type { Stores } from '../store/index.js';

/** One tool call the model made, with its arguments parsed (`request_heartbeat` and `thinking` already stripped). */
export interface ToolCall {
  id: string;
  name: string;
  args: Record<string, unknown>;
}

export interface ToolExecutionResult {
  status: 'success' | 'error';
  /** What the tool returned, as text (dicts and lists already serialized); `None` for no value, as Letta prints it. */
  funcReturn: string;
  stdout?: string[] | null;
  stderr?: string[] | null;
}

/** Archival memory as the tools see it; provided by the archival service when it is wired in. */
export interface ArchivalPort {
  /** Inside the caller's transaction, so the passage and the prompt's archival count commit together. */
  insert(agentId: string, text: string, tags: string[], tx: Stores): Promise<void>;
  search(
    agentId: string,
    query: {
      query: string;
      tags?: string[];
      tagMatchMode?: 'any' | 'all';
      topK?: number;
      start?: string;
      end?: string;
    },
  ): Promise<unknown[]>;
  /** Read inside the caller's transaction (`tx`): SQLite has one connection, so a second reader would deadlock. */
  stats(agentId: string, tx: Stores): Promise<{ count: number; tags: string[] }>;
}

/** Recall (conversation history) search; provided by the recall service when it is wired in. */
export interface RecallPort {
  search(
    agentId: string,
    query: { query?: string; roles?: string[]; limit: number; startDate?: string; endDate?: string },
  ): Promise<
    { role: string; text: string; createdAt: string; toolCallNames: string[]; relevance?: Record<string, unknown> }[]
  >;
}

export interface ToolContext {
  agentId: string;
  conversationId: string | null;
  timezone: string;
  stores: Stores;
  blocks: BlockService;
  archival?: ArchivalPort | undefined;
  recall: RecallPort;
  /** Rebuilds the agent's system prompt, in `tx`, after a change the block events do not cover (archival counts). */
  recompile(tx: Stores, agentId: string): Promise<void>;
}

/**
 * The one interface every tool runs through: base tools now; sandboxed Python/JS tools and MCP tools plug in as
 * further executors chosen by `handles`. Client-side tools and approvals feed results through the same
 * `ToolExecutionResult` so the loop packages every return alike.
 */
export interface ToolExecutor {
  handles(toolType: string, name: string): boolean;
  execute(call: ToolCall, ctx: ToolContext): Promise<ToolExecutionResult>;
}

export class ToolDispatcher {
  constructor(private readonly executors: ToolExecutor[]) {}

  async execute(call: ToolCall, toolType: string, ctx: ToolContext): Promise<ToolExecutionResult> {
    const executor = this.executors.find((e) => e.handles(toolType, call.name));
    if (!executor)
      return {
        status: 'error',
        funcReturn: `Error executing function ${call.name}: NotImplementedError: tools of type '${toolType}' cannot run on this server yet`,
      };
    try {
      return await executor.execute(call, ctx);
    } catch (error) {
      const text = `Error executing function ${call.name}: ${error instanceof Error ? error.name : 'Error'}: ${error instanceof Error ? error.message : String(error)}`;
      return { status: 'error', funcReturn: text.slice(0, 1000) };
    }
  }
}
