import { splitHandle } from '../lib/handles.js';
import { CairnError, badRequest } from '../lib/errors.js';
import { followStoredRun } from '../runtime/run-stream.js';
import { toLettaMessageList, type LettaMessage } from '../domain/letta-messages.js';
import type { TurnService } from '../runtime/turns.js';
import type { ListRunsQuery } from '../schemas/run.js';
import type { PageQuery } from '../schemas/common.js';
import type { Stores } from '../store/index.js';
import { bool, parseJson } from '../store/json.js';
import { toolCallsOf } from '../domain/messages.js';
import type { RunRecord, StepRecord } from '../store/run.store.js';
import type { ChunkSource } from '../domain/turns.js';
import { missing } from '../domain/errors.js';

/** Letta refuses to replay streams older than this (§3.6: 410). */
const STREAM_TTL_MS = 3 * 60 * 60 * 1000;

export function toRun(row: RunRecord) {
  return {
    id: row.id,
    agent_id: row.agent_id,
    conversation_id: row.conversation_id,
    status: row.status,
    stop_reason: row.stop_reason,
    created_at: row.created_at,
    completed_at: row.completed_at,
    background: bool(row.background),
    metadata: parseJson<Record<string, unknown> | null>(row.metadata, null),
    request_config: parseJson<Record<string, unknown> | null>(row.request_config, null),
    callback_url: row.callback_url,
    callback_sent_at: null,
    callback_status_code: null,
    callback_error: null,
    ttft_ns: row.ttft_ns,
    total_duration_ns: row.total_duration_ns,
    base_template_id: null,
  };
}

export function toStep(row: StepRecord) {
  return {
    id: row.id,
    origin: null,
    provider_id: null,
    run_id: row.run_id,
    agent_id: row.agent_id,
    provider_name: (row.model_handle && splitHandle(row.model_handle)?.provider) ?? null,
    provider_category: 'base',
    model: row.model,
    model_handle: row.model_handle,
    model_endpoint: null,
    context_window_limit: row.context_window_limit,
    completion_tokens: row.completion_tokens,
    prompt_tokens: row.prompt_tokens,
    total_tokens: row.total_tokens,
    cached_input_tokens: row.cached_input_tokens,
    cache_write_tokens: null,
    reasoning_tokens: row.reasoning_tokens,
    completion_tokens_details: null,
    prompt_tokens_details: null,
    stop_reason: row.stop_reason,
    tags: parseJson<string[]>(row.tags, []),
    tid: null,
    trace_id: null,
    request_id: null,
    messages: [],
    feedback: row.feedback,
    project_id: null,
    error_type: row.error_type,
    error_data: parseJson(row.error_data, null),
    status: row.status,
  };
}

export class RunService {
  constructor(
    private readonly stores: Stores,
    private readonly turns: TurnService,
  ) {}

  async require(runId: string): Promise<RunRecord> {
    const row = await this.stores.runs.findById(runId);
    if (!row) throw missing('Run', runId);
    return row;
  }

  async get(runId: string) {
    return toRun(await this.require(runId));
  }

  async list(query: ListRunsQuery) {
    const agentIds = [...(query.agent_id ? [query.agent_id] : []), ...(query.agent_ids ?? [])];
    const statuses = query.active ? ['created', 'running'] : query.statuses;
    const order = query.order ?? (query.ascending === true ? 'asc' : 'desc');
    const rows = await this.stores.runs.list(
      {
        agentIds,
        statuses,
        background: query.background,
        stopReason: query.stop_reason,
        conversationId: query.conversation_id === 'default' ? null : query.conversation_id,
      },
      { ...query, order },
    );
    return rows.map(toRun);
  }

  async messages(runId: string, page: PageQuery): Promise<LettaMessage[]> {
    await this.require(runId);
    const rows = await this.stores.messages.listForRun(runId, { ...page, order: page.order ?? 'asc' });
    const agentType = rows[0]
      ? ((await this.stores.agents.findById(rows[0].agent_id))?.agent_type ?? 'letta_v1_agent')
      : 'letta_v1_agent';
    return toLettaMessageList(rows, { agentType });
  }

  async steps(runId: string, page: PageQuery) {
    await this.require(runId);
    return (await this.stores.runs.listSteps(runId, { ...page, order: page.order ?? 'asc' })).map(toStep);
  }

  async usage(runId: string) {
    const run = await this.require(runId);
    const usage = parseJson<{ completion_tokens?: number; prompt_tokens?: number; total_tokens?: number }>(
      run.usage,
      {},
    );
    return {
      completion_tokens: usage.completion_tokens ?? 0,
      prompt_tokens: usage.prompt_tokens ?? 0,
      total_tokens: usage.total_tokens ?? 0,
      prompt_tokens_details: null,
      completion_tokens_details: null,
    };
  }

  /** Letta's `RunMetrics`: when the run started, how long it took, its steps and the tools its steps called. */
  async metrics(runId: string) {
    const run = await this.require(runId);
    const [steps, rows, tools] = await Promise.all([
      this.stores.runs.listSteps(runId, { limit: 10_000, order: 'asc' }),
      this.stores.messages.listForRun(runId, { limit: 10_000, order: 'asc' }),
      this.stores.tools.listForAgents([run.agent_id]),
    ]);
    const called = new Set(rows.flatMap((r) => toolCallsOf(r).map((c) => c.function.name)));
    return {
      id: run.id,
      agent_id: run.agent_id,
      project_id: null,
      run_start_ns: Date.parse(run.created_at) * 1_000_000,
      run_ns: run.total_duration_ns,
      num_steps: steps.length,
      tools_used: (tools.get(run.agent_id) ?? []).filter((t) => called.has(t.name)).map((t) => t.id),
      template_id: null,
      base_template_id: null,
    };
  }

  /** Cairn records no OpenTelemetry spans: an empty trace, as Letta answers without a trace store. */
  async trace(runId: string): Promise<Record<string, unknown>[]> {
    await this.require(runId);
    return [];
  }

  /** The thread's most recent run still going, if any. */
  async latestActive(agentId: string, conversationId: string | null): Promise<string | undefined> {
    return (await this.stores.runs.activeRunIds(agentId, conversationId)).at(-1);
  }

  async delete(runId: string): Promise<void> {
    await this.require(runId);
    await this.stores.runs.update(runId, { status: 'cancelled' });
  }

  /** A replay source for `POST /runs/{id}/stream` (§6.7): local live runs directly, others from the database. */
  async streamSource(
    runId: string,
    startingAfter: number,
    pollSeconds: number,
    batchSize: number,
  ): Promise<{ run: RunRecord; source: ChunkSource }> {
    const run = await this.require(runId);
    if (!bool(run.streamed))
      throw badRequest(`Run ${runId} was not started in streaming mode, so it has no stream to resume.`);
    if (Date.now() - Date.parse(run.created_at) > STREAM_TTL_MS)
      throw new CairnError(410, `Run ${runId} stream has expired.`);
    const live = this.turns.liveRun(runId);
    const source: ChunkSource = live
      ? live.source(startingAfter)
      : {
          start: (emit, end) => {
            const abort = new AbortController();
            void followStoredRun(
              this.stores,
              runId,
              startingAfter,
              { pollMs: Math.max(20, pollSeconds * 1000), batchSize, signal: abort.signal },
              emit,
            ).finally(end);
            return () => abort.abort();
          },
        };
    return { run, source };
  }
}
