import type { Logger } from 'pino';
import { CairnError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { nowIso } from '../lib/time.js';
import {
  LlmError,
  type LlmClient,
  type LlmMessage,
  type LlmProviders,
  type LlmResponse,
  type LlmStreamEvent,
  type LlmToolChoice,
} from '../llm/types.js';
import { estimateRequestTokens } from '../llm/tokens.js';
import type { BlockService } from '../services/block.service.js';
import type { AgentRecord } from '../store/agent.store.js';
import type { Stores } from '../store/index.js';
import { parseJson } from '../store/json.js';
import type { NewMessage } from '../store/message.store.js';
import type { ArchivalPort, RecallPort, ToolContext, ToolDispatcher } from '../tools/executor.js';
import { processApproval } from './approvals.js';
import { compactThread } from './compaction.js';
import { lettaDate, otidFor, toLettaMessages, usesSendMessage, type LettaMessage } from './letta-messages.js';
import { InContextRows } from './message-cache.js';
import {
  messageRow,
  reasoningParts,
  storedToolCalls,
  toLlmMessages,
  type ContentPart,
  type MessageContext,
  type MessageLike,
} from './messages.js';
import { HEARTBEAT_FAILED_REASON, HEARTBEAT_REASON, packedHeartbeat } from './packing.js';
import { setInContextIds, type SystemPrompts } from './system-prompt.js';
import { constraintError, ToolRulesSolver, type ToolRule } from './tool-rules.js';
import { parseArguments, toolReturnRow, Toolset } from './toolset.js';
import {
  contextWindowOf,
  emptyUsage,
  modelHandleOf,
  type StopReason,
  type TurnError,
  type TurnOutcome,
  type TurnRequest,
} from './turn-types.js';

export interface LoopDeps {
  stores: Stores;
  blocks: BlockService;
  dispatcher: ToolDispatcher;
  providers: () => LlmProviders;
  prompts: SystemPrompts;
  archival: () => ArchivalPort | undefined;
  recall: RecallPort;
  logger: Logger;
}

interface LlmConfig {
  max_tokens?: number | null;
  temperature?: number;
  parallel_tool_calls?: boolean | null;
}

const ERROR_TYPES: Record<string, string> = {
  rate_limit: 'llm_rate_limit',
  timeout: 'llm_timeout',
  authentication: 'llm_authentication',
  empty_response: 'llm_empty_response',
};

export function turnErrorFor(error: unknown): { stop: StopReason; error: TurnError } {
  if (error instanceof LlmError) {
    const stop: StopReason =
      error.kind === 'invalid_response' || error.kind === 'empty_response' ? 'invalid_llm_response' : 'llm_api_error';
    const status =
      error.kind === 'rate_limit'
        ? 429
        : error.kind === 'timeout'
          ? 504
          : error.kind === 'bad_request' || error.kind === 'context_window_exceeded'
            ? 400
            : 502;
    return {
      stop,
      error: {
        error_type: ERROR_TYPES[error.kind] ?? 'llm_error',
        message: `LLM error: ${error.message}`,
        detail: error.message,
        status,
      },
    };
  }
  // Cairn's own errors keep their status: a database that gave no connection in time is a 503 mid-turn as well.
  if (error instanceof CairnError)
    return {
      stop: 'error',
      error: { error_type: 'internal_error', message: error.message, detail: error.message, status: error.status },
    };
  return {
    stop: 'error',
    error: {
      error_type: 'internal_error',
      message: 'An unknown error occurred',
      detail: error instanceof Error ? error.message : String(error),
      status: 500,
    },
  };
}

/**
 * One turn of Letta's V3 loop (and V2 heartbeat semantics for memgpt-style agents), §5.3–5.4. It starts from the
 * thread as read under the turn lock; each completed step is persisted in one write batch (its input, assistant,
 * tool and heartbeat rows, the new in-context ids and the step record), so an error or cancel leaves the last
 * consistent step.
 */
export class AgentLoop {
  readonly rows = new InContextRows();

  constructor(private readonly deps: LoopDeps) {}

  async run(req: TurnRequest): Promise<TurnOutcome> {
    const { stores } = this.deps;
    const { agent } = req;
    let ids = req.thread.ids;
    let context: MessageLike[] = req.thread.rows;
    const llm = parseJson<LlmConfig>(agent.llm_config, {});
    const handle = modelHandleOf(agent, req.overrideModel);
    const window = contextWindowOf(agent);
    const client = this.deps.providers().resolve(handle);
    const memgpt = usesSendMessage(agent.agent_type);
    const rules = parseJson<ToolRule[]>(agent.tool_rules, []);
    const solver = new ToolRulesSolver(rules);
    const toolset = new Toolset(req.thread.tools, req.clientTools, memgpt, solver);
    const needsApproval = (name: string) => toolset.isClient(name) || solver.requiresApproval(name);
    const parallelToolCalls = Boolean(llm.parallel_tool_calls) && rules.every((r) => r.type === 'requires_approval');
    // memgpt-style agents speak through `send_message` arguments, so they get whole messages per step.
    const tokenStreaming = req.streamTokens && !memgpt;
    const usage = emptyUsage();
    const produced: LettaMessage[] = [];
    const started = process.hrtime.bigint();
    let ttftNs: number | undefined;
    const toolCtx: ToolContext = {
      agentId: agent.id,
      conversationId: req.conversationId,
      timezone: agent.timezone,
      stores,
      blocks: this.deps.blocks,
      archival: this.deps.archival(),
      recall: this.deps.recall,
      recompile: async (tx, agentId) => {
        await this.deps.prompts.rebuild(tx, agentId, true);
      },
    };
    const msgCtx = (stepId: string | null): MessageContext => ({
      agentId: agent.id,
      conversationId: req.conversationId,
      runId: req.runId,
      stepId,
      model: handle,
    });
    const show = (row: MessageLike, emit: boolean) => {
      for (const m of toLettaMessages(row, { agentType: agent.agent_type, includeCompaction: req.includeCompaction })) {
        produced.push(m);
        if (emit) req.emit(m);
      }
    };

    // Input rows are persisted with the first successful step, never before (§5.3 step 1).
    let pending: NewMessage[] = req.inputs.map((input) =>
      messageRow(msgCtx(null), input.role, input.content, {
        otid: input.otid,
        name: input.name,
        sender_id: input.senderId,
        group_id: input.groupId,
      }),
    );
    if (req.approval) {
      const rows = await processApproval(req.approval, {
        ctx: msgCtx(null),
        toolCtx,
        toolset,
        dispatcher: this.deps.dispatcher,
        solver,
        timezone: agent.timezone,
        window,
      });
      for (const row of rows) if (row.role === 'tool') show(row, true);
      pending = [...rows, ...pending];
    }

    const finish = (stopReason: StopReason, error?: TurnError): TurnOutcome => ({
      stopReason,
      usage,
      messages: produced,
      error,
      ttftNs,
    });
    let overflowRetries = 0;
    for (let step = 0; step < req.maxSteps; step++) {
      // A cancel through this process aborts the signal; one through another process is seen in the run's status.
      // The run was created moments before the first step, so its status is read from the second step on.
      if (req.signal.aborted || (step > 0 && (await stores.runs.statusOf(req.runId)) === 'cancelled'))
        return finish('cancelled');
      const stepId = newId('step');
      const stepStart = performance.now();
      const allowed = solver.allowed(toolset.names());
      const toolChoice: LlmToolChoice =
        allowed.names.length === 0
          ? 'none'
          : allowed.forced
            ? allowed.names.length === 1
              ? { name: allowed.names[0]! }
              : 'required'
            : memgpt
              ? 'required'
              : 'auto';
      let messages = this.requestMessages([...context, ...pending], window, req);
      const toolDefs = toolChoice === 'none' ? [] : toolset.definitions(allowed.names);
      if (usage.step_count === 0) {
        // Before the provider has reported usage, Letta's local estimate decides (§10.1).
        const systemTokens = estimateRequestTokens(messages.slice(0, 1));
        if (systemTokens >= window)
          return finish('context_window_overflow_in_system_prompt', {
            error_type: 'context_window_overflow_in_system_prompt',
            message: `The system prompt alone (${systemTokens} tokens) exceeds the context window (${window} tokens).`,
            detail: 'context_window_overflow_in_system_prompt',
            status: 400,
          });
        if (estimateRequestTokens(messages, toolDefs) > Math.floor(window * 0.9)) {
          const compacted = await this.compact(agent, req, context, client, window, 'context_window_limit', handle);
          if (compacted) {
            context = compacted.context;
            ids = compacted.ids;
            messages = this.requestMessages([...context, ...pending], window, req);
          }
        }
      }
      const assistantId = newId('message');
      const approvalId = newId('message');
      const streamer = new DeltaStreamer(req, assistantId, approvalId, stepId, needsApproval);
      let response: LlmResponse;
      const llmStart = performance.now();
      try {
        response = await client.complete(
          {
            handle,
            messages,
            tools: toolDefs,
            toolChoice,
            maxOutputTokens: llm.max_tokens ?? undefined,
            temperature: llm.temperature,
            parallelToolCalls,
            signal: req.signal,
          },
          // The provider's streaming API only when deltas reach the client, as Letta does: a whole response costs
          // about a third less CPU (no web-stream pipeline, one JSON parse) and answers the same.
          tokenStreaming
            ? (event) => {
                ttftNs ??= Number(process.hrtime.bigint() - started);
                streamer.on(event);
              }
            : undefined,
        );
      } catch (error) {
        if (req.signal.aborted) return finish('cancelled');
        if (error instanceof LlmError && error.kind === 'context_window_exceeded' && overflowRetries < 3) {
          overflowRetries++;
          const compacted = await this.compact(agent, req, context, client, window, 'context_window_exceeded', handle);
          if (compacted) {
            context = compacted.context;
            ids = compacted.ids;
            step--;
            continue;
          }
        }
        const failure = turnErrorFor(error);
        this.deps.logger.warn({ err: error, runId: req.runId }, 'turn step failed');
        return finish(failure.stop, failure.error);
      }
      ttftNs ??= Number(process.hrtime.bigint() - started);
      const llmMs = performance.now() - llmStart;
      usage.prompt_tokens += response.usage.promptTokens;
      usage.completion_tokens += response.usage.completionTokens;
      usage.total_tokens += response.usage.totalTokens;
      usage.step_count += 1;
      usage.context_tokens = response.usage.totalTokens;
      if (response.usage.cachedInputTokens)
        usage.cached_input_tokens = (usage.cached_input_tokens ?? 0) + response.usage.cachedInputTokens;
      if (response.usage.reasoningTokens)
        usage.reasoning_tokens = (usage.reasoning_tokens ?? 0) + response.usage.reasoningTokens;

      const ctx = msgCtx(stepId);
      const stepRows: NewMessage[] = [];
      const parts: ContentPart[] = [
        ...reasoningParts(response.reasoning),
        ...(response.text ? [{ type: 'text' as const, text: response.text }] : []),
      ];
      const serverCalls = response.toolCalls.filter((c) => !needsApproval(c.name));
      const approvalCalls = response.toolCalls.filter((c) => needsApproval(c.name));
      let stop: StopReason | undefined;
      let heartbeat = false;
      let failedCall = false;

      if (parts.length > 0 || serverCalls.length > 0) {
        const row = messageRow(ctx, 'assistant', parts, {
          id: assistantId,
          ...(serverCalls.length ? { tool_calls: JSON.stringify(storedToolCalls(serverCalls)) } : {}),
        });
        stepRows.push(row);
        show(row, !streamer.streamed);
      }
      if (response.toolCalls.length === 0) {
        const missing = solver.uncalledRequiredBeforeExit();
        if (memgpt) stop = 'no_tool_call';
        else if (missing.length > 0) {
          const text = `[This is an automated system message hidden from the user] ToolRuleViolated: You must call ${missing.join(', ')} at least once to exit the loop.`;
          stepRows.push(messageRow(ctx, 'user', [{ type: 'text', text }]));
        } else stop = response.finishReason === 'length' ? 'max_tokens_exceeded' : 'end_turn';
      }
      let terminal = false;
      let continued = false;
      for (const call of serverCalls) {
        const parsed = parseArguments(call.arguments);
        let result;
        if ('error' in parsed) result = { status: 'error' as const, funcReturn: parsed.error };
        else if (!allowed.names.includes(call.name))
          result = { status: 'error' as const, funcReturn: constraintError(call.name, allowed.names) };
        else {
          const args = { ...(solver.initArgs(call.name) ?? {}), ...parsed.args };
          result = await toolset.execute(this.deps.dispatcher, call.id, call.name, args, toolCtx);
          if (parsed.heartbeat) heartbeat = true;
        }
        result = { ...result, funcReturn: toolset.shape(call.name, result.funcReturn) };
        solver.record(call.name, result.funcReturn);
        if (result.status === 'error') failedCall = true;
        if (solver.isTerminal(call.name)) terminal = true;
        if (solver.isContinue(call.name)) continued = true;
        const row = toolReturnRow(ctx, agent.timezone, call.id, call.name, result);
        stepRows.push(row);
        show(row, true);
      }
      if (approvalCalls.length > 0) {
        const row = messageRow(ctx, 'approval', [], {
          id: approvalId,
          otid: otidFor(approvalId, 0),
          tool_calls: JSON.stringify(storedToolCalls(approvalCalls)),
        });
        stepRows.push(row);
        show(row, !streamer.streamed);
        stop = 'requires_approval';
      } else if (serverCalls.length > 0) {
        if (terminal) stop = 'tool_rule';
        else if (memgpt && !(heartbeat || continued || failedCall)) stop = 'end_turn';
        else if (memgpt) {
          const reason = failedCall && !heartbeat ? HEARTBEAT_FAILED_REASON : HEARTBEAT_REASON;
          stepRows.push(messageRow(ctx, 'user', [{ type: 'text', text: packedHeartbeat(reason, agent.timezone) }]));
        }
      }

      const newRows = [...pending, ...stepRows];
      ids = [...ids, ...newRows.map((r) => r.id)];
      const stepStatus = stop && ['no_tool_call', 'max_tokens_exceeded'].includes(stop) ? 'failed' : 'success';
      const overflowing = response.usage.totalTokens > Math.floor(window * 0.9);
      const concluding = stop !== undefined && !overflowing;
      // Writes only, so on PostgreSQL the whole step commits in one round trip.
      await stores.writeBatch(async (tx) => {
        await tx.messages.insertMany(newRows);
        const lastRun = concluding ? await req.conclusion.record(tx, finish(stop!)) : {};
        await setInContextIds(tx, agent.id, req.conversationId, ids, nowIso(), lastRun);
        await tx.runs.insertStep({
          id: stepId,
          run_id: req.runId,
          agent_id: agent.id,
          model: response.model,
          model_handle: handle,
          context_window_limit: window,
          prompt_tokens: response.usage.promptTokens,
          completion_tokens: response.usage.completionTokens,
          total_tokens: response.usage.totalTokens,
          cached_input_tokens: response.usage.cachedInputTokens ?? null,
          reasoning_tokens: response.usage.reasoningTokens ?? null,
          stop_reason: stop ?? null,
          status: stepStatus,
          error_type: null,
          error_data: null,
          llm_ms: Math.round(llmMs),
          duration_ms: Math.round(performance.now() - stepStart),
          created_at: nowIso(),
        });
      });
      if (concluding) req.conclusion.committed();
      this.rows.remember(newRows);
      context = [...context, ...newRows];
      pending = [];
      if (overflowing) {
        const compacted = await this.compact(agent, req, context, client, window, 'context_window_limit', handle);
        if (compacted) {
          context = compacted.context;
          ids = compacted.ids;
        }
      }
      if (stop) return finish(stop);
    }
    return finish('max_steps');
  }

  /** The stored system text (not recompiled per step), plus this request's `<available_skills>` (§5.3). */
  private requestMessages(rows: MessageLike[], window: number, req: TurnRequest): LlmMessage[] {
    const messages = toLlmMessages(rows, window);
    const first = messages[0];
    if (first?.role === 'system') {
      let text = req.overrideSystem ?? first.content;
      if (req.clientSkills.length > 0) {
        const skills = req.clientSkills.map(
          (s) =>
            `<skill>\n<name>${s.name}</name>\n<description>${s.description ?? ''}</description>\n<location>${s.location ?? ''}</location>\n</skill>`,
        );
        text += `\n\n<available_skills>\n${skills.join('\n')}\n</available_skills>`;
      }
      messages[0] = { role: 'system', content: text };
    }
    return messages;
  }

  private async compact(
    agent: AgentRecord,
    req: TurnRequest,
    context: MessageLike[],
    client: LlmClient,
    window: number,
    trigger: string,
    handle: string,
  ) {
    try {
      const result = await compactThread(
        { stores: this.deps.stores, prompts: this.deps.prompts, logger: this.deps.logger },
        { agent, conversationId: req.conversationId, context, client, handle, window, trigger, runId: req.runId },
      );
      // The summary row is new to the cache; the next turn finds it there.
      if (result) this.rows.remember(result.context);
      if (result && req.includeCompaction) {
        req.emit({
          id: newId('message'),
          date: lettaDate(nowIso()),
          message_type: 'event_message',
          event_type: 'compaction',
          event_data: { trigger, context_token_estimate: result.tokensBefore, context_window: window },
          run_id: req.runId,
        });
      }
      return result;
    } catch (error) {
      this.deps.logger.error({ err: error, agentId: agent.id }, 'compaction failed');
      return undefined;
    }
  }
}

/** `stream_tokens`: provider deltas become LettaMessage chunks sharing the parent id and otid (§6.4). */
class DeltaStreamer {
  streamed = false;
  private readonly toolNames = new Map<string, string>();
  private readonly date = lettaDate(nowIso());

  constructor(
    private readonly req: TurnRequest,
    private readonly assistantId: string,
    private readonly approvalId: string,
    private readonly stepId: string,
    private readonly needsApproval: (name: string) => boolean,
  ) {}

  on(event: LlmStreamEvent): void {
    this.streamed = true;
    const base = (id: string, index: number, type: string) => ({
      id,
      date: this.date,
      message_type: type,
      otid: otidFor(id, index),
      step_id: this.stepId,
      name: null,
      sender_id: null,
      is_err: null,
    });
    switch (event.type) {
      case 'reasoning-delta':
        this.req.emit({
          ...base(this.assistantId, 0, 'reasoning_message'),
          source: 'reasoner_model',
          reasoning: event.delta,
          signature: null,
        });
        break;
      case 'text-delta':
        this.req.emit({ ...base(this.assistantId, 1, 'assistant_message'), content: event.delta });
        break;
      case 'tool-call-start':
      case 'tool-call-delta': {
        const name = event.type === 'tool-call-start' ? event.name : this.toolNames.get(event.id);
        if (event.type === 'tool-call-start') this.toolNames.set(event.id, event.name);
        const approval = name !== undefined && this.needsApproval(name);
        const delta =
          event.type === 'tool-call-start'
            ? { name: event.name, arguments: '', tool_call_id: event.id }
            : { name: null, arguments: event.argumentsDelta, tool_call_id: event.id };
        const id = approval ? this.approvalId : this.assistantId;
        this.req.emit({
          ...base(id, approval ? 0 : 2, approval ? 'approval_request_message' : 'tool_call_message'),
          tool_call: delta,
          tool_calls: [delta],
        });
        break;
      }
    }
  }
}
