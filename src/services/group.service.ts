import type { Logger } from 'pino';
import { badRequest } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { nowIso } from '../lib/time.js';
import { missing } from '../domain/errors.js';
import { textOf, toolCallsOf } from '../domain/messages.js';
import type { TurnEnded, TurnService } from '../runtime/turns.js';
import type { GroupCreate, GroupUpdate, ListGroupsQuery } from '../schemas/group.js';
import type { PageQuery } from '../schemas/common.js';
import type { Stores } from '../store/index.js';
import type { GroupWithMembers } from '../store/group.store.js';
import type { MessageRecord } from '../store/message.store.js';
import type { BlockService } from './block.service.js';

/** Letta's `Group` as the API returns it. */
export function toGroup(g: GroupWithMembers) {
  return {
    id: g.id,
    manager_type: g.manager_type,
    agent_ids: g.agent_ids,
    description: g.description,
    project_id: g.project_id,
    template_id: null,
    base_template_id: null,
    deployment_id: null,
    shared_block_ids: g.shared_block_ids,
    manager_agent_id: g.manager_agent_id,
    termination_token: g.termination_token,
    max_turns: g.max_turns,
    sleeptime_agent_frequency: g.sleeptime_agent_frequency,
    turns_counter: g.turns_counter,
    last_processed_message_id: g.last_processed_message_id,
    max_message_buffer_length: null,
    min_message_buffer_length: null,
    hidden: g.hidden ? true : null,
  };
}

/** Every agent a group's shared blocks belong to: its participants and its manager. */
const membersOf = (group: GroupWithMembers): string[] => [
  ...new Set([...group.agent_ids, ...(group.manager_agent_id ? [group.manager_agent_id] : [])]),
];

/** How many messages of the primary's history one sleeptime run reads at most. */
const TRANSCRIPT_LIMIT = 200;

const SLEEPTIME_REMINDER =
  '<system-reminder>\n' +
  'You are a sleeptime agent - a background agent that asynchronously processes conversations after they occur.\n\n' +
  'IMPORTANT: You are NOT the primary agent. You are reviewing a conversation that already happened between a primary agent and its user:\n' +
  '- Messages labeled "assistant" are from the primary agent (not you)\n' +
  '- Messages labeled "user" are from the primary agent\'s user\n\n' +
  'Your primary role is memory management. Review the conversation and use your memory tools to update any relevant memory blocks with information worth preserving. ' +
  'Check your memory_persona block for any additional instructions or policies.\n' +
  '</system-reminder>\n\n';

/** One line per message of the transcript a sleeptime agent reviews, as Letta's `stringify_message`. */
function transcriptLine(m: MessageRecord): string | null {
  const text = textOf(m);
  if (m.role === 'user') return text ? `user: ${text}` : null;
  if (m.role === 'assistant') {
    const calls = toolCallsOf(m).map((c) => `Calling tool ${c.function.name}`);
    return [text ? `assistant: ${text}` : '', ...calls].filter(Boolean).join('\n') || null;
  }
  if (m.role === 'tool') return `Tool call returned ${text}`;
  return null;
}

/**
 * `/v1/groups`, and the sleeptime group's background work: after every turn of a sleeptime group's manager the
 * group's turn counter goes up, and every `sleeptime_agent_frequency` turns each sleeptime agent gets a run of its
 * own that reviews the primary's new messages and edits the blocks the two share.
 */
export class GroupService {
  constructor(
    private readonly stores: Stores,
    private readonly turns: TurnService,
    private readonly logger: Logger,
    private readonly blocks: BlockService,
  ) {
    turns.onTurnEnd((ended) => {
      void this.afterTurn(ended).catch((error: unknown) =>
        this.logger.error({ err: error, agentId: ended.agentId }, 'starting the sleeptime agents failed'),
      );
    });
  }

  private async require(groupId: string, tx: Stores = this.stores): Promise<GroupWithMembers> {
    const group = await tx.groups.findById(groupId);
    if (!group) throw missing('Group', groupId);
    return group;
  }

  private async assertAgents(tx: Stores, ids: (string | null | undefined)[]): Promise<void> {
    for (const id of ids) if (id && !(await tx.agents.exists(id))) throw missing('Agent', id);
  }

  async get(groupId: string) {
    return toGroup(await this.require(groupId));
  }

  async list(query: ListGroupsQuery) {
    const rows = await this.stores.groups.list(
      { managerType: query.manager_type, projectId: query.project_id },
      { ...query, order: query.order ?? 'asc' },
    );
    return rows.map(toGroup);
  }

  async listForAgent(agentId: string, managerType: string | undefined, page: PageQuery) {
    if (!(await this.stores.agents.exists(agentId))) throw missing('Agent', agentId);
    const groups = (await this.stores.groups.ofAgent(agentId)).filter(
      (g) => managerType === undefined || g.manager_type === managerType,
    );
    const ordered = page.order === 'asc' ? groups : groups.reverse();
    return ordered.slice(0, page.limit).map(toGroup);
  }

  count(): Promise<number> {
    return this.stores.groups.count();
  }

  async create(input: GroupCreate) {
    const config = input.manager_config ?? { manager_type: 'round_robin' as const };
    const managerId = 'manager_agent_id' in config ? config.manager_agent_id : null;
    return this.stores.transaction(async (tx) => {
      await this.assertAgents(tx, [...input.agent_ids, managerId]);
      for (const blockId of input.shared_block_ids ?? [])
        if (!(await tx.blocks.findById(blockId))) throw missing('Block', blockId);
      const now = nowIso();
      const id = newId('group');
      await tx.groups.insert(
        {
          id,
          manager_type: config.manager_type,
          description: input.description,
          manager_agent_id: managerId,
          sleeptime_agent_frequency:
            'sleeptime_agent_frequency' in config ? (config.sleeptime_agent_frequency ?? null) : null,
          turns_counter: 0,
          last_processed_message_id: null,
          max_turns: 'max_turns' in config ? (config.max_turns ?? null) : null,
          termination_token: config.manager_type === 'dynamic' ? (config.termination_token ?? 'DONE!') : null,
          hidden: input.hidden ? 1 : 0,
          project_id: input.project_id ?? null,
          created_at: now,
          updated_at: now,
        },
        input.agent_ids,
        input.shared_block_ids ?? [],
      );
      return toGroup(await this.require(id, tx));
    });
  }

  async update(groupId: string, input: GroupUpdate) {
    return this.stores.transaction(async (tx) => {
      const group = await this.require(groupId, tx);
      const config = input.manager_config;
      if (config && config.manager_type !== group.manager_type)
        throw badRequest(`A ${group.manager_type} group cannot become a ${config.manager_type} group`);
      await this.assertAgents(tx, [...(input.agent_ids ?? []), config?.manager_agent_id]);
      await tx.groups.update(groupId, {
        ...(input.description != null ? { description: input.description } : {}),
        ...(input.project_id !== undefined ? { project_id: input.project_id } : {}),
        ...(config?.manager_agent_id ? { manager_agent_id: config.manager_agent_id } : {}),
        ...(config?.max_turns != null ? { max_turns: config.max_turns } : {}),
        ...(config?.termination_token != null ? { termination_token: config.termination_token } : {}),
        ...(config?.sleeptime_agent_frequency != null
          ? { sleeptime_agent_frequency: config.sleeptime_agent_frequency }
          : {}),
        updated_at: nowIso(),
      });
      if (input.agent_ids != null) await tx.groups.setAgents(groupId, input.agent_ids);
      if (input.shared_block_ids != null) {
        for (const blockId of group.shared_block_ids) await tx.groups.removeBlock(groupId, blockId);
        for (const blockId of input.shared_block_ids) {
          if (!(await tx.blocks.findById(blockId))) throw missing('Block', blockId);
          await tx.groups.addBlock(groupId, blockId);
        }
      }
      return toGroup(await this.require(groupId, tx));
    });
  }

  async delete(groupId: string): Promise<void> {
    await this.stores.transaction(async (tx) => {
      await this.require(groupId, tx);
      await tx.groups.delete(groupId);
    });
  }

  /**
   * `PATCH /groups/{id}/blocks/attach/{block_id}`: the block becomes one of the group's shared blocks and is
   * attached to every agent of the group, its manager included, as Letta does for `shared_block_ids` on create.
   */
  async attachBlock(groupId: string, blockId: string): Promise<void> {
    await this.stores.transaction(async (tx) => {
      const group = await this.require(groupId, tx);
      await this.blocks.attachToAgents(tx, membersOf(group), blockId);
      await tx.groups.addBlock(groupId, blockId);
    });
  }

  /** `PATCH /groups/{id}/blocks/detach/{block_id}`: the reverse, from the group and every one of its agents. */
  async detachBlock(groupId: string, blockId: string): Promise<void> {
    await this.stores.transaction(async (tx) => {
      const group = await this.require(groupId, tx);
      await this.blocks.detachFromAgents(tx, membersOf(group), blockId);
      await tx.groups.removeBlock(groupId, blockId);
    });
  }

  /** Counts the manager's turn; on every `frequency`-th one, starts each sleeptime agent's background run. */
  private async afterTurn({ agentId, conversationId, outcome }: TurnEnded): Promise<void> {
    // Only the agent's own thread feeds its sleeptime agents; a failed turn has nothing new to review.
    if (conversationId !== null || outcome.error) return;
    const [group, agent] = await Promise.all([
      this.stores.groups.managedBy(agentId),
      this.stores.agents.findById(agentId),
    ]);
    // As Letta: `enable_sleeptime: false` keeps the group but stops its reviews.
    if (!group || group.manager_type !== 'sleeptime' || !agent?.enable_sleeptime) return;
    const frequency = group.sleeptime_agent_frequency;
    if (frequency !== null) {
      const count = await this.stores.groups.countTurn(group.id);
      if (count === undefined || count % frequency !== 0) return;
    }
    const history = group.last_processed_message_id
      ? await this.stores.messages.list(
          agentId,
          { kind: 'default' },
          { after: group.last_processed_message_id, limit: TRANSCRIPT_LIMIT, order: 'asc' },
        )
      : (
          await this.stores.messages.list(agentId, { kind: 'default' }, { limit: TRANSCRIPT_LIMIT, order: 'desc' })
        ).reverse();
    const last = history.at(-1);
    if (!last) return;
    const transcript = history
      .map(transcriptLine)
      .filter((line) => line !== null)
      .join('\n');
    let started = false;
    for (const sleeptimeAgentId of group.agent_ids) {
      try {
        const turn = await this.turns.start(
          sleeptimeAgentId,
          null,
          {
            messages: [
              {
                type: 'message',
                role: 'user',
                content: `${SLEEPTIME_REMINDER}Messages:\n${transcript}`,
                group_id: group.id,
              },
            ],
          },
          'async',
        );
        turn.outcome.catch(() => {});
        started = true;
      } catch (error) {
        this.logger.warn({ err: error, sleeptimeAgentId }, 'a sleeptime agent did not start');
      }
    }
    // Left where it was when none started (busy with the previous review), so the next review reads these too.
    if (started) await this.stores.groups.update(group.id, { last_processed_message_id: last.id });
  }
}
