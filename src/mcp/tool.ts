import type Letta from '@letta-ai/letta-client';
import { z } from 'zod';
import { ToolError, type ToolOutput } from './output.js';

export { ToolError, type ToolOutput };

/** What every tool handler gets: the SDK client (the only way to the server) and the session's default agent. */
export interface ToolContext {
  client: Letta;
  /** From `agent_id` on the URL, `X-Letta-Agent-Id`, or `LETTA_AGENT_ID` (stdio). */
  defaultAgentId: string | undefined;
}

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint?: boolean;
}

export interface ToolDef<S extends z.ZodObject = z.ZodObject> {
  name: string;
  description: string;
  input: S;
  annotations: ToolAnnotations;
  run(args: z.infer<S>, ctx: ToolContext): Promise<ToolOutput>;
}

export function defineTool<S extends z.ZodObject>(def: ToolDef<S>): ToolDef {
  return def as unknown as ToolDef;
}

export const READ: ToolAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true };
export const WRITE: ToolAnnotations = { readOnlyHint: false, destructiveHint: false, idempotentHint: false };
export const IDEMPOTENT_WRITE: ToolAnnotations = { readOnlyHint: false, destructiveHint: false, idempotentHint: true };
export const DESTRUCTIVE: ToolAnnotations = { readOnlyHint: false, destructiveHint: true, idempotentHint: true };

/**
 * The tool's `inputSchema` as Claude Code accepts it: a plain top-level object without `$schema` (a draft other
 * than 2020-12 is rejected; none at all is the safe choice) and without combinators, which make it drop every tool
 * of the server silently. Schemas are written so that zod emits none; `assertClaudeCompatible` guards that.
 */
export function inputSchemaOf(schema: z.ZodObject): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as Record<string, unknown>;
  delete json.$schema;
  json.properties ??= {};
  return json;
}

const COMBINATORS = ['anyOf', 'oneOf', 'allOf', 'not', '$ref', '$defs', 'definitions'];

/** Throws naming the first rule a schema breaks; run on every tool at server construction and in tests. */
export function assertClaudeCompatible(name: string, schema: Record<string, unknown>): void {
  if (schema.type !== 'object' || typeof schema.properties !== 'object' || schema.properties === null)
    throw new Error(`${name}: inputSchema must be {type:"object", properties}`);
  if ('$schema' in schema) throw new Error(`${name}: inputSchema must not declare $schema`);
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${path}[${i}]`));
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      // `properties` maps parameter names, which may legitimately be called `not` or `anyOf`.
      if (COMBINATORS.includes(key) && !path.endsWith('.properties'))
        throw new Error(`${name}: ${key} at ${path || 'top level'}`);
      walk(value, `${path}.${key}`);
    }
  };
  walk(schema, '');
}

export function requireAgent(agentId: string | undefined, ctx: ToolContext): string {
  const id = agentId || ctx.defaultAgentId;
  if (!id)
    throw new ToolError(
      'agent_id is required: pass it, or set a default agent (LETTA_AGENT_ID, header X-Letta-Agent-Id or ?agent_id=)',
    );
  return id;
}
