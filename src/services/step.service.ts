import { toLettaMessageList, type LettaMessage } from '../domain/letta-messages.js';
import { missing } from '../domain/errors.js';
import type { PageQuery } from '../schemas/common.js';
import type { ListStepsQuery } from '../schemas/step.js';
import type { Stores } from '../store/index.js';
import type { StepRecord } from '../store/run.store.js';
import { toStep } from './run.service.js';

const NS_PER_MS = 1_000_000;

/** `/v1/steps`: the steps (one LLM call each) the agent loop records, across runs. */
export class StepService {
  constructor(private readonly stores: Stores) {}

  private async require(stepId: string): Promise<StepRecord> {
    const row = await this.stores.steps.findById(stepId);
    if (!row) throw missing('Step', stepId);
    return row;
  }

  async list(query: ListStepsQuery) {
    const rows = await this.stores.steps.list(
      {
        agentId: query.agent_id,
        model: query.model,
        start: query.start_date ? new Date(query.start_date).toISOString() : undefined,
        end: query.end_date ? new Date(query.end_date).toISOString() : undefined,
        feedback: query.feedback,
        hasFeedback: query.has_feedback,
        tags: query.tags,
      },
      { ...query, order: query.order ?? 'desc' },
    );
    return rows.map(toStep);
  }

  async get(stepId: string) {
    return toStep(await this.require(stepId));
  }

  async messages(stepId: string, page: PageQuery): Promise<LettaMessage[]> {
    const step = await this.require(stepId);
    const rows = await this.stores.messages.listForStep(stepId, { ...page, order: page.order ?? 'asc' });
    const agent = await this.stores.agents.findById(step.agent_id);
    return toLettaMessageList(rows, { agentType: agent?.agent_type ?? 'letta_v1_agent' });
  }

  /**
   * Letta's `StepMetrics` from the timings the loop keeps: the step's and its LLM call's durations. The loop
   * records the row when the step ends, so the start is that time less the step's duration.
   */
  async metrics(stepId: string) {
    const step = await this.require(stepId);
    const stepNs = step.duration_ms === null ? null : step.duration_ms * NS_PER_MS;
    const endNs = Date.parse(step.created_at) * NS_PER_MS;
    return {
      id: step.id,
      provider_id: null,
      run_id: step.run_id,
      agent_id: step.agent_id,
      step_start_ns: stepNs === null ? null : endNs - stepNs,
      llm_request_start_ns: null,
      llm_request_ns: step.llm_ms === null ? null : step.llm_ms * NS_PER_MS,
      tool_execution_ns: null,
      step_ns: stepNs,
      base_template_id: null,
      template_id: null,
      project_id: null,
    };
  }

  /** Cairn keeps no provider traces: Letta's answer when provider tracing is off. */
  async trace(stepId: string): Promise<null> {
    await this.require(stepId);
    return null;
  }

  async feedback(
    stepId: string,
    feedback: 'positive' | 'negative' | null | undefined,
    tags: string[] | null | undefined,
  ) {
    await this.require(stepId);
    await this.stores.steps.setFeedback(stepId, feedback ?? null, tags);
    return this.get(stepId);
  }
}
