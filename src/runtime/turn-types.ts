import type { AgentPatch, AgentRecord } from '../store/agent.store.js';
import type { TurnOutcome } from '../domain/turns.js';
import type { Stores } from '../store/index.js';
import type { ToolRecord } from '../store/tool.store.js';
import type { LettaMessage } from '../domain/letta-messages.js';
import type { ApprovalEntry, ContentPart, MessageLike } from '../domain/messages.js';
import type { ClientTool } from './toolset.js';

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
