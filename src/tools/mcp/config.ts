import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { McpConfigError } from './errors.js';

/** A server as the client connects to it: plaintext secrets, already decrypted by the caller. */
export type McpServerConfig = McpStdioConfig | McpHttpConfig;

export interface McpStdioConfig {
  type: 'stdio';
  serverName: string;
  command: string;
  args: string[];
  env?: Record<string, string> | null | undefined;
}

export interface McpHttpConfig {
  type: 'sse' | 'streamable_http';
  serverName: string;
  serverUrl: string;
  /** Header name for `authToken`, e.g. `Authorization`; both must be set for the header to be sent. */
  authHeader?: string | null | undefined;
  /** The header's whole value, e.g. `Bearer abc`. */
  authToken?: string | null | undefined;
  customHeaders?: Record<string, string> | null | undefined;
}

export interface McpTimeouts {
  connectMs: number;
  listToolsMs: number;
  callToolMs: number;
}

export interface McpSettings {
  timeouts: McpTimeouts;
  /** Letta's `MCP_DISABLE_STDIO`: stdio servers run a command on this machine for whoever can call the API. */
  disableStdio: boolean;
}

/** Letta's defaults (`tool_settings`): connect 30 s, list tools 30 s, execute 60 s, stdio disabled. */
export const DEFAULT_MCP_SETTINGS: McpSettings = {
  timeouts: { connectMs: 30_000, listToolsMs: 30_000, callToolMs: 60_000 },
  disableStdio: true,
};

/**
 * Letta's environment names, in seconds: `MCP_CONNECT_TO_SERVER_TIMEOUT`, `MCP_LIST_TOOLS_TIMEOUT`,
 * `MCP_EXECUTE_TOOL_TIMEOUT`, and `MCP_DISABLE_STDIO`. A value that is not a positive number is an error, not a
 * silent default: a typo would otherwise leave a limit the operator thinks they changed.
 */
export function mcpSettingsFromEnv(env: NodeJS.ProcessEnv): McpSettings {
  const seconds = (name: string, fallbackMs: number) => {
    const raw = env[name]?.trim();
    if (!raw) return fallbackMs;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0 || value > 2_147_483)
      throw new Error(`${name} must be a positive number of seconds, got '${raw}'`);
    return Math.round(value * 1000);
  };
  const flag = env.MCP_DISABLE_STDIO?.trim().toLowerCase();
  if (flag && !['true', '1', 'false', '0'].includes(flag))
    throw new Error(`MCP_DISABLE_STDIO must be true or false, got '${env.MCP_DISABLE_STDIO}'`);
  const { timeouts } = DEFAULT_MCP_SETTINGS;
  return {
    timeouts: {
      connectMs: seconds('MCP_CONNECT_TO_SERVER_TIMEOUT', timeouts.connectMs),
      listToolsMs: seconds('MCP_LIST_TOOLS_TIMEOUT', timeouts.listToolsMs),
      callToolMs: seconds('MCP_EXECUTE_TOOL_TIMEOUT', timeouts.callToolMs),
    },
    disableStdio: flag ? flag === 'true' || flag === '1' : DEFAULT_MCP_SETTINGS.disableStdio,
  };
}

/**
 * Letta splits every stdio argument on whitespace before spawning (`["-y @scope/server"]` runs as two arguments),
 * and configurations written for Letta rely on it; an argument that must contain a space cannot be expressed.
 */
export function spawnArgs(args: readonly string[]): string[] {
  return args.flatMap((arg) => arg.split(/\s+/).filter(Boolean));
}

/**
 * The headers sent on every request: custom headers first, then the auth header, then the agent id (Letta's
 * order). Names and values lose surrounding quotes and names a trailing colon, as Letta cleans them, so a header
 * pasted as `"Authorization:": "'Bearer x'"` still works.
 */
export function requestHeaders(config: McpHttpConfig, agentId?: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.customHeaders ?? {}))
    headers[headerName(name)] = unquote(value.trim());
  if (config.authHeader && config.authToken) headers[headerName(config.authHeader)] = unquote(config.authToken.trim());
  if (agentId) headers['X-Agent-Id'] = agentId;
  return headers;
}

const headerName = (name: string) => unquote(name.trim()).replace(/:+$/, '').trim();

function unquote(value: string): string {
  for (const quote of ['"', "'"])
    if (value.length >= 2 && value.startsWith(quote) && value.endsWith(quote)) return value.slice(1, -1);
  return value;
}

const TEMPLATE = /\{\{\s*([A-Z_][A-Z0-9_]*)\s*(?:\|\s*([^}]+?)\s*)?\}\}/g;

/**
 * Letta resolves `{{ NAME }}` and `{{ NAME | default }}` in the auth token and custom header values from the
 * agent's tool variables. A value with a template that stays unresolved is kept as it was written, as Letta does.
 */
export function resolveTemplates<T extends McpServerConfig>(config: T, variables: Record<string, string>): T {
  if (config.type === 'stdio') return config;
  const resolve = (value: string): string => {
    let unresolved = false;
    const out = value.replace(TEMPLATE, (match, name: string, fallback: string | undefined) => {
      const found = variables[name] ?? fallback;
      if (found === undefined) unresolved = true;
      return found ?? match;
    });
    return unresolved ? value : out;
  };
  const http: McpHttpConfig = config;
  return {
    ...config,
    authToken: http.authToken ? resolve(http.authToken) : http.authToken,
    customHeaders: http.customHeaders
      ? Object.fromEntries(Object.entries(http.customHeaders).map(([key, value]) => [key, resolve(value)]))
      : http.customHeaders,
  };
}

/** Identifies a configuration for connection reuse: a changed command, URL or header gets a new connection. */
export function configKey(config: McpServerConfig): string {
  const canonical =
    config.type === 'stdio'
      ? ['stdio', config.command, config.args, sortedEntries(config.env)]
      : [
          config.type,
          config.serverUrl,
          config.authHeader ?? null,
          config.authToken ?? null,
          sortedEntries(config.customHeaders),
        ];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

function sortedEntries(record: Record<string, string> | null | undefined): [string, string][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const BLOCKED_HOSTS = new Set(['localhost', 'metadata.google.internal']);
const BLOCKED_SUFFIXES = ['.local', '.localdomain', '.home.arpa', '.svc', '.cluster.local'];

/**
 * Letta refuses MCP URLs on loopback, private and link-local addresses and internal host names (SSRF). A
 * self-hosted Cairn commonly points at MCP servers on the same machine, so the refusal is a policy the caller
 * switches on (`allowPrivateNetworks: false`); the scheme and host checks always apply. Host names are not
 * resolved here, as Letta does not resolve them when a server is created.
 */
export function checkServerUrl(serverName: string, url: string, options: { allowPrivateNetworks: boolean }): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new McpConfigError(serverName, 'connect', `server_url must be an absolute http(s) URL, got: '${url}'`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new McpConfigError(
      serverName,
      'connect',
      `server_url must start with 'http://' or 'https://', got: '${url}'`,
    );
  if (!parsed.hostname)
    throw new McpConfigError(serverName, 'connect', `server_url must have a valid host, got: '${url}'`);
  if (options.allowPrivateNetworks) return;
  const host = parsed.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  if (BLOCKED_HOSTS.has(host) || BLOCKED_SUFFIXES.some((suffix) => host.endsWith(suffix)))
    throw new McpConfigError(serverName, 'connect', `Blocked internal hostname: ${parsed.hostname}`);
  if (isIP(host) && !isPublicAddress(host))
    throw new McpConfigError(serverName, 'connect', `Non-public IP not allowed: ${parsed.hostname}`);
}

function isPublicAddress(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a = 0, b = 0] = ip.split('.').map(Number);
    return !(
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 198 && (b === 18 || b === 19)) ||
      a >= 224
    );
  }
  const lower = ip.toLowerCase();
  if (lower === '::' || lower === '::1') return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return isPublicAddress(mapped[1]!);
  // Unique-local fc00::/7, link-local fe80::/10, multicast ff00::/8.
  return !/^(f[cd]|fe[89ab]|ff)/.test(lower);
}
