import type { Logger } from 'pino';
import { badRequest } from '../lib/errors.js';
import type { LlmProviders } from '../llm/types.js';
import type { MemoryEventBus } from '../domain/memory-events.js';
import type { Stores } from '../store/index.js';
import { parseJson } from '../store/json.js';
import { CoreToolExecutor } from '../tools/builtin/core-tools.js';
import { FileToolExecutor } from '../tools/builtin/file-tools.js';
import type { FilesPort } from '../domain/files.js';
import type { ArchivalPort, BlockWriter, RecallPort } from '../domain/ports.js';
import { ToolDispatcher } from '../tools/dispatcher.js';
import { compactThread, estimateThreadTokens } from './compaction.js';
import { AgentLoop } from './loop.js';
import { contentOf, toolCallsOf, type MessageLike } from '../domain/messages.js';
import { inContextIds, SystemPrompts } from './system-prompt.js';
import { renderToolRules, type ToolRule } from '../domain/tool-rules.js';
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
}

/** The agent runtime: system prompts kept in step with memory, the loop, and turns (runs) started from the API. */
export class Runtime {
  readonly prompts: SystemPrompts;
  readonly loop: AgentLoop;
  readonly turns: TurnService;

  constructor(private readonly deps: RuntimeDeps) {
    this.prompts = new SystemPrompts(deps.archival);
    deps.events.subscribe(this.prompts);
    this.loop = new AgentLoop({
      stores: deps.stores,
      blocks: deps.blocks,
      dispatcher: new ToolDispatcher([new CoreToolExecutor(), new FileToolExecutor(deps.files)]),
      providers: deps.providers,
      prompts: this.prompts,
      archival: deps.archival,
      recall: deps.recall,
      logger: deps.logger,
    });
    this.turns = new TurnService(deps.stores, this.loop, deps.providers, deps.constraints, deps.logger);
  }

  /** Starts the run sweeper: runs a dead process left active are failed at startup and whenever found (§5.7). */
  start(soleProcess: boolean): void {
    this.turns.startSweeper(soleProcess);
  }

  stop(): Promise<void> {
    return this.turns.stop();
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
    const system =
      rows[0] && rows[0].role === 'system'
        ? contentOf(rows[0])
            .map((p) => (p.type === 'text' ? p.text : ''))
            .join('')
        : '';
    const memory = await this.prompts.memoryString(stores, agent);
    const rules = renderToolRules(parseJson<ToolRule[]>(agent.tool_rules, [])).join('\n');
    const metadataStart = system.indexOf('<memory_metadata>');
    const external = metadataStart >= 0 ? system.slice(metadataStart) : '';
    const messages = rows.slice(1) as MessageLike[];
    const summary = messages.find(
      (m) =>
        m.role === 'summary' ||
        (m.role === 'user' && contentOf(m).some((p) => p.type === 'text' && p.text.includes('"system_alert"'))),
    );
    const total = await stores.messages.count(agentId, { kind: 'default' });
    const archival = await this.deps.archival.stats(agentId, stores);
    const numTokensMessages = messages.length ? estimateThreadTokens(messages, window) : 0;
    const numTokensFunctions = tokens(JSON.stringify(functions));
    const numTokensSystem = tokens(system);
    return {
      context_window_size_max: window,
      context_window_size_current: numTokensSystem + numTokensMessages + numTokensFunctions,
      num_messages: rows.length,
      num_archival_memory: archival.count,
      num_recall_memory: Math.max(0, total - rows.length),
      num_tokens_external_memory_summary: tokens(external),
      external_memory_summary: external,
      num_tokens_system: numTokensSystem,
      system_prompt: agent.system,
      num_tokens_core_memory: tokens(memory),
      core_memory: memory,
      num_tokens_memory_filesystem: 0,
      memory_filesystem: null,
      num_tokens_tool_usage_rules: tokens(rules),
      tool_usage_rules: rules || null,
      num_tokens_directories: 0,
      directories: null,
      num_tokens_summary_memory: summary
        ? tokens(
            contentOf(summary)
              .map((p) => (p.type === 'text' ? p.text : ''))
              .join(''),
          )
        : 0,
      summary_memory: summary
        ? contentOf(summary)
            .map((p) => (p.type === 'text' ? p.text : ''))
            .join('')
        : null,
      num_tokens_functions_definitions: numTokensFunctions,
      functions_definitions: functions,
      num_tokens_messages: numTokensMessages,
      messages: rows.map((r) => ({
        id: r.id,
        agent_id: r.agent_id,
        model: r.model,
        role: r.role,
        content: contentOf(r),
        name: r.name,
        tool_calls: r.tool_calls ? toolCallsOf(r) : null,
        tool_call_id: r.tool_call_id,
        step_id: r.step_id,
        run_id: r.run_id,
        otid: r.otid,
        conversation_id: r.conversation_id,
        created_at: r.created_at,
      })),
    };
  }
}
