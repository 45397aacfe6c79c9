import type { Logger } from 'pino';
import { nowIso } from '../lib/time.js';
import { summarize } from '../llm/summarizer.js';
import { estimateTokens } from '../llm/tokens.js';
import type { LlmClient } from '../llm/types.js';
import type { AgentRecord } from '../store/agent.store.js';
import type { Stores } from '../store/index.js';
import { isApprovalRequest, messageRow, type MessageLike } from '../domain/messages.js';
import { toLlmMessages } from './llm-messages.js';
import { packedSystemAlert } from '../domain/packing.js';
import { setInContextIds, type SystemPrompts } from './system-prompt.js';

/** Letta's estimate of a thread: `ceil(bytes(json(messages)) / 4)` over what the provider would be sent. */
export function estimateThreadTokens(rows: MessageLike[], window: number): number {
  return estimateTokens(toLlmMessages(rows, window));
}

/**
 * Where the kept tail may start: an assistant message (or an approval request), so the tail never opens with a
 * tool return whose call was evicted. Searches from `from` towards the end.
 */
function cutoffAt(rest: MessageLike[], from: number): number | undefined {
  for (let i = Math.max(1, from); i < rest.length; i++) {
    if (rest[i]!.role === 'assistant' || isApprovalRequest(rest[i]!)) return i;
  }
  return undefined;
}

export interface CompactionInput {
  agent: AgentRecord;
  conversationId: string | null;
  context: MessageLike[];
  client: LlmClient;
  handle: string;
  window: number;
  trigger: string;
  runId: string | null;
  /** `all` summarises everything but the system message (the on-demand API default is the sliding window). */
  mode?: 'sliding_window' | 'all';
  includeCompaction?: boolean;
}

export interface CompactionResult {
  context: MessageLike[];
  ids: string[];
  summary: string;
  evicted: number;
  tokensBefore: number;
}

/**
 * Sliding-window compaction (§10): evict ≥30 % of the in-context messages (10 % more per try) up to an assistant
 * boundary, summarise them with a separate, budgeted LLM call and insert the summary right after the system
 * message. A failed summary falls back to plain eviction. Evicted rows stay stored, listable and searchable.
 */
export async function compactThread(
  deps: { stores: Stores; prompts: SystemPrompts; logger: Logger },
  input: CompactionInput,
): Promise<CompactionResult | undefined> {
  const [system, ...rest] = input.context;
  if (!system || rest.length < 2) return undefined;
  const tokensBefore = estimateThreadTokens(input.context, input.window);
  const target = Math.floor(input.window * 0.7);
  let cutoff: number | undefined;
  if (input.mode !== 'all') {
    for (let pct = 0.3; pct <= 1.0001 && cutoff === undefined; pct += 0.1) {
      const candidate = cutoffAt(rest, Math.ceil(rest.length * pct));
      if (candidate !== undefined && estimateThreadTokens([system, ...rest.slice(candidate)], input.window) <= target)
        cutoff = candidate;
    }
  }
  // `all`: keep only a trailing approval request, which must survive to be answered.
  const last = rest.at(-1)!;
  cutoff ??= isApprovalRequest(last) ? rest.length - 1 : rest.length;
  if (cutoff <= 0) return undefined;
  const evicted = rest.slice(0, cutoff);
  const kept = rest.slice(cutoff);

  let summary: string | undefined;
  try {
    // The summarizer sizes its own request to its window (transcript shrunk first), so it cannot overflow itself.
    summary =
      (
        await summarize({
          client: input.client,
          handle: input.handle,
          messages: toLlmMessages([system, ...evicted], input.window).slice(1),
          contextWindow: input.window,
          mode: input.mode ?? 'sliding_window',
        })
      ).trim() || undefined;
  } catch (error) {
    deps.logger.warn({ err: error, agentId: input.agent.id }, 'summarizer failed; evicting without a summary');
  }

  const note =
    input.mode === 'all'
      ? 'Note: prior messages have been hidden from view due to conversation memory constraints.'
      : `Note: ${evicted.length} messages from the beginning of the conversation have been hidden from view due to memory constraints.`;
  const message = summary ? `${note}\nThe following is a summary of the previous messages:\n ${summary}` : note;
  const tokensAfterEstimate = estimateThreadTokens([system, ...kept], input.window);
  const stats = {
    trigger: input.trigger,
    context_tokens_before: tokensBefore,
    context_tokens_after: tokensAfterEstimate,
    context_window: input.window,
    messages_count_before: input.context.length,
    messages_count_after: kept.length + 2,
  };
  const row = messageRow(
    {
      agentId: input.agent.id,
      conversationId: input.conversationId,
      runId: input.runId,
      stepId: null,
      model: input.handle,
    },
    input.includeCompaction ? 'summary' : 'user',
    [{ type: 'text', text: packedSystemAlert(message, input.agent.timezone, { compaction_stats: stats }) }],
  );
  const context = [system, row, ...kept];
  const ids = context.map((r) => r.id);
  await deps.stores.transaction(async (tx) => {
    await tx.messages.insertMany([row]);
    await setInContextIds(tx, input.agent.id, input.conversationId, ids, nowIso());
    await deps.prompts.rebuild(tx, input.agent.id, true);
  });
  const refreshed = await deps.stores.messages.findById(system.id);
  return {
    context: refreshed ? [refreshed, row, ...kept] : context,
    ids,
    summary: summary ?? note,
    evicted: evicted.length,
    tokensBefore,
  };
}
