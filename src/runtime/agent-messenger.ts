import type { AgentMessenger, AgentReply } from '../domain/ports.js';
import { missing } from '../domain/errors.js';
import type { Stores } from '../store/index.js';
import type { TurnOutcome } from '../domain/turns.js';
import type { SendMode, TurnService } from './turns.js';

/**
 * How many agents deep a chain of agents messaging agents may go (A asks B, who asks C, ...). Letta has no limit;
 * without one two agents that answer each other with `send_message_to_agent_async` would talk forever.
 */
export const MAX_AGENT_CHAIN_DEPTH = 5;

/** The most agents `send_message_to_agents_matching_tags` reaches, as Letta's query limit. */
const MATCHING_TAGS_LIMIT = 50;

/** The text of a turn's assistant messages: what one agent said back to another. */
export function assistantTexts(outcome: TurnOutcome): string[] {
  return outcome.messages.flatMap((m) => {
    if (m.message_type !== 'assistant_message') return [];
    const content = (m as { content?: unknown }).content;
    if (typeof content === 'string') return [content];
    if (Array.isArray(content))
      return [content.map((p: { text?: unknown }) => (typeof p.text === 'string' ? p.text : '')).join('')];
    return [];
  });
}

/** The multi-agent tools' way to other agents: a turn of the target through the same `TurnService` as the API. */
export class TurnMessenger implements AgentMessenger {
  /** The chain depth of each run this process started for another agent, while it runs. */
  private readonly depths = new Map<string, number>();

  constructor(
    private readonly stores: Stores,
    private readonly turns: () => TurnService,
  ) {}

  async ask(fromRunId: string | undefined, targetId: string, text: string): Promise<AgentReply> {
    if (!(await this.stores.agents.exists(targetId))) throw missing('Agent', targetId);
    try {
      const outcome = await (await this.begin(fromRunId, targetId, text, 'sync')).ended;
      if (outcome.error) return { agentId: targetId, error: outcome.error.message, type: outcome.error.error_type };
      return { agentId: targetId, response: assistantTexts(outcome) };
    } catch (error) {
      // A busy or over-deep target is the sender's answer, as Letta reports a failed `step` per agent.
      const e = error instanceof Error ? error : new Error(String(error));
      return { agentId: targetId, error: e.message, type: e.name };
    }
  }

  async notify(fromRunId: string | undefined, targetId: string, text: string): Promise<void> {
    if (!(await this.stores.agents.exists(targetId))) throw missing('Agent', targetId);
    // A turn that cannot start (busy, too deep) is the tool's error; one that fails later is on its own run.
    (await this.begin(fromRunId, targetId, text, 'async')).ended.catch(() => {});
  }

  async agentsMatchingTags(matchAll: string[], matchSome: string[]): Promise<string[]> {
    const page = { limit: MATCHING_TAGS_LIMIT, order: 'asc' as const };
    const [withAll, withSome] = await Promise.all([
      matchAll.length ? this.stores.agents.list({ tags: matchAll, matchAllTags: true }, page) : undefined,
      matchSome.length ? this.stores.agents.list({ tags: matchSome }, page) : undefined,
    ]);
    if (!withAll && !withSome) return (await this.stores.agents.list({}, page)).map((a) => a.id);
    const some = withSome && new Set(withSome.map((a) => a.id));
    return (withAll ?? withSome!).filter((a) => !some || some.has(a.id)).map((a) => a.id);
  }

  /** Starts the target's turn one level deeper than the sender's run; `ended` is how the turn ends. */
  private async begin(
    fromRunId: string | undefined,
    targetId: string,
    text: string,
    mode: SendMode,
  ): Promise<{ ended: Promise<TurnOutcome> }> {
    const depth = (fromRunId ? (this.depths.get(fromRunId) ?? 0) : 0) + 1;
    if (depth > MAX_AGENT_CHAIN_DEPTH)
      throw new RangeError(
        `Not sent: this message would be ${depth} agents deep in a chain of agents messaging agents (at most ${MAX_AGENT_CHAIN_DEPTH})`,
      );
    const turn = await this.turns().start(
      targetId,
      null,
      { messages: [{ type: 'message', role: 'system', content: text }] },
      mode,
    );
    this.depths.set(turn.runId, depth);
    return { ended: turn.outcome.finally(() => this.depths.delete(turn.runId)) };
  }
}
