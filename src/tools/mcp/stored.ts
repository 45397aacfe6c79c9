import { nowIso } from '../../lib/time.js';
import type { SecretBox } from '../../lib/secrets.js';
import type { McpServerRecord } from '../../store/mcp-server.store.js';
import type { McpServerConfig } from './config.js';

interface StoredSettings {
  command?: string;
  args?: string[];
  server_url?: string;
  auth_header?: string | null;
}

interface StoredSecrets {
  env?: Record<string, string> | null;
  auth_token?: string | null;
  custom_headers?: Record<string, string> | null;
}

/** Binds the sealed value to its row and column, so it cannot be copied onto another server. */
const secretContext = (id: string) => `mcp_server:${id}:secrets`;

/** The row's columns for a configuration: secrets sealed as one value, everything else plain JSON. */
export function mcpServerColumns(id: string, config: McpServerConfig, box: SecretBox) {
  const settings: StoredSettings =
    config.type === 'stdio'
      ? { command: config.command, args: config.args }
      : { server_url: config.serverUrl, auth_header: config.authHeader ?? null };
  const secrets: StoredSecrets =
    config.type === 'stdio'
      ? { env: config.env ?? null }
      : { auth_token: config.authToken ?? null, custom_headers: config.customHeaders ?? null };
  const hasSecrets = Object.values(secrets).some((value) => value !== null && value !== undefined);
  return {
    server_name: config.serverName,
    server_type: config.type,
    config: JSON.stringify(settings),
    secrets: hasSecrets ? box.encrypt(JSON.stringify(secrets), secretContext(id)) : null,
    updated_at: nowIso(),
  };
}

/** The configuration a row holds, secrets opened: for connecting, never for a response (redact it first). */
export function mcpServerConfig(row: McpServerRecord, box: SecretBox): McpServerConfig {
  const settings = JSON.parse(row.config) as StoredSettings;
  const secrets: StoredSecrets = row.secrets
    ? (JSON.parse(box.decrypt(row.secrets, secretContext(row.id))) as StoredSecrets)
    : {};
  if (row.server_type === 'stdio')
    return {
      type: 'stdio',
      serverName: row.server_name,
      command: settings.command ?? '',
      args: settings.args ?? [],
      env: secrets.env ?? null,
    };
  return {
    type: row.server_type as 'sse' | 'streamable_http',
    serverName: row.server_name,
    serverUrl: settings.server_url ?? '',
    authHeader: settings.auth_header ?? null,
    authToken: secrets.auth_token ?? null,
    customHeaders: secrets.custom_headers ?? null,
  };
}
