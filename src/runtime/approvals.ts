import { badRequest } from '../lib/errors.js';
import type { NewMessage } from '../store/message.store.js';
import type { ToolContext, ToolExecutionResult } from '../domain/ports.js';
import type { ToolDispatcher } from '../tools/dispatcher.js';
import {
  messageRow,
  toolCallsOf,
  type ApprovalEntry,
  type MessageContext,
  type MessageLike,
} from '../domain/messages.js';
import { DENIED, KEEP_ALIVE_PING } from '../domain/packing.js';
import { toolReturnClip } from './llm-messages.js';
import type { ToolRulesSolver } from './tool-rules.js';
import { parseArguments, toolReturnRow, type Toolset } from './toolset.js';
import type { ApprovalInput } from './turn-types.js';

/** Raw approval items as clients send them (§4.5), before normalisation. */
export interface RawApproval {
  type?: string | null;
  tool_call_id?: string | null;
  approve?: boolean | null;
  reason?: string | null;
  status?: string | null;
  tool_return?: unknown;
  stdout?: string[] | null;
  stderr?: string[] | null;
}

function returnText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value))
    return value.map((p: { type?: string; text?: string }) => (p?.type === 'text' ? (p.text ?? '') : '')).join('\n');
  return value === undefined || value === null ? '' : JSON.stringify(value);
}

export function normalizeApprovals(items: RawApproval[]): ApprovalEntry[] {
  return items.map((a): ApprovalEntry => {
    if (a.type === 'tool' || (a.type !== 'approval' && a.tool_return !== undefined)) {
      return {
        type: 'tool',
        tool_call_id: a.tool_call_id ?? '',
        status: a.status === 'error' ? 'error' : 'success',
        tool_return: returnText(a.tool_return),
        stdout: a.stdout ?? null,
        stderr: a.stderr ?? null,
      };
    }
    return {
      type: 'approval',
      tool_call_id: a.tool_call_id ?? '',
      approve: a.approve !== false,
      reason: a.reason ?? null,
    };
  });
}

/**
 * Checks an approval reply against the thread's last in-context message (§5.6): ids must match the pending
 * calls; with nothing pending, a reply whose calls were already answered is an idempotent retry.
 */
export async function resolveApproval(
  last: MessageLike | undefined,
  entries: ApprovalEntry[],
  otid: string | null,
  alreadyAnswered: (ids: string[]) => Promise<boolean>,
): Promise<ApprovalInput> {
  const pending = last && last.role === 'approval' ? toolCallsOf(last) : [];
  if (pending.length === 0) {
    if (await alreadyAnswered(entries.map((e) => e.tool_call_id))) return { kind: 'keep_alive' };
    throw badRequest('Cannot process approval response: No tool call is currently awaiting approval.');
  }
  const expected = pending.map((c) => c.id).sort();
  const got = entries.map((e) => e.tool_call_id).sort();
  if (expected.length !== got.length || expected.some((id, i) => id !== got[i])) {
    throw badRequest(
      `Invalid tool call IDs. Expected '${JSON.stringify(expected)}', but received '${JSON.stringify(got)}'. Invalid tool call ids in approval response.`,
    );
  }
  return { kind: 'reply', request: last!, entries, otid };
}

export interface ApprovalDeps {
  ctx: MessageContext;
  toolCtx: ToolContext;
  toolset: Toolset;
  dispatcher: ToolDispatcher;
  solver: ToolRulesSolver;
  timezone: string;
  window: number;
}

/**
 * Turns the reply into rows: the `role=approval` response, then one tool return per pending call — approved calls
 * run through the executor, denials become Letta's error text, client returns are clipped (§5.6 step 4).
 */
export async function processApproval(input: ApprovalInput, deps: ApprovalDeps): Promise<NewMessage[]> {
  if (input.kind === 'keep_alive') return [messageRow(deps.ctx, 'user', [{ type: 'text', text: KEEP_ALIVE_PING }])];
  const clip = toolReturnClip(deps.window);
  const first = input.entries[0];
  const rows: NewMessage[] = [
    messageRow(deps.ctx, 'approval', [], {
      otid: input.otid,
      approvals: JSON.stringify(input.entries),
      approval_request_id: input.request.id,
      approve: first?.type === 'approval' ? (first.approve ? 1 : 0) : null,
      denial_reason: first?.type === 'approval' && !first.approve ? (first.reason ?? null) : null,
    }),
  ];
  const byId = new Map(input.entries.map((e) => [e.tool_call_id, e]));
  for (const call of toolCallsOf(input.request)) {
    const entry = byId.get(call.id)!;
    let result: ToolExecutionResult;
    if (entry.type === 'tool') {
      result = {
        status: entry.status,
        funcReturn: entry.tool_return.slice(0, clip),
        stdout: entry.stdout ?? null,
        stderr: entry.stderr ?? null,
      };
    } else if (!entry.approve) {
      result = { status: 'error', funcReturn: DENIED(entry.reason) };
    } else {
      const parsed = parseArguments(call.function.arguments);
      result =
        'error' in parsed
          ? { status: 'error', funcReturn: parsed.error }
          : await deps.toolset.execute(deps.dispatcher, call.id, call.function.name, parsed.args, deps.toolCtx);
      result = { ...result, funcReturn: deps.toolset.shape(call.function.name, result.funcReturn) };
    }
    deps.solver.record(call.function.name, result.funcReturn);
    rows.push(toolReturnRow(deps.ctx, deps.timezone, call.id, call.function.name, result));
  }
  return rows;
}
