import type { Stores } from '../store/index.js';

/**
 * How an agent's own tools change core memory: the block service implements it, so the runtime and the tools
 * never depend on the service itself. Read-only blocks and over-limit values are refused with a
 * `MemoryEditError` carrying Letta's text.
 */
export interface BlockWriter {
  writeByAgent(tx: Stores, agentId: string, label: string, compute: (current: string) => string): Promise<unknown>;
}

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

/** Archival memory as the tools and the system prompt see it; the archival service provides it. */
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

/** Recall (conversation history) search for `conversation_search`; the recall service provides it. */
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
  blocks: BlockWriter;
  archival: ArchivalPort;
  recall: RecallPort;
  /** Rebuilds the agent's system prompt, in `tx`, after a change the block events do not cover (archival counts). */
  recompile(tx: Stores, agentId: string): Promise<void>;
  /** The agent as the API serializes it, for custom tools that take Letta's `agent_state` argument. */
  agentState?: () => Promise<Record<string, unknown>>;
  /** The run the call belongs to; absent when a tool is run directly, outside a turn. */
  runId?: string;
  /** Other agents' turns, for the multi-agent tools. */
  messenger?: AgentMessenger;
}

/** What one agent said back to another's message: its assistant messages' text, or why it could not answer. */
export type AgentReply = { agentId: string; response: string[] } | { agentId: string; error: string; type: string };

/**
 * How the multi-agent tools reach other agents: each message is a real turn of the target, a run of its own. The
 * runtime provides it; `fromRunId` is the sender's run, which bounds how deep a chain of agents messaging agents goes.
 */
export interface AgentMessenger {
  /** Runs a turn of `targetId` on `text` and waits for it. */
  ask(fromRunId: string | undefined, targetId: string, text: string): Promise<AgentReply>;
  /** Starts a background turn of `targetId` on `text`; throws when it cannot start (unknown agent, busy, too deep). */
  notify(fromRunId: string | undefined, targetId: string, text: string): Promise<void>;
  /** Agents with every tag of `matchAll` and at least one of `matchSome` (an empty list does not filter). */
  agentsMatchingTags(matchAll: string[], matchSome: string[]): Promise<string[]>;
}

/** Reads an agent as `GET /agents/{id}` shows it; the agent service provides it. */
export interface AgentStatePort {
  get(agentId: string): Promise<Record<string, unknown>>;
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
