/**
 * Result shaping shared by the MCP tools, the hooks and the CLI. Free of zod on purpose: the hooks bundle imports
 * it and must stay small to start fast.
 */

/** A successful result: `data`, plus the pagination fields when the tool listed something. */
export interface ToolOutput {
  data: unknown;
  next_offset?: number | null;
  message?: string;
}

/** A failure the caller should see as a tool error (not a protocol error): bad arguments, unsupported operations. */
export class ToolError extends Error {}

/** Results larger than this are cut: Claude Code warns above 10,000 tokens and every character costs context. */
export const MAX_RESULT_CHARS = 8_000;

export interface Page<T> {
  items: T[];
  next_offset: number | null;
}

/** Offset pagination over a list the server returned whole (or over-fetched by one to see whether more exist). */
export function paginate<T>(all: T[], offset = 0, limit = 20): Page<T> {
  const items = all.slice(offset, offset + limit);
  return { items, next_offset: offset + limit < all.length ? offset + limit : null };
}

/** Shortens a long string field for list views; full values come from the single-item tools. */
export function clip(text: string | null | undefined, max: number): string {
  if (!text) return text ?? '';
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more chars]`;
}

/**
 * Renders `{success, operation?, data, next_offset?, truncated?}` within MAX_RESULT_CHARS: when too long, array
 * data loses items from the end (next_offset then points at the first one dropped) and long strings are clipped.
 */
export function renderResult(output: ToolOutput, extra: Record<string, unknown> = {}, offset = 0): string {
  const build = (data: unknown, nextOffset: number | null | undefined, truncated: boolean) =>
    JSON.stringify({
      success: true,
      ...extra,
      ...(output.message ? { message: output.message } : {}),
      data,
      ...(nextOffset !== undefined && nextOffset !== null ? { next_offset: nextOffset } : {}),
      ...(truncated ? { truncated: true } : {}),
    });
  let text = build(output.data, output.next_offset, false);
  if (text.length <= MAX_RESULT_CHARS) return text;
  if (Array.isArray(output.data)) {
    const items = [...output.data];
    while (items.length > 1) {
      items.pop();
      text = build(items, offset + items.length, true);
      if (text.length <= MAX_RESULT_CHARS) return text;
    }
    text = build(clipStrings(items, 1_000), offset + items.length, true);
    if (text.length <= MAX_RESULT_CHARS) return text;
  }
  for (const max of [2_000, 500, 200]) {
    text = build(clipStrings(output.data, max), output.next_offset, true);
    if (text.length <= MAX_RESULT_CHARS) return text;
  }
  return JSON.stringify({
    success: true,
    ...extra,
    truncated: true,
    data: clip(JSON.stringify(output.data), MAX_RESULT_CHARS - 200),
  });
}

function clipStrings(value: unknown, max: number): unknown {
  if (typeof value === 'string') return clip(value, max);
  if (Array.isArray(value)) return value.map((v) => clipStrings(v, max));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clipStrings(v, max)]));
  return value;
}

/** A short stable digest (FNV-1a) for idempotency keys and change detection; not security-relevant. */
export function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16);
}
