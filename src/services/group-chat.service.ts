import type { Logger } from 'pino';
import { badRequest, CairnError } from '../lib/errors.js';
import { nowIso } from '../lib/time.js';
import { messageEditRetired, missing } from '../domain/errors.js';
import { toLettaMessageList, type LettaMessage } from '../domain/letta-messages.js';
import { messageRow, type ContentPart } from '../domain/messages.js';
import {
  emptyUsage,
  lettaResponse,
  type ChunkSource,
  type RunChunk,
  type StartedTurn,
  type StopReason,
  type UsageStatistics,
} from '../domain/turns.js';
import { assistantTexts } from '../runtime/agent-messenger.js';
import { inContextIds, setInContextIds } from '../runtime/system-prompt.js';
import type { TurnService } from '../runtime/turns.js';
import type { PageQuery } from '../schemas/common.js';
import type { SendMessageBody } from '../schemas/message.js';
import type { GroupWithMembers } from '../store/group.store.js';
import type { Stores } from '../store/index.js';

/** One message of a group chat's history: what the next speaker is sent of it. */
interface ChatMessage {
  role: 'user' | 'system' | 'assistant';
  text: string;
  /** The participant who said it; null for the user. */
  name: string | null;
  senderId: string | null;
}

/** A group chat in progress: the turns started so far, for the stream that relays them. */
interface ChatTurns {
  started(turn: StartedTurn): void;
}

/** The summed outcome of every turn of one group message. */
interface ChatOutcome {
  stopReason: StopReason;
  usage: UsageStatistics;
  messages: LettaMessage[];
}

const textContent = (text: string): ContentPart[] => [{ type: 'text', text }];

/** A participant's turn that failed: its own chunks already carry the error, and the chat stops there. */
class TurnFailed extends CairnError {}

/** Letta's text for a dynamic group's manager, asked to pick the next speaker (`dynamic_multi_agent.py`). */
function chooseSpeakerPrompt(optionIds: string[], history: ChatMessage[]): string {
  const transcript = history.map((m) => `${m.name ?? 'user'}: ${m.text}`).join('\n');
  return (
    'Choose the most suitable agent to reply to the latest message in the group chat from the following options: ' +
    `[${optionIds.map((id) => `'${id}'`).join(', ')}]. Do not respond to the messages yourself, your task is only to ` +
    `decide the next speaker, not to participate. \nChat history:\n${transcript}`
  );
}

function addUsage(total: UsageStatistics, turn: UsageStatistics, runId: string): void {
  total.completion_tokens += turn.completion_tokens;
  total.prompt_tokens += turn.prompt_tokens;
  total.total_tokens += turn.total_tokens;
  total.step_count += turn.step_count;
  total.run_ids = [...(total.run_ids ?? []), runId];
}

/**
 * Messages to a `round_robin`, `supervisor` or `dynamic` group, as Letta's `RoundRobinMultiAgent`,
 * `SupervisorMultiAgent` and `DynamicMultiAgent` ran them: every participant's turn is a real turn (a run of its
 * own), each sent what the chat said since it last spoke, with the other participants' replies as system messages
 * named after them. The reply holds every turn's messages and the summed usage.
 */
export class GroupChatService {
  constructor(
    private readonly stores: Stores,
    private readonly turns: TurnService,
    private readonly logger: Logger,
  ) {}

  private async chatGroup(groupId: string): Promise<GroupWithMembers> {
    const group = await this.stores.groups.findById(groupId);
    if (!group) throw missing('Group', groupId);
    if (group.manager_type === 'sleeptime')
      throw badRequest('A sleeptime group is not messaged directly: send the message to its manager agent');
    if (group.agent_ids.length === 0) throw badRequest('Empty group: group must have at least one agent');
    if (group.manager_type !== 'round_robin' && !group.manager_agent_id)
      throw badRequest(`A ${group.manager_type} group needs a manager_agent_id`);
    return group;
  }

  /** `POST /groups/{id}/messages`: the whole chat, then one `LettaResponse`. */
  async send(groupId: string, body: SendMessageBody) {
    const group = await this.chatGroup(groupId);
    const outcome = await this.chat(group, body, 'sync', { started: () => {} });
    return lettaResponse(outcome);
  }

  /**
   * `POST /groups/{id}/messages/stream`: the chunks of every turn as it runs, one `stop_reason` and the summed
   * `usage_statistics` last. Resolves once the first turn has started, so a refused first turn is the HTTP error.
   */
  async stream(groupId: string, body: SendMessageBody): Promise<{ runId: string; stream: ChunkSource }> {
    const group = await this.chatGroup(groupId);
    const relay = new ChatRelay(this.logger);
    const first = new Promise<StartedTurn>((resolve, reject) => {
      const chat = this.chat(group, body, 'stream', {
        started: (turn) => {
          resolve(turn);
          relay.started(turn);
        },
      });
      chat.then(
        (outcome) => relay.finish(outcome),
        (error: unknown) => {
          reject(error instanceof Error ? error : new Error(String(error)));
          relay.fail(error);
        },
      );
    });
    const turn = await first;
    return { runId: turn.runId, stream: relay };
  }

  /** `GET /groups/{id}/messages`: every message of the group's turns, newest first by default. */
  async list(groupId: string, page: PageQuery): Promise<LettaMessage[]> {
    if (!(await this.stores.groups.findById(groupId))) throw missing('Group', groupId);
    const rows = await this.stores.messages.listForGroup(groupId, { ...page, order: page.order ?? 'desc' });
    return toLettaMessageList(rows, { agentType: 'letta_v1_agent' });
  }

  /**
   * `PATCH /groups/{id}/messages/{message_id}`: refused like the agent's message edit. Letta's archived route calls
   * a message-manager method that no longer exists (every call a 500); the agent route's 405 is what it meant.
   */
  async edit(groupId: string): Promise<never> {
    if (!(await this.stores.groups.findById(groupId))) throw missing('Group', groupId);
    throw messageEditRetired();
  }

  /** `PATCH /groups/{id}/reset-messages`: deletes the group chat's messages from every agent's history. */
  async reset(groupId: string): Promise<void> {
    await this.stores.transaction(async (tx) => {
      if (!(await tx.groups.findById(groupId))) throw missing('Group', groupId);
      const rows = await tx.messages.listAllForGroup(groupId);
      const gone = new Set(rows.map((r) => r.id));
      for (const agentId of new Set(rows.map((r) => r.agent_id))) {
        const agent = await tx.agents.findById(agentId);
        if (!agent) continue;
        const ids = await inContextIds(tx, agent, null);
        if (ids.some((id) => gone.has(id)))
          await setInContextIds(
            tx,
            agentId,
            null,
            ids.filter((id) => !gone.has(id)),
            nowIso(),
          );
      }
      await tx.messages.deleteByIds([...gone]);
    });
  }

  private async chat(
    group: GroupWithMembers,
    body: SendMessageBody,
    mode: 'sync' | 'stream',
    turns: ChatTurns,
  ): Promise<ChatOutcome> {
    const names = new Map(
      (
        await this.stores.agents.findManyByIds([
          ...group.agent_ids,
          ...(group.manager_agent_id ? [group.manager_agent_id] : []),
        ])
      ).map((a) => [a.id, a.name]),
    );
    for (const id of [...group.agent_ids, group.manager_agent_id]) if (id && !names.has(id)) throw missing('Agent', id);
    const total: ChatOutcome = { stopReason: 'end_turn', usage: emptyUsage(), messages: [] };

    /** One turn of `agentId` on `inputs`; its assistant messages, as the others will see them. */
    const turn = async (agentId: string, inputs: ChatMessage[]): Promise<ChatMessage[]> => {
      const started = await this.turns.start(
        agentId,
        null,
        {
          ...body,
          // Each turn is the chat's part, not the request: one callback would fire per participant.
          callback_url: undefined,
          input: undefined,
          messages: inputs.map((m) => ({
            type: 'message' as const,
            role: m.role,
            content: m.text,
            name: m.name,
            sender_id: m.senderId,
            group_id: group.id,
          })),
        },
        mode,
      );
      turns.started(started);
      const outcome = await started.outcome;
      addUsage(total.usage, outcome.usage, started.runId);
      total.messages.push(...outcome.messages);
      if (outcome.error) {
        total.stopReason = outcome.stopReason;
        // The run already consumed the input; an automatic SDK retry would send it twice.
        throw new TurnFailed(outcome.error.status, outcome.error.message, { 'x-should-retry': 'false' });
      }
      return assistantTexts(outcome).map((text) => ({
        role: 'system',
        text,
        name: names.get(agentId) ?? null,
        senderId: agentId,
      }));
    };

    const userInputs: ChatMessage[] = [
      ...(body.input !== undefined && body.input !== null
        ? [{ role: 'user' as const, text: inputText(body.input), name: null, senderId: null }]
        : []),
      ...(body.messages ?? []).flatMap((m) =>
        m.type === 'message'
          ? [{ role: m.role, text: inputText(m.content), name: m.name ?? null, senderId: m.sender_id ?? null }]
          : [],
      ),
    ];
    if (userInputs.length === 0) throw badRequest('A group message takes input messages, not approvals');

    if (group.manager_type === 'supervisor') {
      await turn(group.manager_agent_id!, userInputs);
      return total;
    }

    const participants = group.agent_ids;
    const maxTurns = group.max_turns ?? participants.length;
    const history: ChatMessage[] = [];
    // Where in `history` each agent's unseen messages start.
    const seen = new Map<string, number>(
      [...participants, ...(group.manager_agent_id ? [group.manager_agent_id] : [])].map((id) => [id, 0]),
    );
    let fresh = userInputs;
    let speaker: string | undefined;
    for (let i = 0; i < maxTurns; i++) {
      if (group.manager_type === 'dynamic') {
        const options = participants.filter((id) => id !== speaker);
        const choice = await turn(group.manager_agent_id!, [
          {
            role: 'user',
            text: chooseSpeakerPrompt(options, [...history, ...fresh]),
            name: null,
            senderId: group.manager_agent_id,
          },
        ]);
        // As Letta: the last option whose name the manager's reply mentions speaks next.
        const said = (choice[0]?.text ?? '').toLowerCase();
        const chosen = options.filter((id) => said.includes((names.get(id) ?? '').toLowerCase())).at(-1);
        if (!chosen) {
          this.logger.warn({ groupId: group.id, reply: said }, 'the dynamic group manager named no participant');
          total.stopReason = 'invalid_llm_response';
          break;
        }
        speaker = chosen;
      } else speaker = participants[i % participants.length]!;
      history.push(...fresh);
      fresh = await turn(speaker, history.slice(seen.get(speaker)));
      seen.set(speaker, history.length + fresh.length);
      if (group.manager_type === 'dynamic' && fresh.some((m) => m.text.includes(group.termination_token ?? 'DONE!')))
        break;
    }
    history.push(...fresh);
    await this.deliverUnseen(group.id, history, seen, speaker);
    return total;
  }

  /**
   * The chat's last messages go into the history of every agent that has not seen them (all but the last speaker),
   * so the next group message finds them there, as Letta persists the remaining chat history.
   */
  private async deliverUnseen(
    groupId: string,
    history: ChatMessage[],
    seen: Map<string, number>,
    lastSpeaker: string | undefined,
  ): Promise<void> {
    for (const [agentId, from] of seen) {
      const unseen = history.slice(from);
      if (agentId === lastSpeaker || unseen.length === 0) continue;
      await this.stores.transaction(async (tx) => {
        const agent = await tx.agents.findById(agentId);
        if (!agent) return;
        const ctx = { agentId, conversationId: null, runId: null, stepId: null, model: null };
        const rows = unseen.map((m) =>
          messageRow(ctx, m.role, textContent(m.text), { name: m.name, sender_id: m.senderId, group_id: groupId }),
        );
        await tx.messages.insertMany(rows);
        const ids = await inContextIds(tx, agent, null);
        await setInContextIds(tx, agentId, null, [...ids, ...rows.map((r) => r.id)], nowIso());
      });
    }
  }
}

function inputText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p: { text?: unknown }) => (typeof p.text === 'string' ? p.text : '')).join('\n');
}

/**
 * The chunks of a group chat's turns as one stream: each turn's chunks in turn order, renumbered, without the
 * per-turn `stop_reason` and `usage_statistics`, then the chat's own. One subscriber: the request that sent it.
 */
class ChatRelay implements ChunkSource {
  private readonly queue: StartedTurn[] = [];
  private ending: RunChunk[] | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly logger: Logger) {}

  started(turn: StartedTurn): void {
    this.queue.push(turn);
    this.wake?.();
  }

  finish(outcome: ChatOutcome): void {
    this.ending = [
      {
        seqId: 0,
        data: JSON.stringify({ message_type: 'stop_reason', stop_reason: outcome.stopReason }),
        error: false,
      },
      { seqId: 0, data: JSON.stringify(outcome.usage), error: false },
    ];
    this.wake?.();
  }

  fail(error: unknown): void {
    const stop = {
      seqId: 0,
      data: JSON.stringify({ message_type: 'stop_reason', stop_reason: 'error' }),
      error: false,
    };
    // A failed turn's error is already in its own chunks; anything else is a turn that could not start.
    if (error instanceof TurnFailed) {
      this.ending = [stop];
    } else {
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn({ err: error }, 'a group chat stopped');
      const chunk = { message_type: 'error_message', error_type: 'internal_error', message, detail: message };
      this.ending = [stop, { seqId: 0, data: JSON.stringify(chunk), error: true }];
    }
    this.wake?.();
  }

  start(emit: (chunk: RunChunk) => void, end: () => void): () => void {
    let seq = 0;
    let index = 0;
    let stopCurrent: (() => void) | undefined;
    let stopped = false;
    const relay = (chunk: RunChunk) => {
      const parsed = JSON.parse(chunk.data) as { message_type?: string; seq_id?: number };
      if (parsed.message_type === 'stop_reason' || parsed.message_type === 'usage_statistics') return;
      seq++;
      // Each turn numbers its chunks from 1; the chat's stream numbers them once, across the turns.
      const data = parsed.seq_id === undefined ? chunk.data : JSON.stringify({ ...parsed, seq_id: seq });
      emit({ ...chunk, seqId: seq, data });
    };
    const next = () => {
      if (stopped) return;
      const turn = this.queue[index];
      if (turn) {
        index++;
        stopCurrent = turn.stream.start(relay, next);
        return;
      }
      if (this.ending) {
        for (const chunk of this.ending) emit({ ...chunk, seqId: ++seq });
        end();
        return;
      }
      this.wake = () => {
        this.wake = undefined;
        next();
      };
    };
    next();
    return () => {
      stopped = true;
      stopCurrent?.();
    };
  }
}
