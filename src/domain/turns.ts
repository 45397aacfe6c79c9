import type { AgentRecord } from '../store/agent.store.js';
import { parseJson } from '../store/json.js';
import type { LettaMessage } from './letta-messages.js';

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

export interface TurnError {
  error_type: string;
  message: string;
  detail: string;
  status: number;
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

/** One SSE chunk of a run: its `seq_id` and the JSON text sent after `data: `. */
export interface RunChunk {
  seqId: number;
  data: string;
  /** `error_message` chunks are framed as `event: error` (§6.5). */
  error: boolean;
}

/** Where a streamed run's chunks come from (the live run in this process, or the database); `end` is called once. */
export interface ChunkSource {
  /** Starts delivering chunks; returns a function that stops the delivery. */
  start(emit: (chunk: RunChunk) => void, end: () => void): () => void;
}

/** A turn that has started: its run, its chunks from the first, and how it ends. */
export interface StartedTurn {
  runId: string;
  stream: ChunkSource;
  outcome: Promise<TurnOutcome>;
}
