import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport, SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, type Tool as SdkTool } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { CAIRN_VERSION } from '../../version.js';
import type { ToolExecutionResult } from '../../domain/ports.js';
import {
  checkServerUrl,
  configKey,
  DEFAULT_MCP_SETTINGS,
  requestHeaders,
  spawnArgs,
  type McpServerConfig,
  type McpSettings,
  type McpTimeouts,
} from './config.js';
import {
  McpClientError,
  McpConfigError,
  McpConnectionError,
  McpRemoteError,
  McpTimeoutError,
  type McpOperation,
} from './errors.js';
import {
  diffMcpTools,
  executionResult,
  listedTool,
  type McpListedTool,
  type McpToolDiff,
  type RegisteredMcpTool,
} from './letta-tool.js';

export interface McpClientManagerOptions {
  /** Timeouts and the stdio switch; `mcpSettingsFromEnv(process.env)` reads Letta's variables. */
  settings?: McpSettings | undefined;
  /** Letta refuses loopback and private addresses; a self-hosted Cairn allows them unless this is `false`. */
  allowPrivateNetworks?: boolean | undefined;
  /** A connection unused this long is closed (its process stopped); 0 keeps connections until `close()`. */
  idleTimeoutMs?: number | undefined;
  logger?: Logger | undefined;
}

export interface McpCallOptions {
  /** Sent as `X-Agent-Id` to HTTP servers, as Letta does; connections are kept per agent for that reason. */
  agentId?: string | undefined;
  /** Overrides the configured limit for this one call. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

const STDERR_TAIL = 2_000;
/** After a call times out, the connection must answer a ping this fast or it is presumed wedged and replaced. */
const PROBE_TIMEOUT_MS = 5_000;
const MAX_TOOL_PAGES = 100;

/** One live session with a server: a running stdio process, or an HTTP/SSE session. */
class Connection {
  closed = false;
  inFlight = 0;
  idleTimer: NodeJS.Timeout | undefined;
  stderrTail = '';
  exitNote = '';

  constructor(
    readonly key: string,
    readonly config: McpServerConfig,
    readonly client: Client,
    readonly transport: Transport,
  ) {}

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    if (this.transport instanceof StreamableHTTPClientTransport && this.transport.sessionId)
      // Politeness to a server that keeps per-session state; never worth waiting on.
      await Promise.race([this.transport.terminateSession().catch(() => {}), delay(1_000)]);
    await this.client.close().catch(() => {});
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Connects Cairn to MCP servers as a tool source. Connections are opened on first use and kept: a stdio server
 * runs as one child process per configuration per Cairn process, shared by concurrent calls, started again on the
 * next call after it exits, and stopped when idle, released or on `close()`. Every operation is bounded by a
 * timeout, and every failure is an `McpClientError`.
 */
export class McpClientManager {
  private readonly pool = new Map<string, Promise<Connection>>();
  private readonly settings: McpSettings;
  private readonly allowPrivateNetworks: boolean;
  private readonly idleTimeoutMs: number;
  private readonly logger: Logger | undefined;
  private closing = false;

  constructor(options: McpClientManagerOptions = {}) {
    this.settings = options.settings ?? DEFAULT_MCP_SETTINGS;
    this.allowPrivateNetworks = options.allowPrivateNetworks ?? true;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 10 * 60_000;
    this.logger = options.logger;
  }

  get timeouts(): McpTimeouts {
    return this.settings.timeouts;
  }

  /** The server's tools as Letta lists them live (normalized schemas, health). Also the legacy "test" route. */
  async listTools(config: McpServerConfig, options: McpCallOptions = {}): Promise<McpListedTool[]> {
    const timeoutMs = options.timeoutMs ?? this.timeouts.listToolsMs;
    return this.withConnection(config, 'list_tools', timeoutMs, options, async (client, signal) => {
      const tools: SdkTool[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_TOOL_PAGES; page++) {
        const result = await client.listTools(cursor ? { cursor } : undefined, { signal, timeout: timeoutMs });
        tools.push(...result.tools);
        cursor = result.nextCursor;
        if (!cursor) break;
      }
      return tools.map(listedTool);
    });
  }

  /**
   * Runs one tool. The server's own failure (`isError`) is a result with status `error`; a server that cannot be
   * reached, times out, exits mid-call or rejects the call raises an `McpClientError` (`mcpErrorToolResult` turns
   * it into the agent's result).
   */
  async callTool(
    config: McpServerConfig,
    toolName: string,
    args: Record<string, unknown>,
    options: McpCallOptions = {},
  ): Promise<ToolExecutionResult> {
    const timeoutMs = options.timeoutMs ?? this.timeouts.callToolMs;
    const result = await this.withConnection(config, 'call_tool', timeoutMs, options, (client, signal) =>
      client.callTool({ name: toolName, arguments: args }, undefined, { signal, timeout: timeoutMs }),
    );
    return executionResult(result as Parameters<typeof executionResult>[0]);
  }

  /** Lists the server's tools and compares them with the registered ones (Letta's refresh / resync). */
  async refresh(
    server: { id: string; name: string },
    config: McpServerConfig,
    registered: RegisteredMcpTool[],
    options: McpCallOptions = {},
  ): Promise<McpToolDiff> {
    return diffMcpTools(server, await this.listTools(config, options), registered);
  }

  /** Closes the connections of a server whose configuration changed or that was deleted, for every agent. */
  async release(config: McpServerConfig): Promise<void> {
    const prefix = configKey(config);
    const closing: Promise<void>[] = [];
    for (const [key, pending] of this.pool) {
      if (!key.startsWith(prefix)) continue;
      this.pool.delete(key);
      closing.push(pending.then((connection) => connection.close()).catch(() => {}));
    }
    await Promise.all(closing);
  }

  /** Stops every stdio process and ends every session; later calls fail. */
  async close(): Promise<void> {
    this.closing = true;
    const pending = [...this.pool.values()];
    this.pool.clear();
    await Promise.all(pending.map((p) => p.then((connection) => connection.close()).catch(() => {})));
  }

  private async withConnection<T>(
    config: McpServerConfig,
    operation: McpOperation,
    timeoutMs: number,
    options: McpCallOptions,
    run: (client: Client, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const { connection, fresh } = await this.acquire(config, options);
      connection.inFlight++;
      clearTimeout(connection.idleTimer);
      try {
        return await this.bounded(connection, operation, timeoutMs, options.signal, run);
      } catch (error) {
        const mapped = this.mapError(error, connection, operation, timeoutMs);
        // A 404 on a reused HTTP session means the server dropped it without processing the request (the
        // spec's session expiry), so one retry on a new session is safe even for a tool call.
        if (!fresh && attempt === 0 && sessionExpired(error)) {
          await this.evict(connection);
          continue;
        }
        if (mapped instanceof McpTimeoutError) this.probe(connection);
        throw mapped;
      } finally {
        connection.inFlight--;
        this.scheduleIdle(connection);
      }
    }
  }

  /** Our own deadline as well as the SDK's: nothing the transport does (a blocked write, a stalled fetch) can outlast it. */
  private async bounded<T>(
    connection: Connection,
    operation: McpOperation,
    timeoutMs: number,
    outer: AbortSignal | undefined,
    run: (client: Client, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    const onAbort = () => controller.abort(outer?.reason);
    outer?.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        run(connection.client, controller.signal),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const timeout = new McpTimeoutError(connection.config.serverName, operation, timeoutMs);
            controller.abort(timeout);
            reject(timeout);
          }, timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    }
  }

  private async acquire(
    config: McpServerConfig,
    options: McpCallOptions,
  ): Promise<{ connection: Connection; fresh: boolean }> {
    if (this.closing) throw new McpConnectionError(config.serverName, 'connect', 'The MCP client is shut down');
    const key = configKey(config) + (config.type === 'stdio' ? '' : `:${options.agentId ?? ''}`);
    const existing = this.pool.get(key);
    if (existing) {
      const connection = await existing.catch(() => undefined);
      if (connection && !connection.closed) return { connection, fresh: false };
      if (this.pool.get(key) === existing) this.pool.delete(key);
    }
    const opening = this.open(key, config, options.agentId);
    this.pool.set(key, opening);
    try {
      return { connection: await opening, fresh: true };
    } catch (error) {
      if (this.pool.get(key) === opening) this.pool.delete(key);
      throw error;
    }
  }

  private async open(key: string, config: McpServerConfig, agentId: string | undefined): Promise<Connection> {
    const { connectMs } = this.timeouts;
    const transport = this.transportFor(config, agentId);
    const client = new Client({ name: 'cairn', version: CAIRN_VERSION }, { capabilities: {} });
    const connection = new Connection(key, config, client, transport);
    if (transport instanceof StdioClientTransport) {
      transport.stderr?.on('data', (chunk: Buffer) => {
        connection.stderrTail = (connection.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL);
      });
    }
    // A stdio process that exits (or a session that ends) marks the connection dead; the next call opens a new one.
    client.onclose = () => {
      connection.closed = true;
      clearTimeout(connection.idleTimer);
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.connect(transport, { timeout: connectMs }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new McpTimeoutError(config.serverName, 'connect', connectMs)), connectMs);
        }),
      ]);
    } catch (error) {
      // Stopping a stdio process can take seconds (stdin closed, then SIGTERM, then SIGKILL): not the caller's wait.
      void client
        .close()
        .then(() => transport.close())
        .catch(() => {});
      if (error instanceof McpTimeoutError) throw error;
      const mapped = this.mapError(error, connection, 'connect', connectMs);
      if (mapped instanceof McpTimeoutError) throw mapped;
      throw new McpConnectionError(
        config.serverName,
        'connect',
        `Failed to connect to MCP ${describeTarget(config)}: ${mapped.message}`,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
    this.logger?.debug({ mcpServer: config.serverName, transport: config.type }, 'MCP server connected');
    return connection;
  }

  private transportFor(config: McpServerConfig, agentId: string | undefined): Transport {
    if (config.type === 'stdio') {
      if (this.settings.disableStdio)
        throw new McpConfigError(
          config.serverName,
          'connect',
          'MCP stdio servers are disabled. Set MCP_DISABLE_STDIO=false to enable them.',
        );
      return new StdioClientTransport({
        command: config.command,
        args: spawnArgs(config.args),
        ...(config.env ? { env: config.env } : {}),
        stderr: 'pipe',
      });
    }
    checkServerUrl(config.serverName, config.serverUrl, { allowPrivateNetworks: this.allowPrivateNetworks });
    const url = new URL(config.serverUrl);
    const requestInit = { headers: requestHeaders(config, agentId) };
    return config.type === 'sse'
      ? new SSEClientTransport(url, { requestInit })
      : new StreamableHTTPClientTransport(url, { requestInit });
  }

  private mapError(error: unknown, connection: Connection, operation: McpOperation, timeoutMs: number): McpClientError {
    const { serverName } = connection.config;
    if (error instanceof McpClientError) return error;
    if (error instanceof McpError) {
      if (error.code === ErrorCode.RequestTimeout) return new McpTimeoutError(serverName, operation, timeoutMs);
      if (error.code === ErrorCode.ConnectionClosed)
        return new McpConnectionError(
          serverName,
          operation,
          `MCP server ${serverName} closed the connection${this.exitNote(connection)}`,
          {
            cause: error,
          },
        );
      return new McpRemoteError(serverName, operation, error.code, error.message);
    }
    if (error instanceof StreamableHTTPError || error instanceof SseError) {
      const status = error.code;
      const text = status === 401 || status === 403 ? `Authentication failed: ${error.message}` : error.message;
      return new McpConnectionError(serverName, operation, text, { cause: error });
    }
    const message = describeCause(error);
    return new McpConnectionError(serverName, operation, `${message}${this.exitNote(connection)}`, { cause: error });
  }

  private exitNote(connection: Connection): string {
    if (connection.config.type !== 'stdio') return '';
    const lastLine = connection.stderrTail.trim().split('\n').pop()?.trim();
    return lastLine ? ` (server stderr: ${lastLine.slice(0, 300)})` : '';
  }

  /** A timed-out call may be a slow tool on a healthy server or a wedged server; a ping tells them apart. */
  private probe(connection: Connection): void {
    if (connection.closed) return;
    const ping = connection.client.ping({ timeout: Math.min(PROBE_TIMEOUT_MS, this.timeouts.connectMs) });
    ping.catch(async () => {
      this.logger?.warn(
        { mcpServer: connection.config.serverName },
        'MCP server did not answer a ping after a timeout; reconnecting',
      );
      await this.evict(connection);
    });
  }

  private async evict(connection: Connection): Promise<void> {
    const current = this.pool.get(connection.key);
    if (current && (await current.catch(() => undefined)) === connection) this.pool.delete(connection.key);
    await connection.close();
  }

  private scheduleIdle(connection: Connection): void {
    if (this.idleTimeoutMs <= 0 || connection.inFlight > 0 || connection.closed) return;
    clearTimeout(connection.idleTimer);
    connection.idleTimer = setTimeout(() => void this.evict(connection), this.idleTimeoutMs);
    connection.idleTimer.unref();
  }
}

function sessionExpired(error: unknown): boolean {
  return error instanceof StreamableHTTPError && error.code === 404;
}

function describeTarget(config: McpServerConfig): string {
  return config.type === 'stdio' ? `command '${config.command}'` : `server URL '${config.serverUrl}'`;
}

/** Node's network errors hide the reason (`fetch failed`) in `cause`; spawn errors carry it in `code`. */
function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return `${error.message}: ${code ? `${code} ` : ''}${cause.message}`.trim();
  }
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}
