import type { Logger } from 'pino';
import { toLettaMessages, usesSendMessage, type LettaMessage, lettaDate, otidFor } from '../domain/letta-messages.js';
import { messageRow, type ContentPart, type MessageContext, type MessageLike } from '../domain/messages.js';
import { HEARTBEAT_FAILED_REASON, HEARTBEAT_REASON, packedHeartbeat } from '../domain/packing.js';
import type {
  AgentMessenger,
  AgentStatePort,
  ArchivalPort,
  BlockWriter,
  RecallPort,
  ToolContext,
  ToolExecutionResult,
} from '../domain/ports.js';
import type { ToolRule } from '../domain/tool-rules.js';
import { newId } from '../lib/ids.js';
import { nowIso } from '../lib/time.js';
import { estimateRequestTokens } from '../llm/tokens.js';
import {
  LlmError,
  type LlmClient,
  type LlmMessage,
  type LlmProviders,
  type LlmResponse,
  type LlmToolCall,
  type LlmToolChoice,
  type LlmToolDefinition,
} from '../llm/types.js';
import type { Stores } from '../store/index.js';
import { parseJson } from '../store/json.js';
import type { NewMessage } from '../store/message.store.js';
import type { ToolDispatcher } from '../tools/dispatcher.js';
import { processApproval } from './approvals.js';
import { compactThread } from './compaction.js';
import { DeltaStreamer } from './delta-streamer.js';
import { reasoningParts, storedToolCalls, toLlmMessages } from './llm-messages.js';
import { InContextRows } from './message-cache.js';
import { setInContextIds, type SystemPrompts } from './system-prompt.js';
import { turnErrorFor } from './turn-errors.js';
import { constraintError, ToolRulesSolver } from './tool-rules.js';
import { toolContextFor } from './tool-context.js';
import { parseArguments, toolReturnRow, Toolset } from './toolset.js';
import { type TurnRequest } from './turn-types.js';
import {
  contextWindowOf,
  emptyUsage,
  modelHandleOf,
  type StopReason,
  type TurnError,
  type TurnOutcome,
} from '../domain/turns.js';

export interface LoopDeps {
  stores: Stores;
  blocks: BlockWriter;
  dispatcher: ToolDispatcher;
  providers: LlmProviders;
  prompts: SystemPrompts;
  archival: ArchivalPort;
  recall: RecallPort;
  agentStates?: AgentStatePort | undefined;
  messenger?: AgentMessenger | undefined;
  logger: Logger;
}

interface LlmConfig {
  max_tokens?: number | null;
  temperature?: number;
  parallel_tool_calls?: boolean | null;
}

/** The tools the model may call in a step and how it must choose among them (tool rules, §5.5). */
interface ToolPlan {
  allowed: string[];
  choice: LlmToolChoice;
  definitions: LlmToolDefinition[];
}

/** What the server-side tool calls of a step did, as the stop decision needs it. */
interface ToolRun {
  rows: NewMessage[];
  terminal: boolean;
  continued: boolean;
  heartbeat: boolean;
  failed: boolean;
}

/** How a step ends the turn (or not), and the automated user message it adds for the next step. */
interface StopDecision {
  stop: StopReason | undefined;
  notice: string | undefined;
}

/** A model call: its response, or an ending for the turn, or a request to run the step again after compaction. */
type ModelCall =
  | { kind: 'response'; response: LlmResponse; llmMs: number; streamer: DeltaStreamer }
  | { kind: 'end'; outcome: TurnOutcome }
  | { kind: 'retry' };

/** Letta's context-overflow threshold: compaction starts at 90 % of the window (§10.1). */
const OVERFLOW_FRACTION = 0.9;
/** Compactions after a provider's "context window exceeded" before the turn fails with it. */
const MAX_OVERFLOW_RETRIES = 3;

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
    return new Turn(this.deps, this.rows, req).run();
  }
}

/** The state of one running turn; each method is one named step of the loop. */
class Turn {
  private ids: string[];
  private context: MessageLike[];
  /** Rows of this turn not yet persisted: the input, then any approval answers (§5.3 step 1). */
  private pending: NewMessage[] = [];
  private readonly usage = emptyUsage();
  private readonly produced: LettaMessage[] = [];
  private readonly started = process.hrtime.bigint();
  private ttftNs: number | undefined;
  private overflowRetries = 0;

  private readonly llm: LlmConfig;
  private readonly handle: string;
  private readonly window: number;
  private readonly client: LlmClient;
  private readonly memgpt: boolean;
  private readonly rules: ToolRule[];
  private readonly solver: ToolRulesSolver;
  private readonly toolset: Toolset;
  private readonly toolCtx: ToolContext;

  constructor(
    private readonly deps: LoopDeps,
    private readonly cache: InContextRows,
    private readonly req: TurnRequest,
  ) {
    const { agent } = req;
    this.ids = req.thread.ids;
    this.context = req.thread.rows;
    this.llm = parseJson<LlmConfig>(agent.llm_config, {});
    this.handle = modelHandleOf(agent, req.overrideModel);
    this.window = contextWindowOf(agent);
    this.client = deps.providers.resolve(this.handle);
    this.memgpt = usesSendMessage(agent.agent_type);
    this.rules = parseJson<ToolRule[]>(agent.tool_rules, []);
    this.solver = new ToolRulesSolver(this.rules);
    this.toolset = new Toolset(req.thread.tools, req.clientTools, this.memgpt, this.solver);
    this.toolCtx = toolContextFor(deps, agent, req.conversationId, req.runId);
  }

  async run(): Promise<TurnOutcome> {
    await this.takeInput();
    for (let step = 0; step < this.req.maxSteps; step++) {
      if (await this.cancelled(step)) return this.finish('cancelled');
      const result = await this.step();
      if (result === 'retry') step--;
      else if (result) return result;
    }
    return this.finish('max_steps');
  }

  /** The input rows, persisted with the first successful step, after the answers to a pending approval. */
  private async takeInput(): Promise<void> {
    this.pending = this.req.inputs.map((input) =>
      messageRow(this.messageContext(null), input.role, input.content, {
        otid: input.otid,
        name: input.name,
        sender_id: input.senderId,
        group_id: input.groupId,
      }),
    );
    if (!this.req.approval) return;
    const rows = await processApproval(this.req.approval, {
      ctx: this.messageContext(null),
      toolCtx: this.toolCtx,
      toolset: this.toolset,
      dispatcher: this.deps.dispatcher,
      solver: this.solver,
      timezone: this.req.agent.timezone,
      window: this.window,
    });
    for (const row of rows) if (row.role === 'tool') this.show(row, true);
    this.pending = [...rows, ...this.pending];
  }

  /**
   * A cancel through this process aborts the signal; one through another process is seen in the run's status. The
   * run was created moments before the first step, so its status is read from the second step on.
   */
  private async cancelled(step: number): Promise<boolean> {
    if (this.req.signal.aborted) return true;
    return step > 0 && (await this.deps.stores.runs.statusOf(this.req.runId)) === 'cancelled';
  }

  /** One step: choose the tools, call the model, run its tool calls, decide the stop, persist. */
  private async step(): Promise<TurnOutcome | 'retry' | undefined> {
    const stepId = newId('step');
    const stepStart = performance.now();
    const plan = this.chooseTools();
    const messages = await this.fittedRequest(plan);
    if (!Array.isArray(messages)) return messages;
    const call = await this.callModel(stepId, messages, plan);
    if (call.kind === 'end') return call.outcome;
    if (call.kind === 'retry') return 'retry';
    const { response } = call;
    this.countUsage(response);

    const ctx = this.messageContext(stepId);
    const serverCalls = response.toolCalls.filter((c) => !this.needsApproval(c.name));
    const approvalCalls = response.toolCalls.filter((c) => this.needsApproval(c.name));
    const rows: NewMessage[] = [];
    const assistant = this.assistantRow(ctx, response, serverCalls, call.streamer);
    if (assistant) rows.push(assistant);
    const tools = await this.runTools(ctx, serverCalls, plan);
    rows.push(...tools.rows);
    if (approvalCalls.length > 0) rows.push(this.approvalRow(ctx, approvalCalls, call.streamer));
    const decision = this.decideStop(response, serverCalls.length, approvalCalls.length, tools);
    if (decision.notice) rows.push(messageRow(ctx, 'user', [{ type: 'text', text: decision.notice }]));

    return this.persist(stepId, stepStart, call, rows, decision.stop);
  }

  private needsApproval(name: string): boolean {
    return this.toolset.isClient(name) || this.solver.requiresApproval(name);
  }

  private chooseTools(): ToolPlan {
    const { names, forced } = this.solver.allowed(this.toolset.names());
    const choice: LlmToolChoice =
      names.length === 0
        ? 'none'
        : forced
          ? names.length === 1
            ? { name: names[0]! }
            : 'required'
          : this.memgpt
            ? 'required'
            : 'auto';
    return { allowed: names, choice, definitions: choice === 'none' ? [] : this.toolset.definitions(names) };
  }

  /**
   * The provider request's messages. Before the provider has reported usage, Letta's local estimate decides whether
   * the thread must be compacted first, and a system prompt that alone overflows the window ends the turn (§10.1).
   */
  private async fittedRequest(plan: ToolPlan): Promise<LlmMessage[] | TurnOutcome> {
    let messages = this.requestMessages();
    if (this.usage.step_count > 0) return messages;
    const systemTokens = estimateRequestTokens(messages.slice(0, 1));
    if (systemTokens >= this.window)
      return this.finish('context_window_overflow_in_system_prompt', {
        error_type: 'context_window_overflow_in_system_prompt',
        message: `The system prompt alone (${systemTokens} tokens) exceeds the context window (${this.window} tokens).`,
        detail: 'context_window_overflow_in_system_prompt',
        status: 400,
      });
    if (estimateRequestTokens(messages, plan.definitions) > Math.floor(this.window * OVERFLOW_FRACTION)) {
      if (await this.compact('context_window_limit')) messages = this.requestMessages();
    }
    return messages;
  }

  /** The stored system text (not recompiled per step), plus this request's `<available_skills>` (§5.3). */
  private requestMessages(): LlmMessage[] {
    const messages = toLlmMessages([...this.context, ...this.pending], this.window);
    const first = messages[0];
    if (first?.role === 'system') {
      let text = this.req.overrideSystem ?? first.content;
      if (this.req.clientSkills.length > 0) {
        const skills = this.req.clientSkills.map(
          (s) =>
            `<skill>\n<name>${s.name}</name>\n<description>${s.description ?? ''}</description>\n<location>${s.location ?? ''}</location>\n</skill>`,
        );
        text += `\n\n<available_skills>\n${skills.join('\n')}\n</available_skills>`;
      }
      messages[0] = { role: 'system', content: text };
    }
    return messages;
  }

  private async callModel(stepId: string, messages: LlmMessage[], plan: ToolPlan): Promise<ModelCall> {
    const assistantId = newId('message');
    const approvalId = newId('message');
    const streamer = new DeltaStreamer(
      (chunk) => this.req.emit(chunk),
      assistantId,
      approvalId,
      stepId,
      (name) => this.needsApproval(name),
    );
    // memgpt-style agents speak through `send_message` arguments, so they get whole messages per step.
    const tokenStreaming = this.req.streamTokens && !this.memgpt;
    const llmStart = performance.now();
    try {
      const response = await this.client.complete(
        {
          handle: this.handle,
          messages,
          tools: plan.definitions,
          toolChoice: plan.choice,
          maxOutputTokens: this.llm.max_tokens ?? undefined,
          temperature: this.llm.temperature,
          parallelToolCalls:
            Boolean(this.llm.parallel_tool_calls) && this.rules.every((r) => r.type === 'requires_approval'),
          signal: this.req.signal,
        },
        // The provider's streaming API only when deltas reach the client, as Letta does: a whole response costs
        // about a third less CPU (no web-stream pipeline, one JSON parse) and answers the same.
        tokenStreaming
          ? (event) => {
              this.ttftNs ??= this.elapsedNs();
              streamer.on(event);
            }
          : undefined,
      );
      this.ttftNs ??= this.elapsedNs();
      return { kind: 'response', response, llmMs: performance.now() - llmStart, streamer };
    } catch (error) {
      if (this.req.signal.aborted) return { kind: 'end', outcome: this.finish('cancelled') };
      if (
        error instanceof LlmError &&
        error.kind === 'context_window_exceeded' &&
        this.overflowRetries < MAX_OVERFLOW_RETRIES
      ) {
        this.overflowRetries++;
        if (await this.compact('context_window_exceeded')) return { kind: 'retry' };
      }
      const failure = turnErrorFor(error);
      this.deps.logger.warn({ err: error, runId: this.req.runId }, 'turn step failed');
      return { kind: 'end', outcome: this.finish(failure.stop, failure.error) };
    }
  }

  private countUsage({ usage: u }: LlmResponse): void {
    const usage = this.usage;
    usage.prompt_tokens += u.promptTokens;
    usage.completion_tokens += u.completionTokens;
    usage.total_tokens += u.totalTokens;
    usage.step_count += 1;
    usage.context_tokens = u.totalTokens;
    if (u.cachedInputTokens) usage.cached_input_tokens = (usage.cached_input_tokens ?? 0) + u.cachedInputTokens;
    if (u.reasoningTokens) usage.reasoning_tokens = (usage.reasoning_tokens ?? 0) + u.reasoningTokens;
  }

  /** The model's reasoning, text and server-side tool calls as one assistant row (none when it produced none). */
  private assistantRow(
    ctx: MessageContext,
    response: LlmResponse,
    serverCalls: LlmToolCall[],
    streamer: DeltaStreamer,
  ): NewMessage | undefined {
    const parts: ContentPart[] = [
      ...reasoningParts(response.reasoning),
      ...(response.text ? [{ type: 'text' as const, text: response.text }] : []),
    ];
    if (parts.length === 0 && serverCalls.length === 0) return undefined;
    const row = messageRow(ctx, 'assistant', parts, {
      id: streamer.assistantId,
      ...(serverCalls.length ? { tool_calls: JSON.stringify(storedToolCalls(serverCalls)) } : {}),
    });
    this.show(row, !streamer.streamed);
    return row;
  }

  /** Runs the server-side tool calls in order, each result shaped, recorded by the rules and shown. */
  private async runTools(ctx: MessageContext, calls: LlmToolCall[], plan: ToolPlan): Promise<ToolRun> {
    const run: ToolRun = { rows: [], terminal: false, continued: false, heartbeat: false, failed: false };
    for (const call of calls) {
      const parsed = parseArguments(call.arguments);
      let result: ToolExecutionResult;
      if ('error' in parsed) result = { status: 'error', funcReturn: parsed.error };
      else if (!plan.allowed.includes(call.name))
        result = { status: 'error', funcReturn: constraintError(call.name, plan.allowed) };
      else {
        const args = { ...(this.solver.initArgs(call.name) ?? {}), ...parsed.args };
        result = await this.toolset.execute(this.deps.dispatcher, call.id, call.name, args, this.toolCtx);
        if (parsed.heartbeat) run.heartbeat = true;
      }
      result = { ...result, funcReturn: this.toolset.shape(call.name, result.funcReturn) };
      this.solver.record(call.name, result.funcReturn);
      if (result.status === 'error') run.failed = true;
      if (this.solver.isTerminal(call.name)) run.terminal = true;
      if (this.solver.isContinue(call.name)) run.continued = true;
      const row = toolReturnRow(ctx, this.req.agent.timezone, call.id, call.name, result);
      run.rows.push(row);
      this.show(row, true);
    }
    return run;
  }

  /** Calls that wait for the client (client-side tools, `requires_approval` rules) become one approval request. */
  private approvalRow(ctx: MessageContext, calls: LlmToolCall[], streamer: DeltaStreamer): NewMessage {
    const row = messageRow(ctx, 'approval', [], {
      id: streamer.approvalId,
      otid: otidFor(streamer.approvalId, 0),
      tool_calls: JSON.stringify(storedToolCalls(calls)),
    });
    this.show(row, !streamer.streamed);
    return row;
  }

  /** Letta's stop rules (§5.3–5.4): what ends the turn after this step, and what the next step is told. */
  private decideStop(response: LlmResponse, serverCalls: number, approvalCalls: number, tools: ToolRun): StopDecision {
    if (response.toolCalls.length === 0) {
      if (this.memgpt) return { stop: 'no_tool_call', notice: undefined };
      const missing = this.solver.uncalledRequiredBeforeExit();
      if (missing.length > 0)
        return {
          stop: undefined,
          notice: `[This is an automated system message hidden from the user] ToolRuleViolated: You must call ${missing.join(', ')} at least once to exit the loop.`,
        };
      return { stop: response.finishReason === 'length' ? 'max_tokens_exceeded' : 'end_turn', notice: undefined };
    }
    if (approvalCalls > 0) return { stop: 'requires_approval', notice: undefined };
    if (serverCalls === 0 || !(tools.terminal || this.memgpt)) return { stop: undefined, notice: undefined };
    if (tools.terminal) return { stop: 'tool_rule', notice: undefined };
    if (!(tools.heartbeat || tools.continued || tools.failed)) return { stop: 'end_turn', notice: undefined };
    const reason = tools.failed && !tools.heartbeat ? HEARTBEAT_FAILED_REASON : HEARTBEAT_REASON;
    return { stop: undefined, notice: packedHeartbeat(reason, this.req.agent.timezone) };
  }

  /**
   * Writes the step as one batch: its rows, the thread's new in-context ids and the step record, and, when the step
   * ends the turn and needs no compaction after it, the run's end as well, so a turn ends with one commit.
   */
  private async persist(
    stepId: string,
    stepStart: number,
    call: Extract<ModelCall, { kind: 'response' }>,
    stepRows: NewMessage[],
    stop: StopReason | undefined,
  ): Promise<TurnOutcome | undefined> {
    const { agent } = this.req;
    const { response } = call;
    const newRows = [...this.pending, ...stepRows];
    this.ids = [...this.ids, ...newRows.map((r) => r.id)];
    const overflowing = response.usage.totalTokens > Math.floor(this.window * OVERFLOW_FRACTION);
    const concluding = stop !== undefined && !overflowing;
    // Writes only, so on PostgreSQL the whole step commits in one round trip.
    await this.deps.stores.writeBatch(async (tx) => {
      await tx.messages.insertMany(newRows);
      const lastRun = concluding ? await this.req.conclusion.record(tx, this.finish(stop)) : {};
      await setInContextIds(tx, agent.id, this.req.conversationId, this.ids, nowIso(), lastRun);
      await tx.runs.insertStep({
        id: stepId,
        run_id: this.req.runId,
        agent_id: agent.id,
        model: response.model,
        model_handle: this.handle,
        context_window_limit: this.window,
        prompt_tokens: response.usage.promptTokens,
        completion_tokens: response.usage.completionTokens,
        total_tokens: response.usage.totalTokens,
        cached_input_tokens: response.usage.cachedInputTokens ?? null,
        reasoning_tokens: response.usage.reasoningTokens ?? null,
        stop_reason: stop ?? null,
        status: stop === 'no_tool_call' || stop === 'max_tokens_exceeded' ? 'failed' : 'success',
        error_type: null,
        error_data: null,
        llm_ms: Math.round(call.llmMs),
        duration_ms: Math.round(performance.now() - stepStart),
        created_at: nowIso(),
      });
    });
    if (concluding) this.req.conclusion.committed();
    this.cache.remember(newRows);
    this.context = [...this.context, ...newRows];
    this.pending = [];
    if (overflowing) await this.compact('context_window_limit');
    return stop ? this.finish(stop) : undefined;
  }

  /** Summarises the thread's older messages (§10); a failure is logged and the turn goes on uncompacted. */
  private async compact(trigger: string): Promise<boolean> {
    const { req } = this;
    try {
      const result = await compactThread(
        { stores: this.deps.stores, prompts: this.deps.prompts, logger: this.deps.logger },
        {
          agent: req.agent,
          conversationId: req.conversationId,
          context: this.context,
          client: this.client,
          handle: this.handle,
          window: this.window,
          trigger,
          runId: req.runId,
        },
      );
      if (!result) return false;
      // The summary row is new to the cache; the next turn finds it there.
      this.cache.remember(result.context);
      this.context = result.context;
      this.ids = result.ids;
      if (req.includeCompaction) {
        req.emit({
          id: newId('message'),
          date: lettaDate(nowIso()),
          message_type: 'event_message',
          event_type: 'compaction',
          event_data: { trigger, context_token_estimate: result.tokensBefore, context_window: this.window },
          run_id: req.runId,
        });
      }
      return true;
    } catch (error) {
      this.deps.logger.error({ err: error, agentId: req.agent.id }, 'compaction failed');
      return false;
    }
  }

  private messageContext(stepId: string | null): MessageContext {
    return {
      agentId: this.req.agent.id,
      conversationId: this.req.conversationId,
      runId: this.req.runId,
      stepId,
      model: this.handle,
    };
  }

  private show(row: MessageLike, emit: boolean): void {
    const options = { agentType: this.req.agent.agent_type, includeCompaction: this.req.includeCompaction };
    for (const m of toLettaMessages(row, options)) {
      this.produced.push(m);
      if (emit) this.req.emit(m);
    }
  }

  private elapsedNs(): number {
    return Number(process.hrtime.bigint() - this.started);
  }

  private finish(stopReason: StopReason, error?: TurnError): TurnOutcome {
    return { stopReason, usage: this.usage, messages: this.produced, error, ttftNs: this.ttftNs };
  }
}
