// An MCP server whose transport and misbehaviour the client tests choose:
//   node mcp-fixture-server.mjs [stdio|streamable-http|sse] [mode]
// HTTP transports listen on a free loopback port and print `listening <port>` on stdout.
// Modes: (none) answers normally; hang-initialize reads requests and never answers, so the client's connect must
// time out; exit-on-start exits with an error message before reading anything.
// Tools: pid (the process id, to see reuse and restarts), echo, sleep {ms} (a tool slower than its limit),
// wedge (the whole process stops answering, pings included), exit (the process dies mid-call), fail (an isError
// result), timed {work_ms} (waits, and returns the time it spent, for the overhead benchmark), headers (the HTTP request
// headers it received), forget-sessions (drops every HTTP session, as a server restart would), and `nested`
// with a $ref schema for the schema conversion. FIXTURE_EXTRA_TOOLS adds tools by name.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const transportKind = process.argv[2] ?? 'stdio';
const mode = process.argv[3] ?? 'normal';
const sessions = new Map();

if (mode === 'exit-on-start') {
  process.stderr.write('fixture: configuration file not found\n');
  process.exit(3);
}
if (mode === 'hang-initialize') {
  process.stdin.resume();
  setInterval(() => {}, 60_000);
} else {
  await serve();
}

function createServer() {
  const extraTools = (process.env.FIXTURE_EXTRA_TOOLS ?? '').split(',').filter(Boolean);
  const tools = [
    { name: 'pid', description: 'Returns the process id', inputSchema: { type: 'object', properties: {} } },
    {
      name: 'echo',
      description: 'Echoes its message',
      inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
    },
    {
      name: 'sleep',
      description: 'Answers after ms milliseconds',
      inputSchema: { type: 'object', properties: { ms: { type: 'number' } }, required: ['ms'] },
    },
    { name: 'wedge', description: 'Stops answering anything', inputSchema: { type: 'object', properties: {} } },
    { name: 'exit', description: 'Exits mid-call', inputSchema: { type: 'object', properties: {} } },
    { name: 'fail', description: 'Reports a failure', inputSchema: { type: 'object', properties: {} } },
    { name: 'headers', description: 'The HTTP request headers', inputSchema: { type: 'object', properties: {} } },
    { name: 'forget-sessions', description: 'Drops every session', inputSchema: { type: 'object', properties: {} } },
    {
      name: 'timed',
      description: 'Waits work_ms, returns the time spent inside the handler in microseconds',
      inputSchema: { type: 'object', properties: { work_ms: { type: 'number' } } },
    },
    {
      name: 'nested',
      description: 'Takes a referenced object',
      inputSchema: {
        type: 'object',
        $defs: { Point: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } },
        properties: { point: { $ref: '#/$defs/Point' } },
        required: ['point'],
      },
    },
    ...extraTools.map((name) => ({ name, description: `Extra tool ${name}`, inputSchema: { type: 'object' } })),
  ];
  const server = new Server({ name: 'cairn-fixture', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const args = request.params.arguments ?? {};
    const text = (value) => ({ content: [{ type: 'text', text: String(value) }] });
    switch (request.params.name) {
      case 'pid':
        return text(process.pid);
      case 'echo':
        return text(`Echo: ${args.message}`);
      case 'sleep':
        await new Promise((resolve) => setTimeout(resolve, Number(args.ms)));
        return text('slept');
      case 'wedge': {
        // Block the event loop for good: no further message, not even a ping, is answered.
        const until = Date.now() + 3_600_000;
        while (Date.now() < until);
        return text('unreachable');
      }
      case 'exit':
        setTimeout(() => process.exit(7), 10);
        return new Promise(() => {});
      case 'headers':
        return text(JSON.stringify(extra.requestInfo?.headers ?? {}));
      case 'forget-sessions':
        setTimeout(() => sessions.clear(), 0);
        return text('forgotten');
      case 'fail':
        return { content: [{ type: 'text', text: 'the tool failed on purpose' }], isError: true };
      case 'timed': {
        // Waiting, not spinning: a server's own time is mostly I/O, and a spinning one would take a core from the
        // caller on a small machine and show up as overhead.
        const start = process.hrtime.bigint();
        const workMs = Number(args.work_ms ?? 0);
        if (workMs > 0) await new Promise((resolve) => setTimeout(resolve, workMs));
        return text(Number(process.hrtime.bigint() - start) / 1000);
      }
      case 'nested':
        return text(JSON.stringify(args.point));
      default:
        throw new Error(`unknown tool ${request.params.name}`);
    }
  });
  return server;
}

async function serve() {
  if (transportKind === 'stdio') {
    await createServer().connect(new StdioServerTransport());
    return;
  }
  const httpServer = http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      res.writeHead(500).end(String(error));
    });
  });
  httpServer.listen(0, '127.0.0.1', () => {
    process.stdout.write(`listening ${httpServer.address().port}\n`);
  });
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (transportKind === 'sse') {
    if (req.method === 'GET' && url.pathname === '/sse') {
      const transport = new SSEServerTransport('/messages', res);
      sessions.set(transport.sessionId, transport);
      res.on('close', () => sessions.delete(transport.sessionId));
      await createServer().connect(transport);
      return;
    }
    const transport = sessions.get(url.searchParams.get('sessionId'));
    if (req.method === 'POST' && url.pathname === '/messages' && transport)
      return transport.handlePostMessage(req, res);
    res.writeHead(404).end('no such session');
    return;
  }
  if (url.pathname !== '/mcp') {
    res.writeHead(404).end();
    return;
  }
  const sessionId = req.headers['mcp-session-id'];
  if (sessionId) {
    const transport = sessions.get(sessionId);
    if (!transport) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
      return;
    }
    return transport.handleRequest(req, res);
  }
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    enableJsonResponse: true,
    onsessioninitialized: (id) => sessions.set(id, transport),
  });
  await createServer().connect(transport);
  return transport.handleRequest(req, res);
}
