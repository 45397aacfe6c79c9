import type { CallToolResult, Tool as SdkTool } from '@modelcontextprotocol/sdk/types.js';
import type { Tool } from '../../schemas/tool.js';
import type { ToolExecutionResult } from '../../domain/ports.js';

type Json = Record<string, unknown>;

/** Letta's `MCPToolHealth`: how the tool's input schema fares with OpenAI strict mode. */
export interface McpToolHealth {
  status: 'STRICT_COMPLIANT' | 'NON_STRICT_ONLY' | 'INVALID';
  reasons: string[];
}

/** Letta's `MCPTool` as the legacy list route returns it: the server's tool, schema normalized, health added. */
export interface McpListedTool {
  name: string;
  title: string | null;
  description: string | null;
  inputSchema: Json;
  outputSchema: Json | null;
  annotations: Json | null;
  _meta: Json | null;
  health: McpToolHealth | null;
  [extra: string]: unknown;
}

/** What a Letta `Tool` row holds for an MCP tool; the store adds `id`, `project_id` and the actor ids. */
export type McpToolDefinition = Omit<Tool, 'id' | 'project_id' | 'created_by_id' | 'last_updated_by_id'> & {
  tool_type: 'external_mcp';
};

export const MCP_TAG_PREFIX = 'mcp';
export const MCP_SCHEMA_STATUS_KEY = 'mcp:SCHEMA_STATUS';
export const MCP_SCHEMA_WARNINGS_KEY = 'mcp:SCHEMA_WARNINGS';
const RETURN_CHAR_LIMIT = 50_000;
const REQUEST_HEARTBEAT_DESCRIPTION =
  'Request an immediate heartbeat after function execution. You MUST set this value to `True` if you want to send a follow-up message or run a follow-up tool call (chain multiple tools together). If set to `False` (the default), then the chain of execution will end immediately after this function call.';

export const mcpServerTag = (serverName: string) => `${MCP_TAG_PREFIX}:${serverName}`;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const clone = <T>(value: T): T => structuredClone(value);

/** `#/$defs/Name` → the definition's own `type`, if it has one. */
function refType(ref: unknown, defs: Json): unknown {
  if (typeof ref !== 'string' || !ref.startsWith('#/$defs/')) return undefined;
  const def = defs[ref.slice('#/$defs/'.length)];
  return isObject(def) ? def.type : undefined;
}

/** A `$ref` without a `type` gets the referenced definition's type, else `object`. */
function typeRef(node: Json, defs: Json): void {
  if ('$ref' in node && !('type' in node)) node.type = refType(node.$ref, defs) ?? 'object';
}

/**
 * Letta's `normalize_mcp_schema`: objects get an explicit `additionalProperties: false`, `$ref` properties an
 * explicit `type`, recursively through properties, array items, `anyOf` options and `$defs`. Returns a copy.
 */
export function normalizeMcpSchema(schema: Json): Json {
  const out = clone(schema);
  const defs = isObject(out.$defs) ? out.$defs : {};
  const normalizeObject = (node: Json): void => {
    if (node.type === 'object' && !('additionalProperties' in node)) node.additionalProperties = false;
    if (isObject(node.properties)) {
      for (const prop of Object.values(node.properties)) {
        if (!isObject(prop)) continue;
        // A $ref property's own definition carries additionalProperties; adding it here would allow `{}`.
        if ('$ref' in prop) {
          typeRef(prop, defs);
          continue;
        }
        if (prop.type === 'object') normalizeObject(prop);
        if (prop.type === 'array' && isObject(prop.items)) {
          typeRef(prop.items, defs);
          if (prop.items.type === 'object') normalizeObject(prop.items);
        }
        if (Array.isArray(prop.anyOf)) {
          for (const option of prop.anyOf) {
            if (!isObject(option)) continue;
            typeRef(option, defs);
            if (option.type === 'object') normalizeObject(option);
          }
        }
      }
    }
    if (isObject(node.items) && node.items.type === 'object') normalizeObject(node.items);
  };
  for (const def of Object.values(defs)) if (isObject(def)) normalizeObject(def);
  normalizeObject(out);
  return out;
}

const PRIMITIVES = ['string', 'number', 'integer', 'boolean', 'null'];

/** Letta's `validate_complete_json_schema`, with its reason texts (they reach clients in `health.reasons`). */
export function schemaHealth(schema: unknown): McpToolHealth {
  if (!isObject(schema)) return { status: 'INVALID', reasons: ['Top-level schema must be a dict'] };
  let status: McpToolHealth['status'] = 'STRICT_COMPLIANT';
  const reasons: string[] = [];
  const nonStrict = (reason: string) => {
    if (status === 'STRICT_COMPLIANT') status = 'NON_STRICT_ONLY';
    reasons.push(reason);
  };
  const invalid = (reason: string) => {
    status = 'INVALID';
    reasons.push(reason);
  };
  const allowsEmptyObject = (node: Json) =>
    node.type === 'object' &&
    !(Array.isArray(node.required) && node.required.length > 0) &&
    node.additionalProperties === false;
  const allowsEmptyArray = (node: Json) =>
    node.type === 'array' && !(typeof node.minItems === 'number' && node.minItems > 0) && node.items === undefined;

  const visit = (node: Json, path: string): void => {
    let type = node.type;
    if (!type) {
      if ('properties' in node || 'additionalProperties' in node) type = 'object';
      else if ('items' in node) type = 'array';
      else if (!['anyOf', 'oneOf', 'allOf'].some((kw) => kw in node)) return invalid(`${path}: Missing 'type'`);
    }
    if (type === 'object') {
      const props = node.properties;
      if (props !== undefined && props !== null && !isObject(props))
        return invalid(`${path}: 'properties' must be a dict for objects`);
      if (!('additionalProperties' in node)) nonStrict(`${path}: 'additionalProperties' not explicitly set`);
      else if (node.additionalProperties !== false)
        nonStrict(`${path}: 'additionalProperties' is not false (free-form object)`);
      let required: unknown[] = [];
      if (node.required !== undefined && node.required !== null) {
        if (Array.isArray(node.required)) required = node.required;
        else invalid(`${path}: 'required' must be a list if present`);
      }
      const properties = isObject(props) && Object.keys(props).length > 0 ? props : undefined;
      for (const key of required) {
        if (!properties) continue;
        const name = String(key);
        if (!(name in properties)) {
          invalid(`${path}: required contains '${name}' not found in properties`);
          continue;
        }
        const sub = properties[name];
        if (!isObject(sub)) continue;
        if (allowsEmptyObject(sub))
          invalid(`${path}: required property '${name}' allows empty object (OpenAI will reject)`);
        if (allowsEmptyArray(sub))
          invalid(`${path}: required property '${name}' allows empty array (OpenAI will reject)`);
      }
      for (const [name, sub] of Object.entries(properties ?? {})) {
        if (isObject(sub)) visit(sub, `${path}.properties.${name}`);
        else invalid(`${path}.properties.${name}: Not a valid schema dict`);
      }
    } else if (type === 'array') {
      if (node.items === undefined || node.items === null)
        invalid(`${path}: 'items' must be defined for arrays in strict mode`);
      else if (!isObject(node.items)) invalid(`${path}: 'items' must be a schema dict for arrays`);
      else visit(node.items, `${path}.items`);
    } else if (Array.isArray(type)) {
      for (const t of type)
        if (![...PRIMITIVES, 'array', 'object'].includes(String(t)))
          invalid(`${path}: Invalid type '${String(t)}' in type array`);
    }
    for (const kw of ['anyOf', 'oneOf', 'allOf']) {
      if (!(kw in node)) continue;
      const options = node[kw];
      if (!Array.isArray(options)) {
        invalid(`${path}: '${kw}' must be a list`);
        continue;
      }
      options.forEach((option, index) => {
        if (isObject(option)) visit(option, `${path}.${kw}[${index}]`);
        else invalid(`${path}.${kw}[${index}]: Not a valid schema dict`);
      });
    }
  };

  if (schema.type !== 'object') invalid("Top-level schema 'type' must be 'object' for OpenAI tools");
  visit(schema, 'root');
  return { status, reasons };
}

/** The tool as Letta lists it live: normalized input schema and its health (none for an empty schema, as Letta). */
export function listedTool(tool: SdkTool): McpListedTool {
  const input = isObject(tool.inputSchema) ? (tool.inputSchema as Json) : {};
  const hasSchema = Object.keys(input).length > 0;
  const inputSchema = hasSchema ? normalizeMcpSchema(input) : input;
  return {
    ...(tool as Json),
    name: tool.name,
    title: tool.title ?? null,
    description: tool.description ?? null,
    inputSchema,
    outputSchema: (tool.outputSchema as Json | undefined) ?? null,
    annotations: (tool.annotations as Json | undefined) ?? null,
    _meta: (tool._meta as Json | undefined) ?? null,
    health: hasSchema ? schemaHealth(inputSchema) : null,
  };
}

/** Letta registers only tools whose schema is not INVALID when it syncs a server (create, refresh). */
export const isRegistrable = (tool: McpListedTool) => tool.health?.status !== 'INVALID';

/**
 * Letta's `generate_tool_schema_for_mcp` (non-strict): `type`/`properties`/`required` defaulted, normalized,
 * every `$ref` under a property inlined from `$defs` (duplicate `anyOf` options merged), and the
 * `request_heartbeat` argument appended as required; `$defs` and `$schema` stay where the server put them.
 */
export function mcpJsonSchema(tool: McpListedTool): Json {
  const input: Json = { ...tool.inputSchema };
  if (!('type' in input)) input.type = 'object';
  if (!('properties' in input)) input.properties = {};
  const parameters = normalizeMcpSchema(input);
  if (!('required' in parameters)) parameters.required = [];
  const defs = isObject(parameters.$defs) ? parameters.$defs : {};
  const properties = (isObject(parameters.properties) ? parameters.properties : {}) as Json;
  for (const [name, prop] of Object.entries(properties)) properties[name] = inlineRefs(prop, defs, 0);
  properties.request_heartbeat = { type: 'boolean', description: REQUEST_HEARTBEAT_DESCRIPTION };
  parameters.properties = properties;
  const required = Array.isArray(parameters.required) ? [...(parameters.required as unknown[])] : [];
  if (!required.includes('request_heartbeat')) required.push('request_heartbeat');
  parameters.required = required;
  return { name: tool.name, description: tool.description, parameters };
}

function inlineRefs(node: unknown, defs: Json, depth: number): unknown {
  if (depth > 10 || !isObject(node)) return node;
  let result: Json = { ...node };
  if (typeof result.$ref === 'string' && result.$ref.startsWith('#/$defs/')) {
    const def = defs[result.$ref.slice('#/$defs/'.length)];
    if (isObject(def)) {
      delete result.$ref;
      for (const [key, value] of Object.entries(def)) if (!(key in result)) result[key] = value;
      result = inlineRefs(result, defs, depth + 1) as Json;
    }
  }
  if (Array.isArray(result.anyOf))
    result.anyOf = dedupeAnyOf(result.anyOf.map((option) => inlineRefs(option, defs, depth + 1)));
  if (isObject(result.properties))
    result.properties = Object.fromEntries(
      Object.entries(result.properties).map(([name, prop]) => [name, inlineRefs(prop, defs, depth + 1)]),
    );
  if ('items' in result) result.items = inlineRefs(result.items, defs, depth + 1);
  return result;
}

/** Letta's `deduplicate_anyof`: exact duplicates go; of two options of one type, the one with a `format` stays. */
function dedupeAnyOf(options: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const item of options) {
    if (!isObject(item)) {
      if (!out.some((seen) => sameJson(seen, item))) out.push(item);
      continue;
    }
    const index = out.findIndex((existing) => {
      if (!isObject(existing)) return false;
      if (sameJson(item, existing)) return true;
      const bothFormatted = item.format !== undefined && existing.format !== undefined;
      return Boolean(item.type) && item.type === existing.type && !(bothFormatted && item.format !== existing.format);
    });
    if (index < 0) {
      out.push(item);
      continue;
    }
    const existing = out[index] as Json;
    if (sameJson(item, existing)) continue;
    const replace =
      (item.format !== undefined && existing.format === undefined) ||
      (item.format === existing.format && Object.keys(item).length >= Object.keys(existing).length);
    if (replace) out[index] = item;
  }
  return out;
}

/**
 * The Letta `Tool` an MCP tool becomes: `external_mcp`, tagged `mcp:<server_name>`, `metadata_.mcp` naming the
 * server (Letta Code groups attached tools by it), the schema's health under `mcp:SCHEMA_STATUS` /
 * `mcp:SCHEMA_WARNINGS` in `json_schema`, and Letta's never-run Python stub as `source_code`.
 */
export function lettaToolFromMcp(server: { id: string; name: string }, tool: McpListedTool): McpToolDefinition {
  const json_schema = mcpJsonSchema(tool);
  if (tool.health) {
    const health = schemaHealth(json_schema.parameters);
    json_schema[MCP_SCHEMA_STATUS_KEY] = health.status;
    json_schema[MCP_SCHEMA_WARNINGS_KEY] = health.reasons;
  }
  return {
    name: tool.name,
    description: tool.description,
    tool_type: 'external_mcp',
    source_type: 'python',
    // Letta writes this stub even for names that are not Python identifiers (`get-sum`); it is never executed.
    source_code: `def ${tool.name}(**kwargs):\n    raise RuntimeError("Something went wrong - we should never be using the persisted source code for MCP. Please reach out to Letta team")`,
    json_schema,
    args_json_schema: null,
    return_char_limit: RETURN_CHAR_LIMIT,
    pip_requirements: null,
    npm_requirements: null,
    default_requires_approval: null,
    enable_parallel_execution: false,
    tags: [mcpServerTag(server.name)],
    metadata_: { [MCP_TAG_PREFIX]: { server_name: server.name, server_id: server.id } },
  };
}

/** A registered MCP tool as refresh compares it. */
export interface RegisteredMcpTool {
  id: string;
  name: string;
  json_schema: unknown;
}

export interface McpToolDiff {
  /** On the server, not registered, schema not INVALID: register these. */
  added: McpToolDefinition[];
  /** Registered, and the server's schema (as Letta renders it) differs: update `json_schema`, `description`, `source_code`. */
  changed: { id: string; definition: McpToolDefinition }[];
  /** Registered, gone from the server: delete these (Letta hard-deletes them, detaching them from agents). */
  vanished: RegisteredMcpTool[];
  /** On the server with an INVALID schema and not registered: left out, as Letta does. */
  skippedInvalid: McpListedTool[];
}

/** Letta's resync, as a pure comparison: the caller applies it in one transaction. */
export function diffMcpTools(
  server: { id: string; name: string },
  current: McpListedTool[],
  registered: RegisteredMcpTool[],
): McpToolDiff {
  const byName = new Map(registered.map((tool) => [tool.name, tool]));
  const currentNames = new Set(current.map((tool) => tool.name));
  const diff: McpToolDiff = {
    added: [],
    changed: [],
    vanished: registered.filter((tool) => !currentNames.has(tool.name)),
    skippedInvalid: [],
  };
  for (const tool of current) {
    const existing = byName.get(tool.name);
    if (existing) {
      const definition = lettaToolFromMcp(server, tool);
      if (!sameJson(existing.json_schema, definition.json_schema)) diff.changed.push({ id: existing.id, definition });
    } else if (isRegistrable(tool)) diff.added.push(lettaToolFromMcp(server, tool));
    else diff.skippedInvalid.push(tool);
  }
  return diff;
}

/** Letta's `MCPServerResyncResult` for a diff once applied: tool names per kind of change. */
export const resyncSummary = (diff: McpToolDiff) => ({
  deleted: diff.vanished.map((tool) => tool.name),
  updated: diff.changed.map((change) => change.definition.name),
  added: diff.added.map((tool) => tool.name),
});

/** Key order does not count: PostgreSQL's jsonb hands objects back with their keys reordered. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => sameJson(item, b[index]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => key in b && sameJson(a[key], b[key]));
}

/**
 * A tool result as Letta reads it: text pieces joined with a space, `isError` → `error`, nothing at all →
 * "Empty response from tool". Other pieces are rendered as JSON with binary payloads replaced by their size (Letta
 * prints the Python object, base64 and all); a result with only `structuredContent` returns that as JSON.
 */
export function executionResult(result: CallToolResult): ToolExecutionResult {
  const pieces = (result.content ?? []).map((piece) => {
    if (piece.type === 'text') return piece.text;
    const shown: Json = { ...(piece as Json) };
    for (const key of ['data', 'blob'] as const)
      if (typeof shown[key] === 'string') shown[key] = `<${(shown[key] as string).length} base64 characters>`;
    if (isObject(shown.resource) && typeof shown.resource.blob === 'string')
      shown.resource = { ...shown.resource, blob: `<${shown.resource.blob.length} base64 characters>` };
    return JSON.stringify(shown);
  });
  const text =
    pieces.length > 0
      ? pieces.join(' ')
      : result.structuredContent !== undefined
        ? JSON.stringify(result.structuredContent)
        : 'Empty response from tool';
  return { status: result.isError === true ? 'error' : 'success', funcReturn: text };
}

/** Letta's wire `ToolExecutionResult` for an MCP run: only `status` and `func_return` are ever set. */
export const wireExecutionResult = (result: ToolExecutionResult) => ({
  status: result.status,
  func_return: result.funcReturn,
  agent_state: null,
  stdout: result.stdout ?? null,
  stderr: result.stderr ?? null,
  sandbox_config_fingerprint: null,
});
