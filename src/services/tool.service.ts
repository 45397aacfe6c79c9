import { missing } from '../domain/errors.js';
import { badRequest, conflict, CairnError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { nowIso } from '../lib/time.js';
import type { Tool } from '../schemas/tool.js';
import { TOOL_TYPES } from '../schemas/tool.js';
import type {
  CountToolsQuery,
  ListAgentToolsQuery,
  ListToolsQuery,
  ToolCreate,
  ToolRunFromSource,
  ToolSearchRequest,
  ToolUpdate,
} from '../schemas/tool-requests.js';
import type { Stores } from '../store/index.js';
import { parseJson } from '../store/json.js';
import { toTool, type ToolFilter, type ToolRecord } from '../store/tool.store.js';
import { BUILTIN_TOOLS, type BuiltinToolDefinition } from '../tools/builtin/definitions.js';
import { MULTI_AGENT_TOOLS } from '../tools/builtin/multi-agent-tools.js';
import { UNAVAILABLE_BASE_TOOLS } from '../tools/builtin/unavailable-definitions.js';
import { funcReturnText, SANDBOX_LIMITS } from '../tools/custom-executor.js';
import { layerToolEnv, type ToolRunner, type ToolSourceType } from '../tools/runners/index.js';
import { deriveToolSchema, ToolSchemaError } from '../tools/schema/index.js';

/** Every tool of Letta's `LETTA_TOOL_SET`: the ones Cairn runs and the ones it only lists. */
const LETTA_BASE_TOOLS: readonly BuiltinToolDefinition[] = [
  ...BUILTIN_TOOLS,
  ...MULTI_AGENT_TOOLS,
  ...UNAVAILABLE_BASE_TOOLS,
];
const BASE_TOOL_NAMES = LETTA_BASE_TOOLS.map((tool) => tool.schema.name);

/** Letta's `MAX_TOOL_NAME_LENGTH`. */
const MAX_TOOL_NAME_LENGTH = 48;

/** A schema the source does not yield is the caller's mistake: 422 for a missing schema (as Letta), else 400. */
function schemaFailure(error: unknown): never {
  if (!(error instanceof ToolSchemaError)) throw error;
  if (error.kind === 'schema_required')
    throw new CairnError(422, [{ type: 'value_error', loc: ['body', 'json_schema'], msg: error.message }]);
  const where = error.argument === null ? '' : ` (argument '${error.argument}')`;
  throw badRequest(`Failed to generate a schema for the tool: ${error.message}${where}`);
}

function derive(input: {
  source_code: string;
  source_type?: string | null | undefined;
  json_schema?: Record<string, unknown> | null | undefined;
  args_json_schema?: Record<string, unknown> | null | undefined;
}) {
  try {
    return deriveToolSchema({
      sourceCode: input.source_code,
      sourceType: input.source_type ?? 'python',
      jsonSchema: input.json_schema ?? null,
      argsJsonSchema: input.args_json_schema ?? null,
    });
  } catch (error) {
    return schemaFailure(error);
  }
}

function checkName(name: string): void {
  if (name.length > MAX_TOOL_NAME_LENGTH)
    throw badRequest(`Tool name ${name} is too long. It must be less than ${MAX_TOOL_NAME_LENGTH} characters.`);
}

/** Letta's `parse_tool_types`: every value must be a known type (400 names the first that is not). */
function checkToolTypes(types: string[] | null | undefined): void {
  for (const type of types ?? [])
    if (!(TOOL_TYPES as readonly string[]).includes(type))
      throw badRequest(`Invalid tool_type '${type}'. Must be one of: ${TOOL_TYPES.join(', ')}`);
}

function filterOf(query: ListToolsQuery | CountToolsQuery): ToolFilter {
  checkToolTypes(query.tool_types);
  checkToolTypes(query.exclude_tool_types);
  const names =
    query.name !== undefined || query.names ? [...(query.name ? [query.name] : []), ...(query.names ?? [])] : undefined;
  const excludeLetta = 'exclude_letta_tools' in query && query.exclude_letta_tools === true;
  return {
    names,
    ids: query.tool_ids,
    search: query.search,
    toolTypes: query.tool_types,
    excludeToolTypes: query.exclude_tool_types,
    lettaTools: query.return_only_letta_tools === true ? true : excludeLetta ? false : undefined,
    tags: query.tags,
  };
}

const words = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

export class ToolService {
  constructor(
    private readonly stores: Stores,
    private readonly sandbox: ToolRunner,
    private readonly isUniqueViolation: (error: unknown) => boolean,
  ) {}

  /** `POST /tools/add-base-tools`: Letta's `upsert_base_tools`, which returns every base tool. */
  async baseTools(): Promise<Tool[]> {
    await this.ensureBuiltinTools();
    return (await this.stores.tools.findManyByNames(BASE_TOOL_NAMES)).map(toTool);
  }

  /**
   * Upserts the base tools by name (at startup, on `add-base-tools`, and on the first page of a list, so a deleted
   * base tool comes back as in Letta). Safe under concurrent starts of several processes: a lost insert race is a
   * unique violation on `name`, after which the winner's row is simply reused.
   */
  async ensureBuiltinTools(): Promise<void> {
    const present = new Map((await this.stores.tools.findManyByNames(BASE_TOOL_NAMES)).map((row) => [row.name, row]));
    for (const tool of LETTA_BASE_TOOLS) {
      const { name, description } = tool.schema;
      const existing = present.get(name);
      const fields = {
        description,
        tool_type: tool.toolType,
        source_type: 'python',
        source_code: null,
        json_schema: JSON.stringify(tool.schema),
        args_json_schema: null,
        return_char_limit: 50_000,
        pip_requirements: null,
        npm_requirements: null,
        default_requires_approval: 0,
        enable_parallel_execution: 0,
        tags: JSON.stringify([tool.toolType]),
        metadata: '{}',
        project_id: null,
      };
      if (existing) {
        if (existing.json_schema !== fields.json_schema || existing.tool_type !== fields.tool_type) {
          await this.stores.tools.update(existing.id, { ...fields, updated_at: nowIso() });
        }
        continue;
      }
      const now = nowIso();
      try {
        await this.stores.tools.insert({ id: newId('tool'), name, ...fields, created_at: now, updated_at: now });
      } catch (error) {
        if (!this.isUniqueViolation(error)) throw error;
      }
    }
  }

  async list(query: ListToolsQuery): Promise<Tool[]> {
    const filter = filterOf(query);
    if (!query.after) await this.ensureBuiltinTools();
    return (await this.stores.tools.list(filter, { ...query, order: query.order ?? 'desc' })).map(toTool);
  }

  count(query: CountToolsQuery): Promise<number> {
    return this.stores.tools.count(filterOf(query));
  }

  async get(toolId: string): Promise<Tool> {
    return toTool(await this.require(toolId));
  }

  async delete(toolId: string): Promise<void> {
    await this.require(toolId);
    await this.stores.tools.delete(toolId);
  }

  /** `POST` and `PUT /tools/`: Letta's `create_or_update_tool`, keyed by the name the schema gives. */
  async upsert(input: ToolCreate): Promise<Tool> {
    const derived = derive(input);
    checkName(derived.name);
    const fields = {
      description: input.description ?? derived.description,
      tool_type: 'custom',
      source_type: input.source_type,
      source_code: input.source_code,
      json_schema: JSON.stringify(derived.jsonSchema),
      args_json_schema: input.args_json_schema ? JSON.stringify(input.args_json_schema) : null,
      return_char_limit: input.return_char_limit,
      pip_requirements: input.pip_requirements ? JSON.stringify(input.pip_requirements) : null,
      npm_requirements: input.npm_requirements ? JSON.stringify(input.npm_requirements) : null,
      default_requires_approval: input.default_requires_approval ? 1 : 0,
      enable_parallel_execution: input.enable_parallel_execution ? 1 : 0,
      tags: JSON.stringify(input.tags ?? []),
      updated_at: nowIso(),
    };
    try {
      const id = await this.stores.transaction(async (tx) => {
        const existing = await tx.tools.findByName(derived.name);
        if (existing) {
          this.assertCustom(existing);
          await tx.tools.update(existing.id, fields);
          return existing.id;
        }
        const toolId = newId('tool');
        await tx.tools.insert({
          id: toolId,
          name: derived.name,
          ...fields,
          metadata: '{}',
          project_id: null,
          created_at: fields.updated_at,
        });
        return toolId;
      });
      return this.get(id);
    } catch (error) {
      if (this.isUniqueViolation(error)) throw conflict(`Tool with name '${derived.name}' already exists`);
      throw error;
    }
  }

  /** `PATCH /tools/{id}`: a change of source or schema re-derives name, description and schema, as in Letta. */
  async update(toolId: string, patch: ToolUpdate): Promise<Tool> {
    try {
      await this.stores.transaction(async (tx) => {
        const row = await tx.tools.findById(toolId);
        if (!row) throw missing('Tool', toolId);
        const changes: Partial<ToolRecord> = { updated_at: nowIso() };
        const reshaped =
          patch.source_code != null ||
          patch.source_type != null ||
          patch.json_schema != null ||
          patch.args_json_schema != null;
        if (reshaped) {
          const sourceCode = patch.source_code ?? row.source_code;
          if (sourceCode === null) throw badRequest(`Tool '${row.name}' has no source code to derive a schema from`);
          const sourceChanged = patch.source_code != null && patch.source_code !== row.source_code;
          const derived = derive({
            source_code: sourceCode,
            source_type: patch.source_type ?? row.source_type,
            // New source means a new signature: the stored schema no longer describes it.
            json_schema:
              patch.json_schema ?? (sourceChanged || patch.args_json_schema ? null : parseJson(row.json_schema, null)),
            args_json_schema: patch.args_json_schema ?? parseJson(row.args_json_schema, null),
          });
          checkName(derived.name);
          changes.name = derived.name;
          changes.json_schema = JSON.stringify(derived.jsonSchema);
          changes.source_code = sourceCode;
          if (patch.source_type != null) changes.source_type = patch.source_type;
          if (patch.args_json_schema != null) changes.args_json_schema = JSON.stringify(patch.args_json_schema);
          if (patch.description == null && derived.description !== null) changes.description = derived.description;
        }
        if (patch.description != null) changes.description = patch.description;
        if (patch.tags != null) changes.tags = JSON.stringify(patch.tags);
        if (patch.return_char_limit != null) changes.return_char_limit = patch.return_char_limit;
        if (patch.pip_requirements !== undefined) changes.pip_requirements = JSON.stringify(patch.pip_requirements);
        if (patch.npm_requirements !== undefined) changes.npm_requirements = JSON.stringify(patch.npm_requirements);
        if (patch.metadata_ != null) changes.metadata = JSON.stringify(patch.metadata_);
        if (patch.default_requires_approval != null)
          changes.default_requires_approval = patch.default_requires_approval ? 1 : 0;
        if (patch.enable_parallel_execution != null)
          changes.enable_parallel_execution = patch.enable_parallel_execution ? 1 : 0;
        await tx.tools.update(toolId, changes);
      });
    } catch (error) {
      if (this.isUniqueViolation(error)) throw conflict('A tool with that name already exists');
      throw error;
    }
    return this.get(toolId);
  }

  /**
   * `POST /tools/search`. Letta Cloud ranks by embeddings (Turbopuffer); Cairn has no tool embeddings, so every
   * mode ranks by the query's words found in the name, description and tags (`fts_rank`), and `vector_rank` is null.
   */
  async search(request: ToolSearchRequest): Promise<
    {
      tool: Tool;
      embedded_text: string;
      fts_rank: number | null;
      vector_rank: null;
      combined_score: number;
    }[]
  > {
    checkToolTypes(request.tool_types);
    const rows = await this.stores.tools.listAll({
      toolTypes: request.tool_types ?? undefined,
      tags: request.tags ?? undefined,
    });
    const terms = [...new Set(words(request.query ?? ''))];
    const scored = rows.map((row) => {
      const tags = parseJson<string[]>(row.tags, []);
      const text = `${row.name}\n${row.description ?? ''}\n${tags.join(' ')}`;
      const present = new Set(words(text));
      const hits = terms.filter((t) => present.has(t)).length;
      return { row, text, score: terms.length ? hits / terms.length : 0 };
    });
    const ranked = (terms.length ? scored.filter((s) => s.score > 0) : scored).sort((a, b) => b.score - a.score);
    return ranked.slice(0, request.limit).map((s, i) => ({
      tool: toTool(s.row),
      embedded_text: s.text,
      fts_rank: terms.length ? i + 1 : null,
      vector_rank: null,
      combined_score: s.score,
    }));
  }

  /** `POST /tools/run`: runs source without saving it, in the same sandbox as saved tools, with no agent. */
  async runFromSource(request: ToolRunFromSource) {
    const sourceType: ToolSourceType = request.source_type ?? 'python';
    const derived = derive({ ...request, source_type: sourceType });
    const name = request.name ?? derived.name;
    const result = await this.sandbox.run({
      sourceCode: request.source_code,
      sourceType,
      functionName: name,
      args: request.args,
      envVars: layerToolEnv({ runtimeEnv: request.env_vars }),
      agentState: null,
      pipRequirements: request.pip_requirements ?? [],
      jsonSchema: derived.jsonSchema,
      ...SANDBOX_LIMITS,
    });
    const toolReturn = funcReturnText(result.funcReturn);
    return {
      id: 'null',
      date: nowIso(),
      name,
      message_type: 'tool_return_message' as const,
      otid: null,
      sender_id: null,
      step_id: null,
      is_err: null,
      seq_id: null,
      run_id: null,
      tool_return: toolReturn,
      status: result.status,
      tool_call_id: 'null',
      stdout: result.stdout,
      stderr: result.stderr,
      tool_returns: [
        {
          type: 'tool' as const,
          tool_return: toolReturn,
          status: result.status,
          tool_call_id: 'null',
          stdout: result.stdout,
          stderr: result.stderr,
        },
      ],
    };
  }

  /** `GET /agents/{id}/tools`: full Tool objects, paged. */
  async listForAgent(agentId: string, query: ListAgentToolsQuery): Promise<Tool[]> {
    if (!(await this.stores.agents.findById(agentId))) throw missing('Agent', agentId);
    return (await this.stores.tools.listForAgent(agentId, { ...query, order: query.order ?? 'desc' })).map(toTool);
  }

  private async require(toolId: string): Promise<ToolRecord> {
    const row = await this.stores.tools.findById(toolId);
    if (!row) throw missing('Tool', toolId);
    return row;
  }

  /** Base tools keep their server-side behaviour: a custom tool may not take over one of their names. */
  private assertCustom(row: ToolRecord): void {
    if (row.tool_type !== 'custom')
      throw conflict(
        `Tool '${row.name}' is a Letta base tool (${row.tool_type}) and cannot be replaced by a custom tool`,
      );
  }
}
