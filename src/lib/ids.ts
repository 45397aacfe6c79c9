import { randomUUID } from 'node:crypto';

/** Letta's primitive id prefixes (`letta/schemas/enums.py:PrimitiveType`). */
export const ID_PREFIXES = [
  'agent',
  'block',
  'tool',
  'message',
  'step',
  'passage',
  'archive',
  'file',
  'group',
  'identity',
  'provider',
  'user',
  'org',
  'run',
  'job',
  'source',
  'conv',
  'model',
  'sandbox',
  'mcp_server',
  'ping',
  'file_agent',
] as const;

export type IdPrefix = (typeof ID_PREFIXES)[number];

const UUID4 = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

const patterns = new Map<string, RegExp>();

export function idPattern(prefix: IdPrefix): RegExp {
  let pattern = patterns.get(prefix);
  if (!pattern) {
    pattern = new RegExp(`^${prefix}-${UUID4}$`);
    patterns.set(prefix, pattern);
  }
  return pattern;
}

export function newId(prefix: IdPrefix): string {
  return `${prefix}-${randomUUID()}`;
}

export function isId(prefix: IdPrefix, value: string): boolean {
  return idPattern(prefix).test(value);
}
