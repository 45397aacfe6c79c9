import { badRequest } from '../../lib/errors.js';
import { keepRedacted, keepRedactedValues, redactSecret, redactValues } from '../../lib/secrets.js';
import type {
  CreateMcpServer,
  LegacyServerConfig,
  LegacyUpdateMcpServer,
  McpServerResponse,
  UpdateMcpServer,
} from '../../schemas/mcp-server.js';
import type { McpHttpConfig, McpServerConfig } from './config.js';

/**
 * Between the wire types and the client's `McpServerConfig` (what the store keeps, secrets encrypted at rest).
 * Letta stores a bare token and always sends it as `Authorization: Bearer <token>`, whatever header was named, and
 * drops the token when custom headers are also set; Cairn keeps the named header and both. What stays Letta's: a
 * bare token under `Authorization` is sent as `Bearer <token>`.
 */
function authToken(header: string | null | undefined, token: string | null | undefined): string | null {
  if (!token) return null;
  return header?.toLowerCase() === 'authorization' && !/\s/.test(token.trim()) ? `Bearer ${token.trim()}` : token;
}

export function configFromCreate(request: CreateMcpServer): McpServerConfig {
  const { config, server_name } = request;
  if (config.mcp_server_type === 'stdio')
    return {
      type: 'stdio',
      serverName: server_name,
      command: config.command,
      args: config.args,
      env: config.env ?? null,
    };
  return {
    type: config.mcp_server_type,
    serverName: server_name,
    serverUrl: config.server_url,
    authHeader: config.auth_header ?? null,
    authToken: authToken(config.auth_header, config.auth_token),
    customHeaders: config.custom_headers ?? null,
  };
}

export function configFromLegacy(body: LegacyServerConfig): McpServerConfig {
  if (body.type === 'stdio')
    return {
      type: 'stdio',
      serverName: body.server_name,
      command: body.command,
      args: body.args,
      env: body.env ?? null,
    };
  return {
    type: body.type,
    serverName: body.server_name,
    serverUrl: body.server_url,
    authHeader: body.auth_header ?? null,
    authToken: authToken(body.auth_header, body.auth_token),
    customHeaders: body.custom_headers ?? null,
  };
}

/**
 * `PATCH /v1/mcp-servers/{id}` as Letta applies it: null or absent fields keep the stored value; a stdio command
 * line is replaced only when both `command` and `args` are given. Redacted values a client echoes back keep the
 * stored secrets. A config of another transport than the server's is refused (Letta silently ignores it).
 */
export function applyUpdate(stored: McpServerConfig, update: UpdateMcpServer): McpServerConfig {
  const serverName = update.server_name ?? stored.serverName;
  const { config } = update;
  const mismatch = () =>
    badRequest(
      `MCP server ${stored.serverName} is a ${stored.type} server; its update config must have mcp_server_type '${stored.type}', not '${config.mcp_server_type}'`,
    );
  if (config.mcp_server_type === 'stdio') {
    if (stored.type !== 'stdio') throw mismatch();
    if (config.command === null || config.args === null) return { ...stored, serverName };
    const env = config.env ? keepRedactedValues(config.env, stored.env) : null;
    return { type: 'stdio', serverName, command: config.command, args: config.args, env: env ?? null };
  }
  if (stored.type !== config.mcp_server_type) throw mismatch();
  return applyHttpUpdate(stored, serverName, {
    serverUrl: config.server_url,
    authHeader: config.auth_header,
    authToken: config.auth_token,
    customHeaders: config.custom_headers,
  });
}

/** `PATCH /v1/tools/mcp/servers/{name}`: Letta's legacy update, fields applied when present and not null. */
export function applyLegacyUpdate(stored: McpServerConfig, update: LegacyUpdateMcpServer): McpServerConfig {
  const serverName = update.server_name ?? stored.serverName;
  if (stored.type === 'stdio') {
    const next = update.stdio_config;
    if (!next) return { ...stored, serverName };
    const env = next.env ? keepRedactedValues(next.env, stored.env) : null;
    return { type: 'stdio', serverName, command: next.command, args: next.args, env: env ?? null };
  }
  // SSE's legacy field is a bare `token`, sent as a bearer token.
  const token = update.auth_token ?? (update.token ? `Bearer ${update.token}` : undefined);
  return applyHttpUpdate(stored, serverName, {
    serverUrl: update.server_url,
    authHeader: update.auth_header ?? (update.token ? 'Authorization' : undefined),
    authToken: token,
    customHeaders: update.custom_headers,
  });
}

function applyHttpUpdate(
  stored: McpHttpConfig,
  serverName: string,
  update: {
    serverUrl: string | null | undefined;
    authHeader: string | null | undefined;
    authToken: string | null | undefined;
    customHeaders: Record<string, string> | null | undefined;
  },
): McpHttpConfig {
  const authHeader = update.authHeader ?? stored.authHeader ?? null;
  const incomingToken = keepRedacted(update.authToken, stored.authToken);
  return {
    ...stored,
    serverName,
    serverUrl: update.serverUrl ?? stored.serverUrl,
    authHeader,
    authToken: incomingToken ? authToken(authHeader, incomingToken) : (stored.authToken ?? null),
    customHeaders: update.customHeaders
      ? (keepRedactedValues(update.customHeaders, stored.customHeaders) ?? null)
      : (stored.customHeaders ?? null),
  };
}

/** The id-keyed response (`StdioMCPServer` / `SSEMCPServer` / `StreamableHTTPMCPServer`), secrets redacted. */
export function mcpServerResponse(id: string, config: McpServerConfig): McpServerResponse {
  if (config.type === 'stdio')
    return {
      id,
      server_name: config.serverName,
      mcp_server_type: 'stdio',
      command: config.command,
      args: config.args,
      env: redactValues(config.env),
    };
  return {
    id,
    server_name: config.serverName,
    mcp_server_type: config.type,
    server_url: config.serverUrl,
    auth_header: config.authToken ? (config.authHeader ?? null) : null,
    auth_token: redactSecret(config.authToken),
    custom_headers: redactValues(config.customHeaders),
  };
}

/** The legacy response (`StdioServerConfig` / `SSEServerConfig` / `StreamableHTTPServerConfig`), secrets redacted. */
export function legacyConfigResponse(config: McpServerConfig): LegacyServerConfig {
  if (config.type === 'stdio')
    return {
      server_name: config.serverName,
      type: 'stdio',
      command: config.command,
      args: config.args,
      env: redactValues(config.env),
    };
  return {
    server_name: config.serverName,
    type: config.type,
    server_url: config.serverUrl,
    auth_header: config.authToken ? (config.authHeader ?? null) : null,
    auth_token: redactSecret(config.authToken),
    custom_headers: redactValues(config.customHeaders),
  };
}
