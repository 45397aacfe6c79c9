import { ALL_PROMPT, MESSAGE_SUMMARY_REQUEST_ACK, SLIDING_PROMPT } from './summarizer-prompts.js';
import { APPROX_TOKEN_SAFETY_MARGIN, estimateTokens, middleTruncate } from './tokens.js';
import { LlmError, type LlmClient, type LlmContentPart, type LlmMessage } from './types.js';

export { ALL_PROMPT, SLIDING_PROMPT } from './summarizer-prompts.js';

/** Letta's suffix for a summary longer than `compaction_settings.clip_chars`. */
export const SUMMARY_TRUNCATION_SUFFIX = '... [summary truncated to fit]';
export const DEFAULT_CLIP_CHARS = 50_000;
/** Tool returns in the transcript are clamped to this when the whole transcript does not fit (Letta's constant). */
export const TOOL_RETURN_TRUNCATION_CHARS = 5000;

export interface SummarizeOptions {
  client: LlmClient;
  /** The summarizer model's handle (compaction_settings.model, or the agent's). */
  handle: string;
  /** What to summarise, oldest first; system messages are left out of the transcript. */
  messages: LlmMessage[];
  /** The summarizer model's context window: the request is built to fit in it. */
  contextWindow: number;
  /** Picks Letta's prompt; `prompt` overrides it (compaction_settings.prompt). */
  mode?: 'sliding_window' | 'all' | undefined;
  prompt?: string | undefined;
  /** compaction_settings.prompt_acknowledgement. */
  acknowledge?: boolean | undefined;
  /** Reply budget; capped to a quarter of the window so the transcript keeps room. Default 4096. */
  maxOutputTokens?: number | undefined;
  /** compaction_settings.clip_chars (default 50,000; null: no clipping). */
  clipChars?: number | null | undefined;
  signal?: AbortSignal | undefined;
}

const partText = (part: LlmContentPart) => (part.type === 'text' ? part.text : '[Image omitted]');

/** One line per message, as Letta's `simple_formatter`: `[role] content -> tool(args), …`. */
export function formatTranscript(messages: LlmMessage[], toolReturnChars?: number): string {
  const lines: string[] = [];
  for (const message of messages) {
    let content: string;
    if (message.role === 'system') continue;
    if (message.role === 'user')
      content = typeof message.content === 'string' ? message.content : message.content.map(partText).join(' ');
    else if (message.role === 'tool')
      content =
        toolReturnChars !== undefined && message.content.length > toolReturnChars
          ? `${message.content.slice(0, toolReturnChars)}...`
          : message.content;
    else {
      content = message.content ?? '';
      const calls = (message.toolCalls ?? []).map((c) => `${c.name}(${c.arguments})`);
      if (calls.length) content = `${content ? `${content} ` : ''}-> ${calls.join(', ')}`;
    }
    if (content) lines.push(`[${message.role}] ${content}`);
  }
  return `<start_transcript>\n${lines.join('\n')}\n<end_transcript>\n. Generate the summary.`;
}

/**
 * Summarises a transcript with one model call that is sized to fit the summarizer's own context window: the
 * transcript is shrunk first (tool returns clamped, then the middle dropped) rather than sent and failed. If the
 * provider still reports an overflow (the estimate is approximate), it retries once with half the budget.
 * Returns the summary text, clipped to `clipChars`; throws `LlmError` (the caller falls back to plain eviction).
 */
export async function summarize(options: SummarizeOptions): Promise<string> {
  const system = options.prompt ?? (options.mode === 'all' ? ALL_PROMPT : SLIDING_PROMPT);
  const maxOutputTokens = Math.max(
    64,
    Math.min(options.maxOutputTokens ?? 4096, Math.floor(options.contextWindow / 4)),
  );
  const preamble: LlmMessage[] = [
    { role: 'system', content: system },
    ...(options.acknowledge ? [{ role: 'assistant' as const, content: MESSAGE_SUMMARY_REQUEST_ACK }] : []),
  ];
  const fixedTokens = estimateTokens(preamble) * APPROX_TOKEN_SAFETY_MARGIN;
  const budgetTokens = Math.max(0, options.contextWindow - maxOutputTokens - fixedTokens);

  const attempt = async (share: number) => {
    const transcript = fitTranscript(options.messages, Math.floor(budgetTokens * share));
    return options.client.complete({
      handle: options.handle,
      messages: [...preamble, { role: 'user', content: transcript }],
      tools: [],
      toolChoice: 'none',
      maxOutputTokens,
      signal: options.signal,
    });
  };

  let response;
  try {
    response = await attempt(1);
  } catch (error) {
    if (!(error instanceof LlmError && error.kind === 'context_window_exceeded')) throw error;
    response = await attempt(0.5);
  }
  const summary = response.text.trim();
  if (!summary) throw new LlmError('empty_response', 'The summarizer returned an empty summary.');
  const clip = options.clipChars === undefined ? DEFAULT_CLIP_CHARS : options.clipChars;
  return clip !== null && summary.length > clip ? summary.slice(0, clip) + SUMMARY_TRUNCATION_SUFFIX : summary;
}

/** The transcript, shrunk step by step until its estimate (with Letta's safety margin) fits `budgetTokens`. */
function fitTranscript(messages: LlmMessage[], budgetTokens: number): string {
  const fits = (text: string) => estimateTokens(text) * APPROX_TOKEN_SAFETY_MARGIN <= budgetTokens;
  const full = formatTranscript(messages);
  if (fits(full)) return full;
  const clamped = formatTranscript(messages, TOOL_RETURN_TRUNCATION_CHARS);
  if (fits(clamped)) return clamped;
  // estimateTokens is bytes/4 of the JSON string; the margin turns the token budget back into a byte budget.
  // Like Letta, never below 2,000 bytes: a transcript that small is the least a summary can be made from.
  return middleTruncate(clamped, Math.max(2000, Math.floor((budgetTokens * 4) / APPROX_TOKEN_SAFETY_MARGIN) - 8));
}
