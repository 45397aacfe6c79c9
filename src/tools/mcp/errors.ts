import { CairnError } from '../../lib/errors.js';
import type { ToolExecutionResult } from '../../domain/ports.js';

export type McpOperation = 'connect' | 'list_tools' | 'call_tool';

const OPERATION_TEXT: Record<McpOperation, string> = {
  connect: 'connecting',
  list_tools: 'listing tools',
  call_tool: 'calling a tool',
};

/**
 * Every failure the MCP client reports is one of these, so the caller decides once how each reaches the agent (an
 * error tool result) and the API (a status), and nothing else escapes: no raw SDK error, no hang.
 */
export abstract class McpClientError extends Error {
  constructor(
    readonly serverName: string,
    readonly operation: McpOperation,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The server could not be started or reached, refused the session, or went away (exited, closed) during a call. */
export class McpConnectionError extends McpClientError {
  override readonly name = 'McpConnectionError';
}

/** No answer within the operation's time limit. The message is Letta's `MCPTimeoutError` text. */
export class McpTimeoutError extends McpClientError {
  override readonly name = 'McpTimeoutError';
  constructor(
    serverName: string,
    operation: McpOperation,
    readonly timeoutMs: number,
  ) {
    super(
      serverName,
      operation,
      `Timed out while ${OPERATION_TEXT[operation]} for MCP server ${serverName} (timeout=${timeoutMs / 1000}s).`,
    );
  }
}

/** The server answered with a JSON-RPC error (an unknown tool, arguments it rejects, a failure it reports). */
export class McpRemoteError extends McpClientError {
  override readonly name = 'McpRemoteError';
  constructor(
    serverName: string,
    operation: McpOperation,
    readonly code: number,
    message: string,
  ) {
    super(serverName, operation, message);
  }
}

/** The configuration is refused before anything is started: stdio disabled, a URL outside the allowed networks. */
export class McpConfigError extends McpClientError {
  override readonly name = 'McpConfigError';
}

/** Letta's text for a failed tool call (`get_friendly_error_msg`), capped at its 1,000 characters. */
export function mcpErrorToolResult(toolName: string, error: McpClientError): ToolExecutionResult {
  return {
    status: 'error',
    funcReturn: `Error executing function ${toolName}: ${error.name}: ${error.message}`.slice(0, 1000),
  };
}

/**
 * The status each failure gets on the API, as Letta maps its MCP errors: a timeout is 408 (`TIMEOUT: …`), an
 * unreachable or failing server 502, a refused configuration or arguments the server rejected 400.
 */
export function mcpErrorStatus(error: McpClientError): 400 | 408 | 502 {
  if (error instanceof McpTimeoutError) return 408;
  if (error instanceof McpConfigError) return 400;
  if (error instanceof McpRemoteError && (error.code === INVALID_PARAMS || error.code === METHOD_NOT_FOUND)) return 400;
  return 502;
}

const INVALID_PARAMS = -32602;
const METHOD_NOT_FOUND = -32601;

export function mcpHttpError(error: McpClientError): CairnError {
  const status = mcpErrorStatus(error);
  const prefix = status === 408 ? 'TIMEOUT: ' : status === 400 ? 'INVALID_ARGUMENT: ' : '';
  return new CairnError(status, `${prefix}${error.message}`);
}
