import type { AgentPatch, AgentRecord } from '../store/agent.store.js';
import type { Stores } from '../store/index.js';
import type { ToolRecord } from '../store/tool.store.js';
import { parseJson } from '../store/json.js';
import type { LettaMessage } from './letta-messages.js';
import type { ApprovalEntry, ContentPart, MessageLike } from './messages.js';
import type { ClientTool } from './toolset.js';

export type StopReason =
  | 'end_turn'
  | 'error'
  | 'llm_api_error'
  | 'invalid_llm_response'
  | 'invalid_tool_call'
  | 'max_steps'
  | 'max_tokens_exceeded'
  | 'no_tool_call'
  | 'tool_rule'
  | 'cancelled'
  | 'requires_approval'
  | 'context_window_overflow_in_system_prompt';

/** The run status each stop reason maps to (§4.7). */
export function runStatusFor(stop: StopReason): 'completed' | 'failed' | 'cancelled' {
  if (stop === 'cancelled') return 'cancelled';
  return ['end_turn', 'max_steps', 'tool_rule', 'requires_approval'].includes(stop) ? 'completed' : 'failed';
}

export interface UsageStatistics {
  message_type: 'usage_statistics';
  completion_tokens: number;
  prompt_tokens: number;
  total_tokens: number;
  step_count: number;
  run_ids: string[] | null;
  cached_input_tokens: number | null;
  cache_write_tokens: number | null;
  reasoning_tokens: number | null;
  context_tokens: number | null;
}

export const emptyUsage = (): UsageStatistics => ({
  message_type: 'usage_statistics',
  completion_tokens: 0,
  prompt_tokens: 0,
  total_tokens: 0,
  step_count: 0,
  run_ids: null,
  cached_input_tokens: null,
  cache_write_tokens: null,
  reasoning_tokens: null,
  context_tokens: null,
});

export interface UserInput {
  role: 'user' | 'system' | 'assistant';
  content: ContentPart[];
  otid: string | null;
  name: string | null;
  senderId: string | null;
  groupId: string | null;
}

/** A validated reply to the pending approval request, or the idempotent-retry keep-alive (§5.6). */
export type ApprovalInput =
  { kind: 'reply'; request: MessageLike; entries: ApprovalEntry[]; otid: string | null } | { kind: 'keep_alive' };

export interface TurnError {
  error_type: string;
  message: string;
  detail: string;
  status: number;
}

/** A thread as read under its turn lock: its in-context message ids and rows, and the agent's tools. */
export interface ThreadState {
  ids: string[];
  rows: MessageLike[];
  tools: ToolRecord[];
}

export interface TurnRequest {
  /** The agent and its thread, as read under the turn lock. */
  agent: AgentRecord;
  thread: ThreadState;
  conversationId: string | null;
  runId: string;
  inputs: UserInput[];
  approval?: ApprovalInput | undefined;
  maxSteps: number;
  clientTools: ClientTool[];
  clientSkills: { name: string; description?: string | null; location?: string | null }[];
  overrideModel?: string | undefined;
  overrideSystem?: string | undefined;
  streamTokens: boolean;
  includeCompaction: boolean;
  /** Delivers a chunk (message, or token delta) to the run's stream; the run adds `run_id` and `seq_id`. */
  emit(chunk: LettaMessage): void;
  signal: AbortSignal;
  /**
   * The end of the run. When the last step needs nothing after it (no compaction), the loop calls `record` inside
   * that step's write batch (it returns the agent's last-run columns for the loop to write) and `committed` once the
   * batch has committed, so a turn ends with one commit.
   */
  conclusion: { record(tx: Stores, outcome: TurnOutcome): Promise<AgentPatch>; committed(): void };
}

export interface TurnOutcome {
  stopReason: StopReason;
  usage: UsageStatistics;
  /** Whole LettaMessages the turn produced (the `LettaResponse.messages`). */
  messages: LettaMessage[];
  error?: TurnError | undefined;
  ttftNs?: number | undefined;
}

/** A turn's `LettaResponse` (§4.7): the sync reply's body, and the result a run keeps. */
export function lettaResponse(outcome: TurnOutcome) {
  return {
    messages: outcome.messages,
    stop_reason: { message_type: 'stop_reason', stop_reason: outcome.stopReason },
    usage: outcome.usage,
    logprobs: null,
    turns: null,
  };
}

/** The model a turn or call runs on: an override, else the agent's (its `llm_config.handle` for rows without `model`). */
export function modelHandleOf(agent: AgentRecord, override?: string | null): string {
  return override ?? agent.model ?? parseJson<{ handle?: string }>(agent.llm_config, {}).handle ?? '';
}

/** The agent's context window, in tokens; Letta's default where the config names none. */
export function contextWindowOf(agent: AgentRecord): number {
  return parseJson<{ context_window?: number }>(agent.llm_config, {}).context_window ?? 32_768;
}
