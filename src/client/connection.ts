import Letta from '@letta-ai/letta-client';

/**
 * How the client side (CLI, hooks, stdio MCP server) finds a Letta-compatible server. Letta's environment names
 * come first so that configurations written for Letta Code or the Letta MCP server work unchanged.
 */
export interface Connection {
  baseURL: string;
  token: string | undefined;
}

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8283';

export function resolveConnection(
  flags: { baseUrl?: string | undefined } = {},
  env: NodeJS.ProcessEnv = process.env,
): Connection {
  const raw = flags.baseUrl ?? env.LETTA_BASE_URL ?? env.CAIRN_BASE_URL ?? DEFAULT_BASE_URL;
  const token =
    env.LETTA_API_KEY || env.LETTA_PASSWORD || env.LETTA_API_TOKEN || env.LETTA_SERVER_PASSWORD || undefined;
  return { baseURL: normalizeBaseUrl(raw), token };
}

/** The Node Letta MCP server's convention is a base URL ending in `/v1`; the SDK adds `/v1` itself. */
export function normalizeBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`invalid base URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`invalid base URL (http or https only): ${raw}`);
  return url.toString().replace(/\/+$/, '').replace(/\/v1$/, '');
}

export function createClient(
  connection: Connection,
  options: { timeoutMs?: number; maxRetries?: number; fetch?: typeof fetch; actor?: string } = {},
): Letta {
  return new Letta({
    ...(options.fetch ? { fetch: options.fetch } : {}),
    // Cairn records it as the author of block writes (src/services/actor.ts); other servers ignore the header.
    ...(options.actor ? { defaultHeaders: { 'X-Cairn-Actor': options.actor } } : {}),
    baseURL: connection.baseURL,
    apiKey: connection.token ?? null,
    timeout: options.timeoutMs ?? 60_000,
    maxRetries: options.maxRetries ?? 0,
  });
}

/** A one-line reason for a failed call: the server's `detail` when it sent one, else the transport error. */
export function describeError(error: unknown): string {
  if (error instanceof Letta.APIError) {
    const body = error.error as { detail?: unknown } | undefined;
    const detail =
      typeof body?.detail === 'string'
        ? body.detail
        : body?.detail !== undefined
          ? JSON.stringify(body.detail)
          : undefined;
    if (error.status === undefined) return `cannot reach the server: ${error.message}`;
    return `HTTP ${error.status}: ${detail ?? error.message}`.replace(/\s+/g, ' ');
  }
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ');
}
