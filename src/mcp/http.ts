import type Letta from '@letta-ai/letta-client';
import type { createMcpHandler, McpHttpHandler } from '@modelcontextprotocol/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseProfile } from './profiles.js';
import type * as McpServerModule from './server.js';

/**
 * The MCP SDK, the Letta client and the tool definitions load on the first `/mcp` request: they cost ~250 ms
 * and ~15 MB that a server nobody connects an MCP client to should not pay at start-up.
 */
let modules:
  | Promise<{
      Letta: typeof Letta;
      createMcpHandler: typeof createMcpHandler;
      mcp: typeof McpServerModule;
    }>
  | undefined;
const loadModules = () =>
  (modules ??= Promise.all([
    import('@letta-ai/letta-client'),
    import('@modelcontextprotocol/server'),
    import('./server.js'),
  ]).then(([letta, sdk, mcp]) => ({ Letta: letta.default, createMcpHandler: sdk.createMcpHandler, mcp })));

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** SSE comment lines on the idle GET stream, so proxies and client idle timers do not cut it. */
const KEEPALIVE_MS = 15_000;

/**
 * Streamable HTTP MCP at `/mcp` and `/mcp/` (no redirect: MCP clients do not follow one), serving both protocol
 * revisions per request through the SDK's `createMcpHandler`: a request carrying the 2026-07-28 `_meta` envelope
 * is served statelessly under that revision (`server/discover`, no `initialize`, no session id), anything else
 * as 2025-11-25 (an `initialize` handshake answered by a fresh server, no session id minted). Every request gets a
 * fresh MCP server, so nothing lives in one process's memory. The REST auth hook already guards these paths. Tool
 * handlers reach Cairn through an SDK client pointed at this server's own address, the same code path as
 * `cairn mcp` over stdio (see docs/decisions.md).
 */
export async function mcpRoutes(app: FastifyInstance): Promise<void> {
  /**
   * The client presents the caller's own credential and \`user_id\`, so the tools act as the caller, in the caller's
   * organisation, with exactly the caller's rights.
   */
  const selfClient = (LettaClient: typeof Letta, headers: Headers | undefined): Letta => {
    const address = app.server.address() as AddressInfo | null;
    if (!address || typeof address === 'string') throw new Error('MCP needs the server to listen on TCP');
    const host =
      address.address === '0.0.0.0' || address.address === '::'
        ? '127.0.0.1'
        : address.family === 'IPv6'
          ? `[${address.address}]`
          : address.address;
    const userId = headers?.get('user_id');
    return new LettaClient({
      baseURL: `http://${host}:${address.port}`,
      apiKey: credentialOf(headers),
      defaultHeaders: { 'X-Cairn-Actor': 'agent_tool:mcp', ...(userId ? { user_id: userId } : {}) },
      maxRetries: 0,
      timeout: 120_000,
    });
  };

  let handler: Promise<McpHttpHandler> | undefined;
  const mcpHandler = () =>
    (handler ??= loadModules().then(({ Letta: LettaClient, createMcpHandler, mcp }) =>
      createMcpHandler(
        // The SDK hands the factory the request it serves (a clone on the 2025 leg): URL and headers carry the
        // binding, already validated by the route below.
        ({ requestInfo }) => {
          const url = new URL(requestInfo?.url ?? 'http://localhost/mcp');
          return mcp.createMcpServer({
            client: selfClient(LettaClient, requestInfo?.headers),
            defaultAgentId:
              url.searchParams.get('agent_id') || requestInfo?.headers.get('x-letta-agent-id') || undefined,
            profile: parseProfile(url.searchParams.get('tools') ?? process.env.LETTA_MCP_TOOLS),
            askAgent: mcp.askAgentEnabled(),
          });
        },
        { onerror: (error) => app.log.debug({ err: error }, 'mcp request rejected or failed') },
      ),
    ));

  const handlePost = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!originAllowed(request)) return reply.code(403).send({ detail: 'Origin not allowed' });
    try {
      parseProfile((request.query as { tools?: string }).tools ?? process.env.LETTA_MCP_TOOLS);
    } catch (error) {
      return reply.code(400).send({ detail: (error as Error).message });
    }
    // Closing the response stream is the client's cancellation (2026-07-28) and ends the exchange either way.
    const cancel = new AbortController();
    reply.raw.on('close', () => cancel.abort());
    const response = await (
      await mcpHandler()
    ).fetch(webRequest(request, cancel.signal), {
      parsedBody: request.body,
    });
    return reply.send(response);
  };

  // Claude Code (and the 2025-11-25 SDK clients) open the optional server-to-client stream with GET after
  // `initialize`, and some Claude Code releases drop a server whose GET is refused with 405
  // (anthropics/claude-code#39790). Cairn has nothing to push (its tool list never changes while it runs), so
  // the stream carries only keep-alive comments until the client closes it or the server shuts down.
  const streams = new Set<ServerResponse>();
  const openStream = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!originAllowed(request)) return reply.code(403).send({ detail: 'Origin not allowed' });
    if (!(request.headers.accept ?? '').includes('text/event-stream'))
      return reply.code(406).send(rpcError(-32000, 'Not Acceptable: the GET stream is text/event-stream'));
    // Fastify answers HEAD with this handler too: the headers alone, or the client waits for a stream that never ends.
    if (request.method === 'HEAD') return reply.header('content-type', 'text/event-stream').send();
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': no server-initiated messages are sent on this stream\n\n');
    const keepAlive = setInterval(() => res.write(':\n\n'), KEEPALIVE_MS);
    streams.add(res);
    res.on('close', () => {
      clearInterval(keepAlive);
      streams.delete(res);
    });
  };
  app.addHook('preClose', async () => {
    for (const res of streams) res.end();
    if (handler) await (await handler).close();
  });

  // No sessions are minted, so no client has one to end: DELETE is not offered (2025-11-25 allows the 405).
  const notAllowed = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(405)
      .header('allow', 'GET, POST')
      .send(rpcError(-32000, 'Method not allowed: this server has no sessions to end'));

  app.post('/mcp', handlePost);
  app.get('/mcp', openStream);
  app.delete('/mcp', notAllowed);
}

function rpcError(code: number, message: string) {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}

/**
 * The web-standard request the SDK handler takes. The body is already parsed (it goes in as `parsedBody`), so
 * the request carries none; its length header would describe bytes it does not have.
 */
function webRequest(request: FastifyRequest, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || name === 'content-length' || name === 'transfer-encoding') continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const url = new URL(request.url, `http://${request.headers.host ?? 'localhost'}`);
  return new Request(url, { method: request.method, headers, signal });
}

/** Browsers send Origin; a page on another site must not drive a local MCP server (DNS rebinding). */
function originAllowed(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (!origin) return true;
  try {
    const host = new URL(origin).hostname;
    return LOOPBACK_HOSTS.has(host) || host === (request.headers.host ?? '').replace(/:\d+$/, '');
  } catch {
    return false;
  }
}

/** The credential the caller presented (`Authorization: Bearer`, or Letta's `X-BARE-PASSWORD: password …`). */
function credentialOf(headers: Headers | undefined): string | null {
  const authorization = headers?.get('authorization');
  if (authorization?.startsWith('Bearer ')) return authorization.slice('Bearer '.length);
  const bare = headers?.get('x-bare-password');
  return bare?.startsWith('password ') ? bare.slice('password '.length) : null;
}
