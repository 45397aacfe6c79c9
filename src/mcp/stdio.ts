import {
  PROTOCOL_VERSION_META_KEY,
  type JSONRPCMessage,
  type MessageExtraInfo,
  type Transport,
  type TransportSendOptions,
} from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';

/** The per-request revisions the SDK serves: its `server/discover` answer, which a test keeps equal to this. */
export const MODERN_REVISIONS: readonly string[] = ['2026-07-28'];

/** Unsupported protocol version (2026-07-28 schema, `UnsupportedProtocolVersionError`). */
const UNSUPPORTED_VERSION = -32022;

/**
 * stdio that accepts or rejects each request's claimed revision on its own, as 2026-07-28 requires. `serveStdio`
 * checks the claim only while the connection opens; once one server instance is pinned, later messages reach it
 * unchecked, and a request claiming a revision nobody serves would be answered anyway. Messages without a claim
 * (2025-11-25 traffic) and well-formed claims pass through to the SDK untouched.
 */
export class PerRequestVersionTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;

  constructor(private readonly wire: Transport = new StdioServerTransport()) {}

  start(): Promise<void> {
    this.wire.onclose = () => this.onclose?.();
    this.wire.onerror = (error) => this.onerror?.(error);
    this.wire.onmessage = (message, extra) => {
      const claimed = claimedRevision(message);
      if (claimed === undefined || MODERN_REVISIONS.includes(claimed) || !('id' in message))
        return this.onmessage?.(message, extra);
      this.wire
        .send({
          jsonrpc: '2.0',
          id: message.id,
          error: {
            code: UNSUPPORTED_VERSION,
            message: `Unsupported protocol version: ${claimed}`,
            data: { supported: [...MODERN_REVISIONS], requested: claimed },
          },
        })
        .catch((error: unknown) => this.onerror?.(error instanceof Error ? error : new Error(String(error))));
    };
    return this.wire.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.wire.send(message, options);
  }

  close(): Promise<void> {
    return this.wire.close();
  }

  setProtocolVersion(version: string): void {
    this.wire.setProtocolVersion?.(version);
  }
}

function claimedRevision(message: JSONRPCMessage): string | undefined {
  if (!('method' in message) || typeof message.params !== 'object' || message.params === null) return undefined;
  const meta = (message.params as { _meta?: unknown })._meta;
  if (typeof meta !== 'object' || meta === null) return undefined;
  const claimed = (meta as Record<string, unknown>)[PROTOCOL_VERSION_META_KEY];
  return typeof claimed === 'string' ? claimed : undefined;
}
