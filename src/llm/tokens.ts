import type { LlmMessage, LlmToolDefinition } from './types.js';

/**
 * Letta's local estimate, used before a provider has reported usage: `ceil(bytes(json(messages)) / 4)`. It counts
 * the JSON of the seam's messages, which is close in size to the OpenAI dicts Letta serialises.
 */
export function estimateTokens(value: unknown): number {
  return Math.ceil(Buffer.byteLength(JSON.stringify(value) ?? '') / 4);
}

/**
 * bytes/4 undercounts JSON by 25–35 % (every bracket and quote is a token); Letta multiplies by this wherever an
 * underestimate would overflow the window (the summarizer's budget).
 */
export const APPROX_TOKEN_SAFETY_MARGIN = 1.3;

/** A whole request: the messages plus the tool schemas, which the provider counts as prompt too. */
export function estimateRequestTokens(messages: LlmMessage[], tools: LlmToolDefinition[] = []): number {
  return estimateTokens(messages) + (tools.length ? estimateTokens(tools) : 0);
}

/**
 * Keeps the head and tail of `text` within `budgetBytes` (UTF-8) and drops the middle with Letta's marker, so a
 * transcript keeps both its opening and its end (`<end_transcript>` and the request that follows it).
 */
export function middleTruncate(text: string, budgetBytes: number, headFraction = 0.3, tailFraction = 0.3): string {
  const bytes = Buffer.byteLength(text);
  if (budgetBytes <= 0 || bytes <= budgetBytes) return text;
  const budgetChars = Math.max(1, Math.floor(budgetBytes / (bytes / text.length)));
  const head = text.slice(0, Math.floor(budgetChars * headFraction));
  let tail = text.slice(text.length - Math.min(Math.floor(budgetChars * tailFraction), budgetChars - head.length));
  const marker = `\n[TRUNCATED: dropped ${text.length - head.length - tail.length} middle chars due to context budget]\n`;
  const room = budgetChars - head.length - tail.length;
  if (room < marker.length) tail = tail.slice(Math.min(tail.length, marker.length - room));
  return head + marker + tail;
}
