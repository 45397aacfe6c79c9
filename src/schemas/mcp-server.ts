import { z } from 'zod';
import { jsonObject, opt, queryString } from './common.js';

/**
 * Wire types of Letta's two MCP-server APIs: the id-keyed `/v1/mcp-servers` (`letta/schemas/mcp_server.py`) and
 * the legacy name-keyed `/v1/tools/mcp/servers` (`letta/functions/mcp_client/types.py`), with the component names
 * of Letta's OpenAPI document. Unknown fields are dropped rather than refused, as everywhere in Cairn.
 */

const stringMap = z.record(z.string(), z.string());

/** Letta checks the scheme and host when a server is created; reachability and network policy come later. */
const serverUrl = z.string().superRefine((value, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    ctx.addIssue({ code: 'custom', message: `server_url must start with 'http://' or 'https://', got: '${value}'` });
  else if (!url.hostname)
    ctx.addIssue({ code: 'custom', message: `server_url must have a valid host, got: '${value}'` });
});

export const MCP_SERVER_TYPES = ['sse', 'stdio', 'streamable_http'] as const;
export const mcpServerTypeSchema = z.enum(MCP_SERVER_TYPES).meta({ id: 'MCPServerType' });
export type McpServerType = z.infer<typeof mcpServerTypeSchema>;

const stdioFields = {
  command: z.string(),
  args: z.array(z.string()),
  env: opt(stringMap),
};
const httpFields = {
  server_url: serverUrl,
  auth_header: opt(z.string()),
  auth_token: opt(z.string()),
  custom_headers: opt(stringMap),
};

// ---- id-keyed API: /v1/mcp-servers ----

const createStdio = z
  .object({ mcp_server_type: z.literal('stdio').default('stdio'), ...stdioFields })
  .meta({ id: 'CreateStdioMCPServer' });
const createSse = z
  .object({ mcp_server_type: z.literal('sse').default('sse'), ...httpFields })
  .meta({ id: 'CreateSSEMCPServer' });
const createStreamableHttp = z
  .object({ mcp_server_type: z.literal('streamable_http').default('streamable_http'), ...httpFields })
  .meta({ id: 'CreateStreamableHTTPMCPServer' });

/** `POST /v1/mcp-servers/`. The config's `mcp_server_type` picks the transport and must be present (a discriminator). */
export const createMcpServerSchema = z
  .object({
    server_name: z.string(),
    config: z.discriminatedUnion('mcp_server_type', [createStdio, createSse, createStreamableHttp]),
  })
  .meta({ id: 'CreateMCPServerRequest' });
export type CreateMcpServer = z.infer<typeof createMcpServerSchema>;

/**
 * `PATCH /v1/mcp-servers/{id}`. Letta declares stdio `command`/`args` and HTTP `server_url` required but
 * nullable: the key must be sent, `null` leaves the stored value. A stdio update with both set replaces the whole
 * command line including `env` (absent `env` clears it); with either null, only the name changes.
 */
export const updateMcpServerSchema = z
  .object({
    server_name: opt(z.string()),
    config: z.discriminatedUnion('mcp_server_type', [
      z
        .object({
          mcp_server_type: z.literal('stdio').default('stdio'),
          command: z.string().nullable(),
          args: z.array(z.string()).nullable(),
          env: opt(stringMap),
        })
        .meta({ id: 'letta__schemas__mcp_server__UpdateStdioMCPServer' }),
      z
        .object({ mcp_server_type: z.literal('sse').default('sse'), ...httpFields, server_url: serverUrl.nullable() })
        .meta({ id: 'letta__schemas__mcp_server__UpdateSSEMCPServer' }),
      z
        .object({
          mcp_server_type: z.literal('streamable_http').default('streamable_http'),
          ...httpFields,
          server_url: serverUrl.nullable(),
        })
        .meta({ id: 'letta__schemas__mcp_server__UpdateStreamableHTTPMCPServer' }),
    ]),
  })
  .meta({ id: 'UpdateMCPServerRequest' });
export type UpdateMcpServer = z.infer<typeof updateMcpServerSchema>;

const serverIdentity = { id: z.string(), server_name: z.string() };

export const stdioMcpServerSchema = z
  .object({ mcp_server_type: z.literal('stdio'), ...stdioFields, env: stringMap.nullable(), ...serverIdentity })
  .meta({ id: 'StdioMCPServer' });
const httpResponseFields = {
  server_url: z.string(),
  auth_header: z.string().nullable(),
  auth_token: z.string().nullable(),
  custom_headers: stringMap.nullable(),
  ...serverIdentity,
};
export const sseMcpServerSchema = z
  .object({ mcp_server_type: z.literal('sse'), ...httpResponseFields })
  .meta({ id: 'SSEMCPServer' });
export const streamableHttpMcpServerSchema = z
  .object({ mcp_server_type: z.literal('streamable_http'), ...httpResponseFields })
  .meta({ id: 'StreamableHTTPMCPServer' });

/** Every id-keyed response: the server flattened, `mcp_server_type` telling which. */
export const mcpServerSchema = z.discriminatedUnion('mcp_server_type', [
  stdioMcpServerSchema,
  sseMcpServerSchema,
  streamableHttpMcpServerSchema,
]);
export type McpServerResponse = z.infer<typeof mcpServerSchema>;

export const mcpServerIdParams = z.object({ mcp_server_id: z.string() });
export const mcpServerToolParams = z.object({ mcp_server_id: z.string(), tool_id: z.string() });
/** `PATCH /v1/mcp-servers/{id}/refresh` and the legacy resync take the agent whose id is sent to the server. */
export const mcpRefreshQuery = z.object({ agent_id: queryString() });

/** Body of both run routes; the id-keyed one may come without a body (`{"args": {}}`). */
export const toolExecuteRequestSchema = z
  .object({ args: jsonObject.default({}) })
  .meta({ id: 'letta__schemas__mcp_server__ToolExecuteRequest' });

export const toolExecutionResultSchema = z
  .object({
    status: z.enum(['success', 'error']),
    func_return: z.unknown(),
    agent_state: z.unknown().nullable(),
    stdout: z.array(z.string()).nullable(),
    stderr: z.array(z.string()).nullable(),
    sandbox_config_fingerprint: z.string().nullable(),
  })
  .meta({ id: 'ToolExecutionResult' });

/** What refresh and resync return (the OpenAPI document leaves it untyped). */
export const mcpResyncResultSchema = z
  .object({ deleted: z.array(z.string()), updated: z.array(z.string()), added: z.array(z.string()) })
  .meta({ id: 'MCPServerResyncResult' });

// ---- legacy name-keyed API: /v1/tools/mcp/servers ----

export const stdioServerConfigSchema = z
  .object({ server_name: z.string(), type: z.literal('stdio').default('stdio'), ...stdioFields })
  .meta({ id: 'StdioServerConfig' });
export const sseServerConfigSchema = z
  .object({ server_name: z.string(), type: z.literal('sse').default('sse'), ...httpFields })
  .meta({ id: 'SSEServerConfig' });
export const streamableHttpServerConfigSchema = z
  .object({
    server_name: z.string(),
    type: z.literal('streamable_http').default('streamable_http'),
    ...httpFields,
  })
  .meta({ id: 'StreamableHTTPServerConfig' });

/**
 * `PUT /v1/tools/mcp/servers`, `…/test` and `…/connect` take an undiscriminated config, as letta-mcp-server sends
 * it (`{server_name, command, args}` or `{server_name, type, server_url}`): a body with `command` and no `type` is
 * stdio, one with `server_url` and no `type` is SSE, Letta's defaults.
 */
export const legacyServerConfigSchema = z.union([
  stdioServerConfigSchema,
  sseServerConfigSchema,
  streamableHttpServerConfigSchema,
]);
export type LegacyServerConfig = z.infer<typeof legacyServerConfigSchema>;

/**
 * `PATCH /v1/tools/mcp/servers/{name}`: Letta's union of `UpdateStdioMCPServer{server_name, stdio_config}`,
 * `UpdateSSEMCPServer{server_name, server_url, token, custom_headers}` and
 * `UpdateStreamableHTTPMCPServer{server_name, server_url, auth_header, auth_token, custom_headers}`, every field
 * optional. Letta tells them apart by refusing unknown fields; accepting the union of all fields in one object
 * reads the same bodies. `token` (SSE) is the bare token, `auth_token` may carry a `Bearer ` prefix.
 */
export const legacyUpdateMcpServerSchema = z
  .object({
    server_name: opt(z.string()),
    stdio_config: opt(stdioServerConfigSchema),
    server_url: opt(serverUrl),
    token: opt(z.string()),
    auth_header: opt(z.string()),
    auth_token: opt(z.string()),
    custom_headers: opt(stringMap),
  })
  .meta({ id: 'UpdateMCPServerLegacy' });
export type LegacyUpdateMcpServer = z.infer<typeof legacyUpdateMcpServerSchema>;

/** `GET /v1/tools/mcp/servers`: a JSON object keyed by server name. */
export const legacyServerListSchema = z.record(z.string(), legacyServerConfigSchema);

export const mcpServerNameParams = z.object({ mcp_server_name: z.string() });
export const mcpServerToolNameParams = z.object({ mcp_server_name: z.string(), mcp_tool_name: z.string() });
export const mcpExecuteParams = z.object({ mcp_server_name: z.string(), tool_name: z.string() });

export const mcpToolHealthSchema = z
  .object({ status: z.string(), reasons: z.array(z.string()) })
  .meta({ id: 'MCPToolHealth' });

export const toolAnnotationsSchema = z
  .looseObject({
    title: opt(z.string()),
    readOnlyHint: opt(z.boolean()),
    destructiveHint: opt(z.boolean()),
    idempotentHint: opt(z.boolean()),
    openWorldHint: opt(z.boolean()),
  })
  .meta({ id: 'ToolAnnotations' });

/** A tool as the MCP server lists it, with Letta's `health`; extra MCP fields (`icons`, `execution`) pass through. */
export const mcpToolSchema = z
  .looseObject({
    name: z.string(),
    title: z.string().nullable(),
    description: z.string().nullable(),
    inputSchema: jsonObject,
    outputSchema: jsonObject.nullable(),
    annotations: toolAnnotationsSchema.nullable(),
    _meta: jsonObject.nullable(),
    health: mcpToolHealthSchema.nullable(),
  })
  .meta({ id: 'MCPTool' });

/** `POST /v1/tools/mcp/servers/test`. */
export const legacyTestResultSchema = z.object({ status: z.literal('success'), tools: z.array(mcpToolSchema) });

/** `POST /v1/tools/mcp/servers/{name}/tools/{tool}/execute`: the result text and whether the tool succeeded. */
export const legacyExecuteResultSchema = z.object({ result: z.string(), success: z.boolean() });

/** The `data:` payloads of both connect streams (`GET /v1/mcp-servers/connect/{id}`, `POST …/servers/connect`). */
export const MCP_CONNECT_EVENTS = [
  'connection_attempt',
  'success',
  'error',
  'oauth_required',
  'authorization_url',
  'waiting_for_auth',
] as const;
export const mcpConnectEventSchema = z.looseObject({
  event: z.enum(MCP_CONNECT_EVENTS),
  server_name: z.string().optional(),
  message: z.string().optional(),
  tools: z.array(mcpToolSchema).optional(),
});
export type McpConnectEvent = z.infer<typeof mcpConnectEventSchema>;

/** An MCP server inside an agent file (`.af`): no secrets, `stdio_config` as Letta's `StdioServerConfig` dict. */
export const mcpServerAgentFileSchema = z
  .looseObject({
    id: z.string(),
    server_type: z.string(),
    server_name: z.string(),
    server_url: opt(z.string()),
    stdio_config: opt(jsonObject),
    metadata_: opt(jsonObject),
  })
  .meta({ id: 'MCPServerSchema' });
