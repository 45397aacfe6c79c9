import { badRequest, notFound } from '../lib/errors.js';
import { missing } from '../domain/errors.js';
import { toGroup } from './group.service.js';
import { newId } from '../lib/ids.js';
import { nowIso } from '../lib/time.js';
import { toLettaMessages } from '../domain/letta-messages.js';
import { isApprovalRequest } from '../domain/messages.js';
import { baseSystemPrompt } from '../domain/prompts/base.js';
import type {
  AgentInclude,
  AgentState,
  AgentType,
  CreateAgent,
  ListAgentsQuery,
  UpdateAgent,
} from '../schemas/agent.js';
import type { PageQuery } from '../schemas/common.js';
import type { AgentRecord } from '../store/agent.store.js';
import type { Stores } from '../store/index.js';
import { toIdentity } from '../store/identity.store.js';
import { bool, flag, parseJson, toJsonText } from '../store/json.js';
import { toTool } from '../store/tool.store.js';
import { defaultToolNames } from '../tools/builtin/definitions.js';
import { MULTI_AGENT_TOOLS } from '../tools/builtin/multi-agent-tools.js';
import { sealAgentSecrets } from '../domain/agent-secrets.js';
import type { FolderService } from './folder.service.js';
import { dedupeToolRules, type ToolRule } from '../domain/tool-rules.js';
import type { SecretBox } from '../lib/secrets.js';
import type { BlockService } from './block.service.js';
import type { MemoryEventBus } from '../domain/memory-events.js';
import {
  defaultModelSettings,
  embeddingConfigFor,
  llmConfigFor,
  parseHandle,
  requestedHandle,
} from '../domain/models.js';

/** `'all'` for legacy callers; the requested relationships for 1.0 SDK callers (§1.7). */
export type IncludeSet = 'all' | ReadonlySet<AgentInclude>;

export interface AgentDefaults {
  llmHandle: string;
  embeddingHandle: string;
}

const LEGACY_RELATIONSHIP: Record<string, AgentInclude> = {
  tools: 'agent.tools',
  blocks: 'agent.blocks',
  memory: 'agent.blocks',
  tags: 'agent.tags',
  identities: 'agent.identities',
  sources: 'agent.sources',
};

export function resolveIncludes(
  modernClient: boolean,
  include?: AgentInclude[],
  includeRelationships?: string[],
): IncludeSet {
  if (!modernClient && !include?.length) {
    if (!includeRelationships?.length) return 'all';
    return new Set(includeRelationships.flatMap((name) => LEGACY_RELATIONSHIP[name] ?? []));
  }
  return new Set(include ?? []);
}

/** Letta's `sleeptime_memory_persona.txt`: the sleeptime agent's own block. */
const SLEEPTIME_MEMORY_PERSONA = `I am an expert conversation memory agent that can do the following:
- Consolidate memories into more concise blocks
- Identify patterns in user behavior
- Make inferences based on the memory
I manage the memory blocks such that they contain everything that is important about the conversation.`;

/** Letta's `sleeptime_agent_frequency` for the group `enable_sleeptime` creates. */
const SLEEPTIME_FREQUENCY = 5;

const has = (includes: IncludeSet, value: AgentInclude) => includes === 'all' || includes.has(value);

export class AgentService {
  constructor(
    private readonly stores: Stores,
    private readonly blocks: BlockService,
    private readonly events: MemoryEventBus,
    private readonly defaults: AgentDefaults,
    private readonly secretBox: SecretBox,
    private readonly folders: Pick<FolderService, 'presentFolders'>,
  ) {}

  async require(agentId: string, tx: Stores = this.stores): Promise<AgentRecord> {
    const row = await tx.agents.findById(agentId);
    if (!row) throw missing('Agent', agentId);
    return row;
  }

  async assertExists(agentId: string, tx: Stores = this.stores): Promise<void> {
    if (!(await tx.agents.exists(agentId))) throw missing('Agent', agentId);
  }

  async present(records: AgentRecord[], includes: IncludeSet, tx: Stores = this.stores): Promise<AgentState[]> {
    const ids = records.map((r) => r.id);
    const wantBlocks = has(includes, 'agent.blocks');
    const wantIdentities = has(includes, 'agent.identities');
    const [blocksByAgent, toolsByAgent, tagsByAgent, identityIdsByAgent] = await Promise.all([
      wantBlocks ? tx.blocks.listForAgents(ids) : undefined,
      has(includes, 'agent.tools') ? tx.tools.listForAgents(ids) : undefined,
      has(includes, 'agent.tags') ? tx.agents.tagsFor(ids) : undefined,
      wantIdentities ? tx.identities.identitiesOf('identity_agents', ids) : undefined,
    ]);
    const pendingByAgent = has(includes, 'agent.pending_approval') ? await pendingApprovals(records, tx) : undefined;
    const sourcesByAgent = has(includes, 'agent.sources')
      ? new Map(
          await Promise.all(
            ids.map(async (id) => [id, await this.folders.presentFolders(await tx.folders.foldersOf(id), tx)] as const),
          ),
        )
      : undefined;
    const groupByAgent = new Map(
      [...(await tx.groups.managedByEach(ids))].map(([agentId, group]) => [agentId, toGroup(group)]),
    );
    const presentedBlocks = blocksByAgent ? await this.blocks.present([...blocksByAgent.values()].flat(), tx) : [];
    const blockById = new Map(presentedBlocks.map((b) => [b.id, b]));
    const identityRows = identityIdsByAgent
      ? await tx.identities.findManyByIds([...new Set([...identityIdsByAgent.values()].flat())])
      : [];
    const identityIds = identityRows.map((r) => r.id);
    const [identityAgents, identityBlocks] = await Promise.all([
      tx.identities.links('identity_agents', identityIds),
      tx.identities.links('identity_blocks', identityIds),
    ]);
    const identityById = new Map(
      identityRows.map((r) => [r.id, toIdentity(r, identityAgents.get(r.id) ?? [], identityBlocks.get(r.id) ?? [])]),
    );

    return records.map((row) => {
      const blocks = (blocksByAgent?.get(row.id) ?? []).map((b) => blockById.get(b.id)!);
      const agentIdentityIds = identityIdsByAgent?.get(row.id) ?? [];
      return {
        id: row.id,
        name: row.name,
        description: row.description,
        metadata: parseJson(row.metadata, null),
        agent_type: row.agent_type as AgentType,
        system: row.system,
        tool_rules: parseJson(row.tool_rules, []),
        message_ids: parseJson(row.message_ids, []),
        llm_config: parseJson(row.llm_config, {}) as AgentState['llm_config'],
        embedding_config: parseJson(row.embedding_config, null),
        model: row.model,
        embedding: row.embedding,
        model_settings: parseJson(row.model_settings, null),
        compaction_settings: parseJson(row.compaction_settings, null),
        response_format: parseJson(row.response_format, null),
        memory: { blocks, file_blocks: [], prompt_template: '', agent_type: row.agent_type },
        blocks,
        tools: (toolsByAgent?.get(row.id) ?? []).map(toTool),
        sources: sourcesByAgent?.get(row.id) ?? [],
        tags: tagsByAgent?.get(row.id) ?? [],
        identity_ids: agentIdentityIds,
        identities: agentIdentityIds.flatMap((id) => identityById.get(id) ?? []),
        secrets: [],
        tool_exec_environment_variables: [],
        pending_approval: pendingByAgent?.get(row.id) ?? null,
        managed_group: groupByAgent.get(row.id) ?? null,
        multi_agent_group: groupByAgent.get(row.id) ?? null,
        project_id: row.project_id,
        template_id: row.template_id,
        base_template_id: row.base_template_id,
        deployment_id: null,
        entity_id: null,
        message_buffer_autoclear: bool(row.message_buffer_autoclear),
        enable_sleeptime: bool(row.enable_sleeptime),
        last_run_completion: row.last_run_completion,
        last_run_duration_ms: row.last_run_duration_ms,
        last_stop_reason: row.last_stop_reason,
        timezone: row.timezone,
        max_files_open: row.max_files_open,
        per_file_view_window_char_limit: row.per_file_view_window_char_limit,
        hidden: row.hidden ? true : null,
        created_by_id: null,
        last_updated_by_id: null,
        created_at: row.created_at,
        updated_at: row.updated_at,
      } satisfies AgentState;
    });
  }

  async presentOne(record: AgentRecord, includes: IncludeSet, tx: Stores = this.stores): Promise<AgentState> {
    const [agent] = await this.present([record], includes, tx);
    return agent!;
  }

  async get(agentId: string, includes: IncludeSet): Promise<AgentState> {
    return this.presentOne(await this.require(agentId), includes);
  }

  /**
   * Letta Cloud's `GET /agents/{id}/secrets`, which Letta Code reads (and, with memfs on, cannot do without). Names
   * only: a secret's value never leaves the server, so Letta Code substitutes nothing for `$NAME`.
   */
  async secretNames(agentId: string): Promise<{ key: string; value: null }[]> {
    const row = await this.require(agentId);
    return Object.keys(parseJson<Record<string, string>>(row.secrets, {})).map((key) => ({ key, value: null }));
  }

  async list(query: ListAgentsQuery, includes: IncludeSet): Promise<AgentState[]> {
    const rows = await this.stores.agents.list(
      {
        name: query.name,
        tags: query.tags,
        matchAllTags: query.match_all_tags,
        queryText: query.query_text,
        projectId: query.project_id,
        templateId: query.template_id,
        baseTemplateId: query.base_template_id,
        identityId: query.identity_id,
        identifierKeys: query.identifier_keys,
        showHidden: query.show_hidden_agents,
        lastStopReason: query.last_stop_reason,
      },
      { ...query, order: query.order ?? (query.ascending ? 'asc' : 'desc') },
      query.order_by,
    );
    return this.present(rows, includes);
  }

  /**
   * The agents a block is attached to, or an identity is linked to, keyset-paged newest first like Letta: the
   * SDK auto-paginates these lists and stops only on an empty page.
   */
  async listLinked(
    link: { blockId: string } | { identityId: string } | { archiveId: string },
    page: PageQuery,
    includes: IncludeSet,
  ): Promise<AgentState[]> {
    if ('blockId' in link) await this.blocks.require(link.blockId);
    else if ('identityId' in link) {
      if (!(await this.stores.identities.findById(link.identityId))) throw missing('Identity', link.identityId);
    } else if (!(await this.stores.archival.findArchive(link.archiveId))) throw missing('Archive', link.archiveId);
    const rows = await this.stores.agents.list({ ...link, showHidden: true }, { ...page, order: page.order ?? 'desc' });
    return this.present(rows, includes);
  }

  count(filter: { name?: string | undefined; tags?: string[] | undefined; match_all_tags?: boolean }): Promise<number> {
    return this.stores.agents.count({
      name: filter.name,
      tags: filter.tags,
      matchAllTags: filter.match_all_tags ?? false,
      showHidden: true,
    });
  }

  /**
   * Creates the agent with its blocks, tools, tags and identities in one transaction (the caller's, when given: an
   * agent-file import creates several agents atomically); returns it fully loaded.
   */
  async create(input: CreateAgent, within: Stores = this.stores): Promise<AgentState> {
    const agentType: AgentType = input.agent_type ?? 'letta_v1_agent';
    const model = requestedHandle(input.model, input.llm_config) ?? this.defaults.llmHandle;
    const embedding = requestedHandle(input.embedding, input.embedding_config) ?? this.defaults.embeddingHandle;
    const llmConfig = llmConfigFor(model, {
      contextWindowLimit: input.context_window_limit,
      maxTokens: input.max_tokens,
      parallelToolCalls: input.parallel_tool_calls,
      base: input.llm_config,
    });
    const embeddingConfig = { ...embeddingConfigFor(embedding), ...(input.embedding_config ?? {}) };
    const enableSleeptime = input.enable_sleeptime ?? false;

    return within.transaction(async (tx) => {
      const id = await this.insertAgent(tx, input, agentType, model, embedding, llmConfig, embeddingConfig);
      if (enableSleeptime) await this.addSleeptimeAgent(tx, id);
      return this.presentOne(await this.require(id, tx), 'all', tx);
    });
  }

  /**
   * What Letta's `create_sleeptime_agent_async` builds: `<name>-sleeptime`, a sleeptime agent with the primary's
   * blocks (the same rows, so its edits are the primary's memory) plus its own `memory_persona`, the same models,
   * and a `sleeptime` group the primary manages that runs it every fifth turn.
   */
  private async addSleeptimeAgent(tx: Stores, primaryId: string): Promise<void> {
    if (await tx.groups.managedBy(primaryId)) return;
    const primary = await this.require(primaryId, tx);
    const blocks = (await tx.blocks.listForAgents([primaryId])).get(primaryId) ?? [];
    const llmConfig = parseJson<Record<string, unknown>>(primary.llm_config, {});
    const embeddingConfig = parseJson<Record<string, unknown>>(primary.embedding_config, {});
    const sleeptimeId = await this.insertAgent(
      tx,
      {
        name: `${primary.name}-sleeptime`,
        agent_type: 'sleeptime_agent',
        block_ids: blocks.map((b) => b.id),
        memory_blocks: [{ label: 'memory_persona', value: SLEEPTIME_MEMORY_PERSONA }],
        project_id: primary.project_id,
        initial_message_sequence: [],
      } as CreateAgent,
      'sleeptime_agent',
      primary.model ?? this.defaults.llmHandle,
      primary.embedding ?? this.defaults.embeddingHandle,
      llmConfig,
      embeddingConfig,
    );
    const now = nowIso();
    await tx.groups.insert(
      {
        id: newId('group'),
        manager_type: 'sleeptime',
        description: '',
        manager_agent_id: primaryId,
        sleeptime_agent_frequency: SLEEPTIME_FREQUENCY,
        turns_counter: 0,
        last_processed_message_id: null,
        max_turns: null,
        termination_token: null,
        hidden: 0,
        project_id: primary.project_id,
        created_at: now,
        updated_at: now,
      },
      [sleeptimeId],
      [],
    );
  }

  private async insertAgent(
    tx: Stores,
    input: CreateAgent,
    agentType: AgentType,
    model: string,
    embedding: string,
    llmConfig: Record<string, unknown>,
    embeddingConfig: Record<string, unknown>,
  ): Promise<string> {
    const enableSleeptime = input.enable_sleeptime ?? false;
    const toolIds = await this.resolveTools(tx, input, agentType, enableSleeptime);
    const now = nowIso();
    const id = newId('agent');
    const row = {
      id,
      name: input.name ?? randomAgentName(),
      description: input.description ?? null,
      agent_type: agentType,
      system: input.system ?? baseSystemPrompt(agentType),
      model,
      embedding,
      llm_config: JSON.stringify(llmConfig),
      embedding_config: JSON.stringify(embeddingConfig),
      model_settings: JSON.stringify(input.model_settings ?? defaultModelSettings(model, input.parallel_tool_calls)),
      compaction_settings: toJsonText(input.compaction_settings),
      context_window_limit: input.context_window_limit ?? null,
      tool_rules: JSON.stringify(await this.creationToolRules(tx, input.tool_rules ?? [], toolIds)),
      metadata: toJsonText(input.metadata),
      message_ids: '[]',
      enable_sleeptime: flag(enableSleeptime),
      message_buffer_autoclear: flag(input.message_buffer_autoclear),
      timezone: input.timezone ?? 'UTC',
      hidden: flag(input.hidden),
      project_id: input.project_id ?? null,
      template_id: input.template_id ?? null,
      base_template_id: input.base_template_id ?? null,
      response_format: toJsonText(input.response_format),
      secrets: sealAgentSecrets(this.secretBox, id, input.secrets ?? input.tool_exec_environment_variables ?? {}),
      last_run_completion: null,
      last_run_duration_ms: null,
      last_stop_reason: null,
      max_files_open: input.max_files_open ?? null,
      per_file_view_window_char_limit: input.per_file_view_window_char_limit ?? null,
      created_at: now,
      updated_at: now,
    };
    await tx.agents.insert(row);
    for (const block of input.memory_blocks ?? []) {
      const created = await this.blocks.insert(tx, block);
      await this.blocks.attachToAgent(tx, id, created.id);
    }
    for (const blockId of input.block_ids ?? []) await this.blocks.attachToAgent(tx, id, blockId);
    await tx.tools.attach(id, toolIds);
    await tx.agents.setTags(id, input.tags ?? []);
    await this.setIdentities(tx, id, input.identity_ids ?? []);
    await this.events.agentCreated(tx, id, { initialMessages: input.initial_message_sequence ?? null });
    return id;
  }

  private async resolveTools(
    tx: Stores,
    input: CreateAgent,
    agentType: AgentType,
    enableSleeptime: boolean,
  ): Promise<string[]> {
    const names = [
      ...(input.include_base_tools === false ? [] : defaultToolNames(agentType, enableSleeptime)),
      ...(input.include_multi_agent_tools === true ? MULTI_AGENT_TOOLS.map((t) => t.schema.name) : []),
      ...(input.tools ?? []),
    ];
    const byName = new Map((await tx.tools.findManyByNames(names)).map((t) => [t.name, t.id]));
    const unnamed = [...new Set(names.filter((n) => !byName.has(n)))];
    if (unnamed.length > 0) throw badRequest(`Tools not found by name: ${JSON.stringify(unnamed)}`);
    const ids = input.tool_ids ?? [];
    const found = new Set((await tx.tools.findManyByIds(ids)).map((t) => t.id));
    const unknown = ids.filter((toolId) => !found.has(toolId));
    if (unknown[0] !== undefined) throw missing('Tool', unknown[0]);
    return [...names.map((n) => byName.get(n)!), ...ids];
  }

  private async setIdentities(tx: Stores, agentId: string, identityIds: string[]): Promise<void> {
    const found = new Set((await tx.identities.findManyByIds(identityIds)).map((r) => r.id));
    const unknown = identityIds.find((id) => !found.has(id));
    if (unknown) throw missing('Identity', unknown);
    await tx.identities.setIdentitiesOf('identity_agents', agentId, identityIds);
  }

  async update(agentId: string, input: UpdateAgent, includes: IncludeSet): Promise<AgentState> {
    return this.stores.transaction(async (tx) => {
      const row = await this.require(agentId, tx);
      const changes: Partial<AgentRecord> = {};
      if (input.name != null) changes.name = input.name;
      if (input.description !== undefined) changes.description = input.description;
      if (input.metadata !== undefined) changes.metadata = toJsonText(input.metadata);
      if (input.system != null) changes.system = input.system;
      if (input.tool_rules != null) changes.tool_rules = JSON.stringify(dedupeToolRules(input.tool_rules));
      if (input.message_ids != null) changes.message_ids = JSON.stringify(input.message_ids);
      if (input.compaction_settings !== undefined) changes.compaction_settings = toJsonText(input.compaction_settings);
      if (input.response_format !== undefined) changes.response_format = toJsonText(input.response_format);
      if (input.message_buffer_autoclear != null)
        changes.message_buffer_autoclear = flag(input.message_buffer_autoclear);
      if (input.enable_sleeptime != null) changes.enable_sleeptime = flag(input.enable_sleeptime);
      if (input.timezone != null) changes.timezone = input.timezone;
      if (input.max_files_open !== undefined) changes.max_files_open = input.max_files_open;
      if (input.per_file_view_window_char_limit !== undefined)
        changes.per_file_view_window_char_limit = input.per_file_view_window_char_limit;
      if (input.hidden != null) changes.hidden = flag(input.hidden);
      if (input.project_id !== undefined) changes.project_id = input.project_id;
      if (input.template_id !== undefined) changes.template_id = input.template_id;
      if (input.base_template_id !== undefined) changes.base_template_id = input.base_template_id;
      if (input.last_run_completion !== undefined) changes.last_run_completion = input.last_run_completion;
      if (input.last_run_duration_ms !== undefined) changes.last_run_duration_ms = input.last_run_duration_ms;
      if (input.last_stop_reason !== undefined) changes.last_stop_reason = input.last_stop_reason;
      if (input.secrets != null || input.tool_exec_environment_variables != null)
        changes.secrets = sealAgentSecrets(
          this.secretBox,
          agentId,
          input.secrets ?? input.tool_exec_environment_variables ?? {},
        );
      if (input.context_window_limit !== undefined) changes.context_window_limit = input.context_window_limit;

      const modelChanged =
        input.model != null ||
        input.llm_config != null ||
        input.context_window_limit != null ||
        input.max_tokens != null ||
        input.parallel_tool_calls != null;
      if (modelChanged) {
        const current = parseJson<Record<string, unknown>>(row.llm_config, {});
        const model = requestedHandle(input.model, input.llm_config) ?? row.model ?? this.defaults.llmHandle;
        const sameModel = model === row.model;
        changes.model = model;
        changes.llm_config = JSON.stringify(
          llmConfigFor(model, {
            contextWindowLimit: input.context_window_limit ?? row.context_window_limit,
            maxTokens: input.max_tokens ?? (sameModel ? (current.max_tokens as number | null) : null),
            parallelToolCalls:
              input.parallel_tool_calls ?? (sameModel ? (current.parallel_tool_calls as boolean | null) : null),
            base: input.llm_config,
          }),
        );
      }
      if (input.model_settings != null) changes.model_settings = JSON.stringify(input.model_settings);
      else if (input.model != null && input.model !== row.model)
        changes.model_settings = JSON.stringify(defaultModelSettings(input.model, input.parallel_tool_calls));

      const newEmbedding = requestedHandle(input.embedding, input.embedding_config);
      if (newEmbedding != null) {
        parseHandle(newEmbedding, 'embedding');
        changes.embedding = newEmbedding;
        changes.embedding_config = JSON.stringify({
          ...embeddingConfigFor(newEmbedding),
          ...(input.embedding_config ?? {}),
        });
      }

      changes.updated_at = nowIso();
      await tx.agents.update(agentId, changes);

      if (input.tags != null) await tx.agents.setTags(agentId, input.tags);
      if (input.identity_ids != null) await this.setIdentities(tx, agentId, input.identity_ids);
      if (input.tool_ids != null) {
        const found = new Set((await tx.tools.findManyByIds(input.tool_ids)).map((t) => t.id));
        const unknown = input.tool_ids.find((id) => !found.has(id));
        if (unknown) throw missing('Tool', unknown);
        for (const tool of await tx.tools.listForAgents([agentId]).then((m) => m.get(agentId) ?? []))
          await tx.tools.detach(agentId, tool.id);
        await tx.tools.attach(agentId, input.tool_ids);
      }
      if (input.block_ids != null) {
        const current = await tx.blocks.listForAgent(agentId);
        for (const block of current) if (!input.block_ids.includes(block.id)) await tx.blocks.detach(agentId, block.id);
        for (const blockId of input.block_ids) await this.blocks.attachToAgent(tx, agentId, blockId);
        await this.events.blocksChanged(tx, [agentId]);
      }
      if (input.system != null) await this.events.blocksChanged(tx, [agentId]);
      if (newEmbedding != null && newEmbedding !== row.embedding)
        await this.events.embeddingChanged(tx, agentId, newEmbedding);
      if (input.enable_sleeptime === true) await this.addSleeptimeAgent(tx, agentId);
      return this.presentOne(await this.require(agentId, tx), includes, tx);
    });
  }

  async delete(agentId: string): Promise<void> {
    await this.stores.transaction(async (tx) => {
      await this.assertExists(agentId, tx);
      // A primary's sleeptime agents exist only to serve it, and go with it (its group goes by cascade).
      const managed = await tx.groups.managedBy(agentId);
      const helpers = managed?.manager_type === 'sleeptime' ? managed.agent_ids : [];
      for (const id of [agentId, ...helpers]) {
        await this.events.agentDeleting(tx, id);
        await tx.agents.delete(id);
      }
    });
  }

  async attachBlock(agentId: string, blockId: string): Promise<AgentState> {
    return this.stores.transaction(async (tx) => {
      await this.assertExists(agentId, tx);
      await this.blocks.attachToAgent(tx, agentId, blockId);
      await this.touch(tx, agentId);
      await this.events.blocksChanged(tx, [agentId]);
      return this.presentOne(await this.require(agentId, tx), 'all', tx);
    });
  }

  async detachBlock(agentId: string, blockId: string): Promise<AgentState> {
    return this.stores.transaction(async (tx) => {
      await this.assertExists(agentId, tx);
      await this.blocks.require(blockId, tx);
      if (await tx.blocks.detach(agentId, blockId)) {
        await this.touch(tx, agentId);
        await this.events.blocksChanged(tx, [agentId]);
      }
      return this.presentOne(await this.require(agentId, tx), 'all', tx);
    });
  }

  async attachIdentity(agentId: string, identityId: string, attach: boolean): Promise<AgentState> {
    return this.stores.transaction(async (tx) => {
      await this.assertExists(agentId, tx);
      if (!(await tx.identities.findById(identityId))) throw missing('Identity', identityId);
      if (attach) await tx.identities.link('identity_agents', identityId, agentId);
      else await tx.identities.unlink('identity_agents', identityId, agentId);
      await this.touch(tx, agentId);
      return this.presentOne(await this.require(agentId, tx), 'all', tx);
    });
  }

  /** `PATCH /agents/{id}/tools/attach|detach/{tool_id}`: idempotent both ways, like Letta. */
  async attachTool(agentId: string, toolId: string, attach: boolean): Promise<void> {
    await this.stores.transaction(async (tx) => {
      await this.assertExists(agentId, tx);
      if (!(await tx.tools.findById(toolId))) throw missing('Tool', toolId);
      if (attach) await tx.tools.attach(agentId, [toolId]);
      else await tx.tools.detach(agentId, toolId);
      await this.touch(tx, agentId);
    });
  }

  /**
   * `PATCH /agents/{id}/tools/approval/{tool_name}`: adds or removes the agent's `requires_approval` rule for the tool
   * (Letta's `modify_approvals`); the loop then asks for approval before running it. The tool need not be attached.
   */
  async setToolApproval(agentId: string, toolName: string, requiresApproval: boolean): Promise<void> {
    await this.stores.transaction(async (tx) => {
      const row = await this.require(agentId, tx);
      const rules = parseJson<ToolRule[]>(row.tool_rules, []);
      const isTarget = (r: ToolRule) => r.tool_name === toolName && r.type === 'requires_approval';
      const present = rules.some(isTarget);
      if (present === requiresApproval) return;
      const next = requiresApproval
        ? [...rules, { tool_name: toolName, type: 'requires_approval' }]
        : rules.filter((r) => !isTarget(r));
      await tx.agents.update(agentId, { tool_rules: JSON.stringify(next), updated_at: nowIso() });
    });
  }

  /** The request's rules without repeats, plus a `requires_approval` rule for each tool that asks for one by default. */
  private async creationToolRules(tx: Stores, rules: ToolRule[], toolIds: string[]): Promise<ToolRule[]> {
    const approvals = (await tx.tools.findManyByIds(toolIds))
      .filter((t) => t.default_requires_approval)
      .map((t) => ({ tool_name: t.name, type: 'requires_approval' }));
    return dedupeToolRules([...rules, ...approvals]);
  }

  private touch(tx: Stores, agentId: string): Promise<void> {
    return tx.agents.update(agentId, { updated_at: nowIso() });
  }

  /** Core memory by label. Paged in attachment order (the order the prompt shows them) unless `order` says otherwise. */
  async listBlocks(agentId: string, page: PageQuery = { limit: 10_000 }) {
    await this.assertExists(agentId);
    return this.blocks.present(await this.stores.blocks.pageForAgent(agentId, { ...page, order: page.order ?? 'asc' }));
  }

  /** The legacy `Memory` object (`GET /agents/{id}/core-memory`), still read by the Letta MCP server. */
  async memory(agentId: string) {
    return {
      blocks: await this.listBlocks(agentId),
      file_blocks: [],
      prompt_template: '',
      agent_type: null,
      git_enabled: false,
    };
  }

  async getBlock(agentId: string, label: string) {
    const row = await this.stores.blocks.findForAgentByLabel(agentId, label);
    if (!row) {
      await this.assertExists(agentId);
      throw notFound(`Block with label '${label}' not found for agent '${agentId}'`);
    }
    return this.blocks.presentOne(row);
  }

  async updateBlock(agentId: string, label: string, patch: Parameters<BlockService['applyUpdate']>[2]) {
    return this.stores.transaction(async (tx) => {
      const row = await tx.blocks.findForAgentByLabel(agentId, label);
      if (!row) {
        await this.assertExists(agentId, tx);
        throw notFound(`Block with label '${label}' not found for agent '${agentId}'`);
      }
      return this.blocks.presentOne(
        await this.blocks.applyUpdate(tx, await this.blocks.lockForWrite(tx, row), patch),
        tx,
      );
    });
  }
}

/**
 * `include=agent.pending_approval`: the approval request a thread stopped on (its last in-context message), as the
 * `approval_request_message` the client must answer (§5.6). One batched read of the agents' last messages.
 */
async function pendingApprovals(records: AgentRecord[], tx: Stores): Promise<Map<string, unknown>> {
  const lastIds = records.flatMap((r) => parseJson<string[]>(r.message_ids, []).slice(-1));
  const rows = await tx.messages.findByIds(lastIds);
  const types = new Map(records.map((r) => [r.id, r.agent_type]));
  return new Map(
    rows
      .filter(isApprovalRequest)
      .map((row) => [
        row.agent_id,
        toLettaMessages(row, { agentType: types.get(row.agent_id) ?? 'letta_v1_agent' })[0],
      ]),
  );
}

const ADJECTIVES = [
  'amber',
  'brisk',
  'calm',
  'deft',
  'eager',
  'fair',
  'gentle',
  'hardy',
  'keen',
  'lucid',
  'mellow',
  'nimble',
  'quiet',
  'rapid',
  'steady',
  'vivid',
];
const NOUNS = [
  'badger',
  'cairn',
  'falcon',
  'harbor',
  'lantern',
  'meadow',
  'otter',
  'pine',
  'quarry',
  'raven',
  'summit',
  'thistle',
  'willow',
];

function randomAgentName(): string {
  const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)]!;
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${Math.floor(Math.random() * 1000)}`;
}
