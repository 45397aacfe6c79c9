import type { FastifyRequest } from 'fastify';
import { CairnError, type ValidationIssue } from '../lib/errors.js';

/**
 * The most items any array in a JSON body may hold. The body limit bounds bytes, not work: 10 MiB of `[0,0,…]` is
 * five million items for zod to check and the services to turn into rows or calls. Letta's own lists (messages,
 * ids, tags, tool rules, an embedding vector of a few thousand floats) stay far below this; agent-file imports,
 * which legitimately carry tens of thousands of messages, arrive as multipart files and are not counted here.
 */
export const MAX_ARRAY_ITEMS = 10_000;

/** The longest query string accepted, in bytes as sent (percent-encoded): about what browsers and proxies allow. */
export const MAX_QUERY_STRING_BYTES = 8_192;

/**
 * Every array in a parsed JSON body longer than {@link MAX_ARRAY_ITEMS}, as Pydantic's `too_long` issues naming
 * the field. The walk is iterative (a deeply nested body must not exhaust the stack) and does not descend into an
 * array it refuses, so it costs no more than the JSON parse that produced the value.
 */
export function oversizedArrays(body: unknown): ValidationIssue[] {
  // Each entry points at its parent, so a location is built only for an issue: copying it at every level would be
  // quadratic in the depth, and a body nested 100,000 deep would hold the event loop for minutes.
  type Entry = { value: unknown; key: string | number; parent: Entry | undefined };
  const locOf = (entry: Entry): (string | number)[] => {
    const loc: (string | number)[] = [];
    for (let at: Entry | undefined = entry; at; at = at.parent) loc.unshift(at.key);
    return loc;
  };
  const issues: ValidationIssue[] = [];
  const pending: Entry[] = [{ value: body, key: 'body', parent: undefined }];
  for (let entry = pending.pop(); entry; entry = pending.pop()) {
    const { value } = entry;
    if (Array.isArray(value)) {
      if (value.length > MAX_ARRAY_ITEMS) {
        issues.push({
          type: 'too_long',
          loc: locOf(entry),
          msg: `List should have at most ${MAX_ARRAY_ITEMS} items after validation, not ${value.length}`,
        });
        continue;
      }
      value.forEach((item: unknown, index) => pending.push({ value: item, key: index, parent: entry }));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) pending.push({ value: item, key, parent: entry });
    }
  }
  return issues;
}

/** An onRequest hook: a query string over {@link MAX_QUERY_STRING_BYTES} is a 414 before any parsing. */
export async function refuseLongQueryString(request: FastifyRequest): Promise<void> {
  const start = request.url.indexOf('?');
  const length = start < 0 ? 0 : request.url.length - start - 1;
  if (length > MAX_QUERY_STRING_BYTES)
    throw new CairnError(414, `The query string is ${length} bytes; at most ${MAX_QUERY_STRING_BYTES} are accepted`);
}
