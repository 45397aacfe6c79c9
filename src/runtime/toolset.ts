import type { LlmToolDefinition } from '../llm/types.js';
import type { ToolRecord } from '../store/tool.store.js';
import { parseJson } from '../store/json.js';
import type { ToolContext, ToolExecutionResult } from '../domain/ports.js';
import type { ToolDispatcher } from '../tools/dispatcher.js';
import { messageRow, type MessageContext, type StoredToolReturn } from '../domain/messages.js';
import { packToolReturn, truncateReturn } from '../domain/packing.js';
import type { ToolRulesSolver } from './tool-rules.js';
import type { NewMessage } from '../store/message.store.js';

export interface ClientTool {
  name: string;
  description?: string | null | undefined;
  parameters?: Record<string, unknown> | null | undefined;
}

const REQUEST_HEARTBEAT_DESCRIPTION =
  'Request an immediate heartbeat after function execution. You MUST set this value to `True` if you want to send a follow-up message or run a follow-up tool call (chain multiple tools together). If set to `False` (the default), then the chain of execution will end immediately after this function call.';

/** Search tools are never truncated (§9). */
const UNTRUNCATED = new Set(['conversation_search', 'archival_memory_search']);

interface ToolEntry {
  name: string;
  definition: LlmToolDefinition;
  toolType: string;
  returnCharLimit: number;
  client: boolean;
}

/** The tools of one turn: the agent's attached tools plus the request's `client_tools` (which win on a name clash). */
export class Toolset {
  private readonly byName = new Map<string, ToolEntry>();

  constructor(tools: ToolRecord[], clientTools: ClientTool[], heartbeats: boolean, solver: ToolRulesSolver) {
    for (const t of tools) {
      const schema = parseJson<{ description?: string; parameters?: Record<string, unknown> }>(t.json_schema, {});
      let parameters = schema.parameters ?? { type: 'object', properties: {}, required: [] };
      if (heartbeats && !solver.isTerminal(t.name)) parameters = withHeartbeat(parameters);
      this.byName.set(t.name, {
        name: t.name,
        definition: { name: t.name, description: schema.description ?? t.description ?? '', parameters },
        toolType: t.tool_type,
        returnCharLimit: t.return_char_limit,
        client: false,
      });
    }
    for (const c of clientTools) {
      this.byName.set(c.name, {
        name: c.name,
        definition: {
          name: c.name,
          description: c.description ?? '',
          parameters: c.parameters ?? { type: 'object', properties: {} },
        },
        toolType: 'client',
        returnCharLimit: Number.MAX_SAFE_INTEGER,
        client: true,
      });
    }
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  definitions(names: string[]): LlmToolDefinition[] {
    return names.flatMap((n) => this.byName.get(n)?.definition ?? []);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  isClient(name: string): boolean {
    return this.byName.get(name)?.client ?? false;
  }

  async execute(
    dispatcher: ToolDispatcher,
    id: string,
    name: string,
    args: Record<string, unknown>,
    ctx: ToolContext,
  ): Promise<ToolExecutionResult> {
    const entry = this.byName.get(name);
    if (!entry) return { status: 'error', funcReturn: `Tool ${name} not found` };
    return dispatcher.execute({ id, name, args }, entry.toolType, ctx);
  }

  /** `return_char_limit` truncation with Letta's notice, except for the search tools. */
  shape(name: string, text: string): string {
    const entry = this.byName.get(name);
    if (!entry || UNTRUNCATED.has(name)) return text;
    return truncateReturn(text, entry.returnCharLimit);
  }
}

function withHeartbeat(parameters: Record<string, unknown>): Record<string, unknown> {
  const props = {
    ...((parameters.properties as Record<string, unknown>) ?? {}),
    request_heartbeat: { type: 'boolean', description: REQUEST_HEARTBEAT_DESCRIPTION },
  };
  const required = [
    ...((parameters.required as string[]) ?? []).filter((r) => r !== 'request_heartbeat'),
    'request_heartbeat',
  ];
  return { ...parameters, properties: props, required };
}

/** The stored `role=tool` row for a result: the status/message/time envelope the model sees, the bare return the API shows. */
export function toolReturnRow(
  ctx: MessageContext,
  timezone: string,
  toolCallId: string,
  name: string,
  result: ToolExecutionResult,
): NewMessage {
  const ok = result.status === 'success';
  const ret: StoredToolReturn = {
    tool_call_id: toolCallId,
    status: result.status,
    stdout: result.stdout ?? null,
    stderr: result.stderr ?? null,
    func_response: result.funcReturn,
  };
  return messageRow(ctx, 'tool', [{ type: 'text', text: packToolReturn(ok, result.funcReturn, timezone) }], {
    name,
    tool_call_id: toolCallId,
    tool_returns: JSON.stringify([ret]),
    is_err: ok ? 0 : 1,
  });
}

/** Parses model-produced arguments; `request_heartbeat` and `thinking` are loop controls, not tool inputs. */
export function parseArguments(raw: string): { args: Record<string, unknown>; heartbeat: boolean } | { error: string } {
  let parsed: unknown;
  try {
    parsed = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch (error) {
    return {
      error: `Error: Invalid JSON in tool call arguments: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { error: 'Error: tool call arguments must be a JSON object' };
  const { request_heartbeat, thinking: _thinking, ...args } = parsed as Record<string, unknown>;
  return { args, heartbeat: request_heartbeat === true || request_heartbeat === 'true' };
}
