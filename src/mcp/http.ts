import type Letta from '@letta-ai/letta-client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';

/**
 * The MCP SDK, the Letta client and the tool definitions load on the first `/mcp` request: they cost ~250 ms
 * and ~15 MB that a server nobody connects an MCP client to should not pay at start-up.
 */
let modules:
  | Promise<{
      Letta: typeof Letta;
      Transport: typeof import('@modelcontextprotocol/sdk/server/streamableHttp.js').StreamableHTTPServerTransport;
      mcp: typeof import('./server.js');
    }>
  | undefined;
const loadModules = () =>
  (modules ??= Promise.all([
    import('@letta-ai/letta-client'),
    import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
    import('./server.js'),
  ]).then(([letta, transport, mcp]) => ({
    Letta: letta.default,
    Transport: transport.StreamableHTTPServerTransport,
    mcp,
  })));

export interface McpHttpOptions {
  /** The server's own password: the in-process SDK client presents it to the server it runs in. */
  password: string | undefined;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Streamable HTTP MCP at `/mcp` and `/mcp/` (no redirect: MCP clients do not follow one), stateless: every POST
 * gets a fresh server and transport, so nothing lives in one process's memory. The REST auth hook already guards
 * these paths. Tool handlers reach Cairn through an SDK client pointed at this server's own address, the same code
 * path as `cairn mcp` over stdio (see docs/decisions.md).
 */
export async function mcpRoutes(app: FastifyInstance, options: McpHttpOptions): Promise<void> {
  let client: Letta | undefined;
  const selfClient = (LettaClient: typeof Letta): Letta => {
    if (client) return client;
    const address = app.server.address() as AddressInfo | null;
    if (!address || typeof address === 'string') throw new Error('MCP needs the server to listen on TCP');
    const host =
      address.address === '0.0.0.0' || address.address === '::'
        ? '127.0.0.1'
        : address.family === 'IPv6'
          ? `[${address.address}]`
          : address.address;
    client = new LettaClient({
      baseURL: `http://${host}:${address.port}`,
      apiKey: options.password ?? null,
      defaultHeaders: { 'X-Cairn-Actor': 'agent_tool:mcp' },
      maxRetries: 0,
      timeout: 120_000,
    });
    return client;
  };

  const handlePost = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!originAllowed(request)) return reply.code(403).send({ detail: 'Origin not allowed' });
    const { Letta: LettaClient, Transport, mcp } = await loadModules();
    const query = request.query as Record<string, string | undefined>;
    let profile;
    try {
      profile = mcp.parseProfile(query.tools ?? process.env.LETTA_MCP_TOOLS);
    } catch (error) {
      return reply.code(400).send({ detail: (error as Error).message });
    }
    const header = request.headers['x-letta-agent-id'];
    const defaultAgentId = query.agent_id || (typeof header === 'string' && header) || undefined;
    const server = mcp.createMcpServer({
      client: selfClient(LettaClient),
      defaultAgentId,
      profile,
      askAgent: mcp.askAgentEnabled(),
    });
    const transport = new Transport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.hijack();
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(request.raw, reply.raw, request.body);
    } catch (error) {
      request.log.error({ err: error }, 'mcp request failed');
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null }));
      }
    }
  };

  // No server push and no sessions: GET (an SSE stream) and DELETE (end a session) are not offered.
  const notAllowed = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(405)
      .header('allow', 'POST')
      .send({
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Method not allowed: this server is stateless; use POST' },
        id: null,
      });

  app.post('/mcp', handlePost);
  app.get('/mcp', notAllowed);
  app.delete('/mcp', notAllowed);
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
