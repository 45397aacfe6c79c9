import { missing } from '../domain/errors.js';
import type { ContentPart } from '../domain/messages.js';
import { messageRow } from '../domain/messages.js';
import { badRequest } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { nowIso, toIso } from '../lib/time.js';
import { inContextIds, type SystemPrompts } from '../runtime/system-prompt.js';
import {
  type AgentFile,
  type AgentFileAgent,
  type AgentFileMessage,
  type AgentFileTool,
  type ExportOptions,
  type ImportOptions,
} from '../schemas/agent-file.js';
import { createAgentSchema, type CreateAgent } from '../schemas/agent.js';
import type { Block } from '../schemas/block.js';
import type { Tool } from '../schemas/tool.js';
import type { AgentState } from '../schemas/agent.js';
import type { SecretBox } from '../lib/secrets.js';
import type { AgentRecord } from '../store/agent.store.js';
import { CAIRN_VERSION } from '../version.js';
import type { Stores } from '../store/index.js';
import { bool, parseJson } from '../store/json.js';
import type { MessageRecord, NewMessage } from '../store/message.store.js';
import type { ToolRecord } from '../store/tool.store.js';
import { deriveToolSchema, toolFunction, ToolSchemaError } from '../tools/schema/index.js';
import { parseModule } from '../tools/schema/python-ast.js';
import type { AgentService } from './agent.service.js';
import type { ArchivalService } from './archival.service.js';
import type { BlockService } from './block.service.js';
import type { FolderService } from './folder.service.js';
import { ExportedFolders, importFolders, restoreFileViews } from './agent-file-folders.js';
import { mcpServerOfTool, validateAgentFileReferences } from './agent-file-checks.js';
import {
  exportGroup,
  exportMcpServers,
  importedMcpTool,
  importGroups,
  importMcpServers,
  withMcpServerId,
} from './agent-file-graph.js';

export interface AgentFileLimits {
  /** The largest upload `POST /agents/import` reads; a larger one is refused while it streams. */
  maxBytes: number;
  /** The deepest JSON nesting accepted; deeper files are refused before they are parsed. */
  maxDepth: number;
}

/** Per-kind counters for the ids inside a file (`agent-0`, `block-3`), as Letta's `_generate_file_id`. */
class FileIds {
  private readonly byDbId = new Map<string, string>();
  private readonly counters = new Map<string, number>();

  of(dbId: string, kind: string): string {
    let fileId = this.byDbId.get(dbId);
    if (fileId === undefined) {
      const n = this.counters.get(kind) ?? 0;
      this.counters.set(kind, n + 1);
      fileId = `${kind}-${n}`;
      this.byDbId.set(dbId, fileId);
    }
    return fileId;
  }

  known(dbId: string): string | undefined {
    return this.byDbId.get(dbId);
  }
}

/** Rows per message INSERT; ~25 columns each stays far below SQLite's and PostgreSQL's parameter limits. */
const MESSAGE_BATCH = 500;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const isCoreTool = (toolType: string | null | undefined) =>
  typeof toolType === 'string' && toolType.startsWith('letta_');

/**
 * Export and import of Letta Agent Files (§14). Export reads one agent, its blocks, tools and one thread's messages
 * in a transaction and renumbers every id; import validates the whole file before it writes, then creates everything
 * under new ids in one transaction, so a file that fails anywhere leaves nothing behind.
 */
export class AgentFileService {
  constructor(
    private readonly stores: Stores,
    private readonly agents: AgentService,
    private readonly blocks: BlockService,
    private readonly archival: ArchivalService,
    private readonly prompts: SystemPrompts,
    readonly limits: AgentFileLimits,
    /** For imported MCP servers: the box seals their secrets (an export never opens one), and stdio may be off. */
    private readonly mcp: { box: SecretBox; disableStdio: boolean },
    private readonly folders: FolderService,
  ) {}

  /**
   * Letta exports an agent with the group it manages and that group's other agents (a sleeptime agent, say), the
   * MCP servers its tools come from, and every block and tool once however many of the agents share it.
   */
  async export(agentId: string, options: ExportOptions): Promise<Record<string, unknown>> {
    return this.stores.transaction(async (tx) => {
      const primary = await this.agents.require(agentId, tx);
      const ids = new FileIds();
      ids.of(agentId, 'agent');
      const group = await tx.groups.managedBy(agentId);
      const memberIds = (group?.agent_ids ?? []).filter((id) => id !== agentId);
      for (const id of memberIds) ids.of(id, 'agent');
      const rows = [primary];
      for (const id of memberIds) rows.push(await this.agents.require(id, tx));
      const blocks = new Map<string, Block>();
      const tools = new Map<string, Tool>();
      const agents: Record<string, unknown>[] = [];
      const folders = new ExportedFolders(this.folders, ids);
      for (const row of rows) {
        const agent = await this.agents.presentOne(row, 'all', tx);
        for (const block of agent.blocks) blocks.set(block.id, block);
        for (const tool of agent.tools) tools.set(tool.id, tool);
        // The conversation asked for is the primary's; the group's other agents give their default thread.
        const thread = row === primary ? options : { ...options, conversationId: null };
        const groupIds = row === primary && group ? [ids.of(group.id, 'group')] : [];
        agents.push(await this.exportAgent(tx, row, agent, ids, thread, groupIds, folders));
      }
      const mcpServers = await exportMcpServers(tx, [...tools.values()], ids);
      return {
        agents,
        groups: group ? [exportGroup(group, ids)] : [],
        blocks: [...blocks.values()].map((b) => exportBlock(b, ids)),
        files: await folders.files(tx),
        sources: await folders.sources(tx),
        tools: [...tools.values()].map((t) => exportTool(t, ids)),
        mcp_servers: mcpServers,
        skills: options.skills ?? [],
        metadata: { revision_id: `cairn-${CAIRN_VERSION}` },
        created_at: nowIso(),
      };
    });
  }

  private async exportAgent(
    tx: Stores,
    row: AgentRecord,
    agent: AgentState,
    ids: FileIds,
    options: ExportOptions,
    groupIds: string[],
    folders: ExportedFolders,
  ): Promise<Record<string, unknown>> {
    const agentId = row.id;
    const fileAgentId = ids.of(agentId, 'agent');
    const { source_ids, files_agents } = await folders.ofAgent(tx, agentId, fileAgentId);
    let messages: Record<string, unknown>[] = [];
    let inContext: string[] = [];
    if (!options.scrubMessages) {
      const conversationId = options.conversationId ?? null;
      if (conversationId !== null) {
        const conversation = await tx.conversations.findById(conversationId);
        if (!conversation || conversation.agent_id !== agentId) throw missing('Conversation', conversationId);
      }
      const thread = await tx.messages.listThread(
        agentId,
        conversationId === null ? { kind: 'default' } : { kind: 'conversation', id: conversationId },
      );
      for (const message of thread) ids.of(message.id, 'message');
      messages = thread.map((m) => exportMessage(m, ids, fileAgentId));
      inContext = (await inContextIds(tx, row, conversationId)).flatMap((id) => ids.known(id) ?? []);
    }

    const passages = options.includePassages ? await exportPassages(tx, agentId) : undefined;
    const secretNames = Object.keys(parseJson<Record<string, string>>(row.secrets, {}));
    const blankSecrets = Object.fromEntries(secretNames.map((name) => [name, '']));
    const llmConfig = agent.llm_config as Record<string, unknown>;
    return {
      name: agent.name,
      memory_blocks: [],
      tools: [],
      tool_ids: agent.tools.map((t) => ids.of(t.id, 'tool')),
      source_ids,
      folder_ids: null,
      block_ids: agent.blocks.map((b) => ids.of(b.id, 'block')),
      tool_rules: agent.tool_rules,
      tags: agent.tags,
      system: agent.system,
      agent_type: agent.agent_type,
      initial_message_sequence: null,
      include_base_tools: false,
      include_multi_agent_tools: false,
      include_base_tool_rules: false,
      include_default_source: false,
      description: agent.description,
      metadata: agent.metadata,
      llm_config: agent.llm_config,
      embedding_config: agent.embedding_config,
      // As Letta: the handles live in the configs, so an importer does not re-resolve them.
      model: null,
      embedding: null,
      model_settings: agent.model_settings,
      compaction_settings: agent.compaction_settings,
      context_window_limit: row.context_window_limit,
      embedding_chunk_size: null,
      max_tokens: null,
      max_reasoning_tokens: null,
      enable_reasoner: false,
      reasoning: null,
      from_template: null,
      template: false,
      project: null,
      // Names only: a secret's value never leaves the server (the importer passes `secrets` to fill them).
      tool_exec_environment_variables: blankSecrets,
      secrets: secretNames.length > 0 ? blankSecrets : null,
      memory_variables: null,
      project_id: agent.project_id,
      template_id: agent.template_id,
      base_template_id: agent.base_template_id,
      identity_ids: null,
      message_buffer_autoclear: agent.message_buffer_autoclear,
      enable_sleeptime: agent.enable_sleeptime ?? false,
      response_format: agent.response_format,
      timezone: agent.timezone,
      max_files_open: agent.max_files_open,
      per_file_view_window_char_limit: agent.per_file_view_window_char_limit,
      hidden: agent.hidden,
      parallel_tool_calls: typeof llmConfig.parallel_tool_calls === 'boolean' ? llmConfig.parallel_tool_calls : null,
      id: fileAgentId,
      in_context_message_ids: inContext,
      messages,
      files_agents,
      group_ids: groupIds,
      ...(passages ? { passages } : {}),
    };
  }

  /**
   * `file`: the upload, validated (in the upload parser's worker). Returns the new agents' ids in the file's order.
   * The transaction yields to the event loop between batches of rows (better-sqlite3 writes synchronously, so a
   * 40,000-message file would otherwise hold the loop for seconds); the store's connection stays the import's until
   * it commits, so no other request's statement joins the transaction meanwhile.
   */
  async import(file: AgentFile, options: ImportOptions): Promise<string[]> {
    validateAgentFileReferences(file);
    const toolSchemas = new Map(file.tools.map((tool) => [tool.id, checkedToolSchema(tool)]));
    const creates = file.agents.map((agent, index) => ({ agent, index, input: agentCreateInput(agent, options) }));
    for (const { input, index } of creates) assertCreatable(input, index);

    return this.stores.transaction(async (tx) => {
      const realIds = new Map<string, string>();
      const servers = await importMcpServers(tx, file.mcp_servers, this.mcp);
      for (const fileTool of file.tools) {
        const { tool, serverId } = importedMcpTool(fileTool, servers);
        const id = await this.importTool(tx, tool, toolSchemas.get(tool.id)!, options);
        if (serverId) await tx.mcpServers.link(serverId, id);
        realIds.set(tool.id, id);
      }
      for (const block of file.blocks) {
        const created = await this.blocks.insert(tx, {
          label: block.label,
          value: block.value,
          limit: block.limit,
          description: block.description,
          read_only: block.read_only,
          hidden: block.hidden,
          metadata: block.metadata,
          tags: block.tags,
          project_id: block.project_id,
          template_name: block.template_name,
          is_template: block.is_template,
        });
        realIds.set(block.id, created.id);
      }
      const imported = await importFolders(tx, file, this.folders, options.embedding);
      const agentIds: string[] = [];
      // An agent whose group the file brings gets that group, not a second one built by `enable_sleeptime`.
      const managers = new Set(file.groups.flatMap((g) => g.manager_config.manager_agent_id ?? []));
      for (const { agent, input } of creates) {
        const grouped = managers.has(agent.id);
        const created = await this.agents.create(
          {
            ...input,
            ...(grouped ? { enable_sleeptime: false } : {}),
            tool_ids: (agent.tool_ids ?? []).map((id) => realIds.get(id)!),
            block_ids: (agent.block_ids ?? []).map((id) => realIds.get(id)!),
          },
          tx,
        );
        realIds.set(agent.id, created.id);
        if (grouped && input.enable_sleeptime) await tx.agents.update(created.id, { enable_sleeptime: 1 });
        await restoreFileViews(tx, this.folders, created.id, agent, imported);
        if (!options.stripMessages) await this.importMessages(tx, created.id, created.message_ids, agent);
        // Queued for embedding with the agent's (possibly overridden) model once the transaction commits.
        for (const [n, passage] of agent.passages.entries()) {
          if (n % MESSAGE_BATCH === 0) await yieldToEventLoop();
          await this.archival.insert(created.id, passage, tx);
        }
        agentIds.push(created.id);
      }
      await importGroups(tx, file.groups, realIds);
      return agentIds;
    });
  }

  /**
   * Letta matches tools by name: a core tool is never changed, a custom one is overwritten when
   * `override_existing_tools` is set and reused otherwise, and an unknown one is created.
   */
  private async importTool(
    tx: Stores,
    tool: AgentFileTool,
    derived: { name: string; description: string | null; jsonSchema: Record<string, unknown> },
    options: ImportOptions,
  ): Promise<string> {
    const [existing] = await tx.tools.findManyByNames([derived.name]);
    const now = nowIso();
    const fields = toolRowFields(tool, derived);
    if (existing) {
      if (!isCoreTool(existing.tool_type) && !isCoreTool(tool.tool_type) && options.overrideExistingTools) {
        await tx.tools.update(existing.id, { ...fields, updated_at: now });
      }
      return existing.id;
    }
    const id = newId('tool');
    await tx.tools.insert({ id, name: derived.name, ...fields, created_at: now, updated_at: now });
    return id;
  }

  /**
   * Replaces the fresh agent's start-up thread with the file's messages under new ids. The compiled system message
   * is recompiled for the new agent (its metadata names the agent), so the file's own copy is only a placeholder.
   */
  private async importMessages(tx: Stores, agentId: string, startIds: string[], agent: AgentFileAgent): Promise<void> {
    if (agent.messages.length === 0) return;
    const newIds = new Map(agent.messages.map((m) => [m.id, newId('message')]));
    const rows = agent.messages.map((m) => importMessage(m, agentId, newIds));
    // One statement per batch: a long history in one INSERT would pass the drivers' bound-parameter limits.
    for (let start = 0; start < rows.length; start += MESSAGE_BATCH) {
      await yieldToEventLoop();
      await tx.messages.insertMany(rows.slice(start, start + MESSAGE_BATCH));
    }
    const inContext = agent.in_context_message_ids.map((id) => newIds.get(id)!);
    if (inContext.length === 0) return;
    const first = rows.find((r) => r.id === inContext[0]);
    const messageIds = first?.role === 'system' ? inContext : [...startIds.slice(0, 1), ...inContext];
    const replaced = startIds.filter((id) => !messageIds.includes(id));
    await tx.agents.update(agentId, { message_ids: JSON.stringify(messageIds) });
    await tx.messages.deleteByIds(replaced);
    await this.prompts.rebuild(tx, agentId, true);
  }
}

/** Every passage of the agent's archives, oldest first; tags read in batches to stay under parameter limits. */
async function exportPassages(tx: Stores, agentId: string): Promise<Record<string, unknown>[]> {
  const archives = await tx.archival.archivesOf(agentId);
  const rows = await tx.archival.listPassages(
    archives.map((a) => a.id),
    undefined,
    { limit: Number.MAX_SAFE_INTEGER, order: 'asc' },
  );
  const tags = new Map<string, string[]>();
  for (let start = 0; start < rows.length; start += MESSAGE_BATCH) {
    const batch = await tx.archival.tagsFor(rows.slice(start, start + MESSAGE_BATCH).map((r) => r.id));
    for (const [id, list] of batch) tags.set(id, list);
  }
  return rows.map((row) => ({
    text: row.text,
    tags: tags.get(row.id) ?? [],
    metadata: parseJson(row.metadata, {}),
    created_at: row.created_at,
  }));
}

/**
 * The schema a tool will be stored with. Source is read (never run) even when the file brings a schema, so a tool
 * whose Python does not parse is refused at import instead of failing at its first call.
 */
function checkedToolSchema(tool: AgentFileTool): {
  name: string;
  description: string | null;
  jsonSchema: Record<string, unknown>;
} {
  const source = tool.source_code ?? '';
  const script = tool.source_type === 'typescript' || tool.source_type === 'javascript';
  try {
    if (source.trim() !== '' && !script && !isCoreTool(tool.tool_type)) toolFunction(parseModule(source));
    const explicit = tool.json_schema && Object.keys(tool.json_schema).length > 0 ? tool.json_schema : null;
    if (explicit || isCoreTool(tool.tool_type) || source.trim() === '') {
      const name = tool.name ?? (typeof explicit?.name === 'string' ? explicit.name : undefined);
      if (!name) throw new ToolSchemaError('invalid_schema', 'the tool has no name');
      return { name, description: tool.description ?? null, jsonSchema: explicit ?? {} };
    }
    // Letta stores Python tools with `source_type: "json"` at times; the source is Python all the same.
    const derived = deriveToolSchema({ sourceCode: source, sourceType: script ? tool.source_type : 'python' });
    return {
      name: tool.name ?? derived.name,
      description: tool.description ?? derived.description,
      jsonSchema: derived.jsonSchema,
    };
  } catch (error) {
    if (error instanceof ToolSchemaError) {
      throw badRequest(`Tool ${tool.id} (${tool.name ?? 'unnamed'}) cannot be imported: ${error.message}`);
    }
    throw error;
  }
}

function toolRowFields(
  tool: AgentFileTool,
  derived: { description: string | null; jsonSchema: Record<string, unknown> },
): Omit<ToolRecord, 'seq' | 'id' | 'name' | 'created_at' | 'updated_at'> {
  const json = (value: unknown) => (value == null ? null : JSON.stringify(value));
  return {
    description: derived.description,
    tool_type: tool.tool_type ?? 'custom',
    source_type: tool.source_type ?? 'python',
    source_code: tool.source_code ?? null,
    json_schema: JSON.stringify(derived.jsonSchema),
    args_json_schema: json(tool.args_json_schema),
    return_char_limit: tool.return_char_limit ?? 50_000,
    pip_requirements: json(tool.pip_requirements),
    npm_requirements: json(tool.npm_requirements),
    default_requires_approval: tool.default_requires_approval ? 1 : 0,
    enable_parallel_execution: tool.enable_parallel_execution ? 1 : 0,
    tags: JSON.stringify(tool.tags ?? []),
    metadata: JSON.stringify(tool.metadata_ ?? {}),
    project_id: null,
  };
}

/** The handle a Letta config names, from `handle` or, in older files, from its provider and model. */
function handleOf(config: Record<string, unknown> | null | undefined, provider: string, model: string) {
  if (!config) return undefined;
  if (typeof config.handle === 'string' && config.handle.includes('/')) return config.handle;
  const p = config[provider];
  const m = config[model];
  return typeof p === 'string' && typeof m === 'string' && p && m ? `${p}/${m}` : undefined;
}

function agentCreateInput(agent: AgentFileAgent, options: ImportOptions): CreateAgent {
  const secretNames = Object.keys(agent.secrets ?? agent.tool_exec_environment_variables ?? {});
  const secrets = Object.fromEntries(secretNames.map((name) => [name, options.envVars?.[name] ?? '']));
  const name = options.overrideName ?? (options.appendCopySuffix && agent.name ? `${agent.name}_copy` : agent.name);
  const model = options.model ?? agent.model ?? handleOf(agent.llm_config, 'provider_name', 'model');
  const embedding =
    options.embedding ??
    agent.embedding ??
    handleOf(agent.embedding_config, 'embedding_endpoint_type', 'embedding_model');
  return {
    name,
    agent_type: agent.agent_type as CreateAgent['agent_type'],
    system: agent.system,
    description: agent.description,
    metadata: agent.metadata,
    tool_rules: agent.tool_rules,
    tags: agent.tags,
    model,
    embedding,
    // An override picks a new model: the file's config describes the old one.
    llm_config: options.model ? null : agent.llm_config,
    embedding_config: options.embedding ? null : agent.embedding_config,
    model_settings: options.model ? null : agent.model_settings,
    compaction_settings: agent.compaction_settings,
    context_window_limit: agent.context_window_limit,
    response_format: agent.response_format,
    message_buffer_autoclear: agent.message_buffer_autoclear,
    enable_sleeptime: agent.enable_sleeptime,
    timezone: agent.timezone ?? 'UTC',
    max_files_open: agent.max_files_open,
    per_file_view_window_char_limit: agent.per_file_view_window_char_limit,
    hidden: agent.hidden,
    project_id: options.projectId ?? agent.project_id,
    template_id: agent.template_id,
    base_template_id: agent.base_template_id,
    secrets,
    include_base_tools: false,
    include_base_tool_rules: false,
    initial_message_sequence: [],
  };
}

/** What agent creation would refuse (a name, timezone or handle it does not accept) is refused before any write. */
function assertCreatable(input: CreateAgent, index: number): void {
  const parsed = createAgentSchema.safeParse(input);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw badRequest(`Invalid agent file: agents.${index}.${issue!.path.join('.')}: ${issue!.message}`);
  }
  for (const [field, handle] of [
    ['model', input.model],
    ['embedding', input.embedding],
  ] as const) {
    if (handle != null && !/^[^/]+\/.+$/.test(handle)) {
      throw badRequest(`Invalid agent file: agents.${index}.${field}: '${handle}' is not a 'provider/model' handle`);
    }
  }
}

function exportBlock(block: Block, ids: FileIds): Record<string, unknown> {
  return {
    value: block.value,
    limit: block.limit,
    project_id: block.project_id,
    template_name: block.template_name,
    is_template: block.is_template,
    template_id: null,
    base_template_id: null,
    deployment_id: null,
    entity_id: null,
    preserve_on_migration: block.preserve_on_migration ?? false,
    label: block.label,
    read_only: block.read_only,
    description: block.description,
    metadata: block.metadata,
    hidden: block.hidden,
    tags: block.tags,
    id: ids.of(block.id, 'block'),
  };
}

function exportTool(tool: Tool, ids: FileIds): Record<string, unknown> {
  const serverId = mcpServerOfTool(tool as AgentFileTool);
  return withMcpServerId({ ...tool, id: ids.of(tool.id, 'tool') }, serverId ? ids.known(serverId) : undefined);
}

function exportMessage(row: MessageRecord, ids: FileIds, fileAgentId: string): Record<string, unknown> {
  const approvalRequest = row.approval_request_id;
  return {
    type: 'message',
    role: row.role,
    content: parseJson<ContentPart[]>(row.content, []),
    name: row.name,
    otid: row.otid,
    sender_id: row.sender_id,
    batch_item_id: null,
    group_id: null,
    id: ids.of(row.id, 'message'),
    model: row.model,
    agent_id: fileAgentId,
    tool_calls: parseJson(row.tool_calls, null),
    tool_call_id: row.tool_call_id,
    tool_returns: parseJson(row.tool_returns, []),
    created_at: row.created_at,
    approve: row.approve === null ? null : bool(row.approve),
    approval_request_id: approvalRequest === null ? null : (ids.known(approvalRequest) ?? approvalRequest),
    denial_reason: row.denial_reason,
    approvals: parseJson(row.approvals, null),
    ...(row.is_err ? { is_err: true } : {}),
  };
}

function importMessage(message: AgentFileMessage, agentId: string, newIds: Map<string, string>): NewMessage {
  const content: ContentPart[] =
    typeof message.content === 'string'
      ? [{ type: 'text', text: message.content }]
      : ((message.content ?? []) as ContentPart[]);
  const json = (value: unknown[] | null | undefined) => (value && value.length > 0 ? JSON.stringify(value) : null);
  const approvalRequest = message.approval_request_id ?? null;
  return messageRow(
    { agentId, conversationId: null, runId: null, stepId: null, model: message.model ?? null },
    message.role,
    content,
    {
      id: newIds.get(message.id)!,
      name: message.name ?? null,
      tool_calls: json(message.tool_calls),
      tool_call_id: message.tool_call_id ?? null,
      tool_returns: json(message.tool_returns),
      otid: message.otid ?? null,
      sender_id: message.sender_id ?? null,
      is_err: message.is_err ? 1 : 0,
      approve: message.approve == null ? null : message.approve ? 1 : 0,
      approval_request_id: approvalRequest === null ? null : (newIds.get(approvalRequest) ?? approvalRequest),
      denial_reason: message.denial_reason ?? null,
      approvals: message.approvals == null ? null : JSON.stringify(message.approvals),
      created_at: message.created_at ? toIso(message.created_at) : nowIso(),
    },
  );
}
