import type { Logger } from 'pino';
import { badRequest, notFound } from '../lib/errors.js';
import type { StaleTiming } from '../lib/heartbeat-sweep.js';
import type { LlmProviders } from '../llm/types.js';
import type { MemoryEventBus } from '../domain/memory-events.js';
import type { Stores } from '../store/index.js';
import { parseJson } from '../store/json.js';
import { CoreToolExecutor } from '../tools/builtin/core-tools.js';
import type {
  AgentStatePort,
  ArchivalPort,
  BlockWriter,
  RecallPort,
  ToolExecutionResult,
  ToolExecutor,
} from '../domain/ports.js';
import { randomUUID } from 'node:crypto';
import { truncateReturn } from '../domain/packing.js';
import { toolContextFor } from './tool-context.js';
import { FileToolExecutor } from '../tools/builtin/file-tools.js';
import { MultiAgentToolExecutor } from '../tools/builtin/multi-agent-tools.js';
import { TurnMessenger } from './agent-messenger.js';
import type { FilesPort } from '../domain/files.js';
import { ToolDispatcher } from '../tools/dispatcher.js';
import { compactThread, estimateThreadTokens } from './compaction.js';
import { AgentLoop } from './loop.js';
import { contentOf, toStoredMessage, type MessageLike } from '../domain/messages.js';
import { inContextIds, SystemPrompts } from './system-prompt.js';
import { systemSections } from './context-sections.js';
import { asRequestError } from './turn-errors.js';
import { TurnService, type ConstraintErrors } from './turns.js';
import { contextWindowOf, emptyUsage, modelHandleOf } from '../domain/turns.js';
import { missing } from '../domain/errors.js';

export interface RuntimeDeps {
  stores: Stores;
  blocks: BlockWriter;
  events: MemoryEventBus;
  providers: LlmProviders;
  archival: ArchivalPort;
  recall: RecallPort;
  files: FilesPort;
  constraints: ConstraintErrors;
  logger: Logger;
  /** Executors of further kinds of tools (custom sandboxed, MCP), asked before the built-in tools: they match by type, the built-ins by name. */
  toolExecutors?: ToolExecutor[];
  agentStates?: AgentStatePort;
}

/** The agent runtime: system prompts kept in step with memory, the loop, and turns (runs) started from the API. */
export class Runtime {
  readonly prompts: SystemPrompts;
  readonly loop: AgentLoop;
  readonly turns: TurnService;
  private readonly dispatcher: ToolDispatcher;

  constructor(private readonly deps: RuntimeDeps) {
    this.prompts = new SystemPrompts(deps.archival);
    deps.events.subscribe(this.prompts);
    this.dispatcher = new ToolDispatcher([
      ...(deps.toolExecutors ?? []),
      new CoreToolExecutor(),
      new FileToolExecutor(deps.files),
      new MultiAgentToolExecutor(),
    ]);
    // The messenger starts turns through the TurnService built below, which needs the loop built first.
    const messenger = new TurnMessenger(deps.stores, () => this.turns);
    this.loop = new AgentLoop({
      stores: deps.stores,
      blocks: deps.blocks,
      dispatcher: this.dispatcher,
      providers: deps.providers,
      prompts: this.prompts,
      archival: deps.archival,
      recall: deps.recall,
      agentStates: deps.agentStates,
      messenger,
      logger: deps.logger,
    });
    this.turns = new TurnService(deps.stores, this.loop, deps.providers, deps.constraints, deps.logger);
  }

  /** Starts the run sweeper: runs a dead process left active are failed at startup and whenever found (§5.7). */
  start(soleProcess: boolean, timing: StaleTiming): void {
    this.turns.startSweeper(soleProcess, timing);
  }

  stop(): Promise<void> {
    return this.turns.stop();
  }

  /**
   * `POST /agents/{id}/tools/{name}/run`: one attached tool run directly, outside a turn, through the same executors
   * as the loop and with the same `return_char_limit`; nothing is written to the agent's history.
   */
  async runTool(agentId: string, toolName: string, args: Record<string, unknown>): Promise<ToolExecutionResult> {
    const { stores } = this.deps;
    const agent = await stores.agents.findById(agentId);
    if (!agent) throw missing('Agent', agentId);
    const tool = ((await stores.tools.listForAgents([agentId])).get(agentId) ?? []).find((t) => t.name === toolName);
    if (!tool) throw notFound(`Tool '${toolName}' not found or not attached to agent '${agentId}'`);
    const ctx = toolContextFor({ ...this.deps, prompts: this.prompts }, agent, null);
    const result = await this.dispatcher.execute(
      { id: `call_${randomUUID()}`, name: toolName, args },
      tool.tool_type,
      ctx,
    );
    return { ...result, funcReturn: truncateReturn(result.funcReturn, tool.return_char_limit) };
  }

  /** `POST /agents/{id}/recompile`: force-rebuilds and returns the default thread's system prompt. */
  async recompile(agentId: string): Promise<string> {
    const text = await this.deps.stores.transaction((tx) => this.prompts.rebuild(tx, agentId, true));
    if (text === undefined) throw missing('Agent', agentId);
    return text;
  }

  /** `POST /agents/{id}/summarize` and conversation compact: compaction on demand (§10). */
  async compact(agentId: string, conversationId: string | null, mode: 'sliding_window' | 'all' = 'sliding_window') {
    const { stores } = this.deps;
    const agent = await stores.agents.findById(agentId);
    if (!agent) throw missing('Agent', agentId);
    const ids = await inContextIds(stores, agent, conversationId);
    const context = await stores.messages.findByIds(ids);
    const handle = modelHandleOf(agent);
    const result = await compactThread(
      { stores, prompts: this.prompts, logger: this.deps.logger },
      {
        agent,
        conversationId,
        context,
        client: this.deps.providers.resolve(handle),
        handle,
        window: contextWindowOf(agent),
        trigger: 'manual',
        runId: null,
        mode,
      },
    );
    if (!result)
      throw badRequest(
        'Summarization failed to reduce the number of messages: there are too few messages to summarize.',
      );
    return { summary: result.summary, num_messages_before: context.length, num_messages_after: result.context.length };
  }

  /**
   * `POST /agents/{id}/generate`: one raw model call with the agent's model (or `override_model`): no memory, no
   * tools, nothing stored. A `response_schema` is enforced by forcing a call to a tool with that schema.
   */
  async generate(
    agentId: string,
    input: {
      prompt: string;
      system_prompt?: string | null | undefined;
      override_model?: string | null | undefined;
      response_schema?: Record<string, unknown> | null | undefined;
    },
  ) {
    const agent = await this.deps.stores.agents.findById(agentId);
    if (!agent) throw missing('Agent', agentId);
    const handle = modelHandleOf(agent, input.override_model);
    const client = this.deps.providers.resolve(handle);
    const schema = input.response_schema ?? undefined;
    const response = await client
      .complete({
        handle,
        messages: [
          ...(input.system_prompt ? [{ role: 'system' as const, content: input.system_prompt }] : []),
          { role: 'user', content: input.prompt },
        ],
        tools: schema
          ? [
              {
                name: 'structured_response',
                description: 'Respond with output matching this schema.',
                parameters: schema,
              },
            ]
          : [],
        toolChoice: schema ? { name: 'structured_response' } : 'none',
      })
      .catch(asRequestError);
    const u = response.usage;
    return {
      content: schema ? (response.toolCalls[0]?.arguments ?? response.text) : response.text,
      model: response.model,
      usage: {
        ...emptyUsage(),
        completion_tokens: u.completionTokens,
        prompt_tokens: u.promptTokens,
        total_tokens: u.totalTokens,
        step_count: 1,
        cached_input_tokens: u.cachedInputTokens ?? null,
        cache_write_tokens: u.cacheWriteTokens ?? null,
        reasoning_tokens: u.reasoningTokens ?? null,
      },
    };
  }

  /** `GET /agents/{id}/context`: the ContextWindowOverview of the default thread. */
  async contextOverview(agentId: string) {
    const { stores } = this.deps;
    const agent = await stores.agents.findById(agentId);
    if (!agent) throw missing('Agent', agentId);
    const window = contextWindowOf(agent);
    const ids = parseJson<string[]>(agent.message_ids, []);
    const rows = await stores.messages.findByIds(ids);
    const tools = (await stores.tools.listForAgents([agentId])).get(agentId) ?? [];
    const functions = tools.map((t) => ({
      type: 'function',
      function: parseJson<Record<string, unknown>>(t.json_schema, {}),
    }));
    const tokens = (text: string) => Math.ceil(Buffer.byteLength(text) / 4);
    const textOf = (m: MessageLike) =>
      contentOf(m)
        .map((p) => (p.type === 'text' ? p.text : ''))
        .join('');
    const sections = systemSections(rows[0] && rows[0].role === 'system' ? textOf(rows[0]) : '');
    const systemPrompt = sections.systemPrompt ?? agent.system;
    const core = sections.coreMemory ?? '';
    const rules = sections.toolUsageRules ?? '';
    const directories = sections.directories ?? '';
    const external = sections.externalMemorySummary ?? '';
    // Like Letta, only the message right after the system message can be the summary of what was compacted.
    const first = rows[1] as MessageLike | undefined;
    const summary =
      first &&
      (first.role === 'summary' ||
        (first.role === 'user' && contentOf(first).some((p) => p.type === 'text' && p.text.includes('"system_alert"'))))
        ? textOf(first)
        : null;
    const messages = rows.slice(summary === null ? 1 : 2) as MessageLike[];
    const total = await stores.messages.count(agentId, { kind: 'default' });
    const archival = await this.deps.archival.stats(agentId, stores);
    const numTokensMessages = messages.length ? estimateThreadTokens(messages, window) : 0;
    const numTokensFunctions = functions.length ? tokens(JSON.stringify(functions)) : 0;
    const counts = {
      num_tokens_system: tokens(systemPrompt),
      num_tokens_core_memory: tokens(core),
      num_tokens_memory_filesystem: 0,
      num_tokens_tool_usage_rules: tokens(rules),
      num_tokens_directories: tokens(directories),
      num_tokens_external_memory_summary: tokens(external),
      num_tokens_summary_memory: summary === null ? 0 : tokens(summary),
      num_tokens_messages: numTokensMessages,
      num_tokens_functions_definitions: numTokensFunctions,
    };
    return {
      ...counts,
      context_window_size_max: window,
      // The sum of the parts, each counted once (the system message is split, not added whole).
      context_window_size_current: Object.values(counts).reduce((a, b) => a + b, 0),
      num_messages: rows.length,
      num_archival_memory: archival.count,
      num_recall_memory: Math.max(0, total - rows.length),
      external_memory_summary: external,
      system_prompt: systemPrompt,
      core_memory: core,
      memory_filesystem: null,
      tool_usage_rules: rules || null,
      directories: directories || null,
      summary_memory: summary,
      functions_definitions: functions,
      messages: rows.map(toStoredMessage),
    };
  }
}
