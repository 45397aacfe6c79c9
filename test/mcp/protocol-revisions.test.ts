import { Client as ClientV2, StreamableHTTPClientTransport as HttpTransportV2 } from '@modelcontextprotocol/client';
import { spawn } from 'node:child_process';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBuiltCairn } from '../support/build.js';
import { MODERN_REVISIONS } from '../../src/mcp/stdio.js';
import { startCairn } from '../support/cairn.js';
import { http } from '../support/http.js';

/**
 * Both MCP protocol revisions on the wire, as the specification writes them (schema/2026-07-28 and
 * basic/transports in modelcontextprotocol/modelcontextprotocol): raw JSON-RPC over HTTP and over stdio, so what
 * the SDK clients hide (status codes, headers, cache fields, error codes) is checked byte for byte.
 */
const PASSWORD = 'mcp-revisions-password';
const MODERN = '2026-07-28';
const live = useBuiltCairn(PASSWORD);

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
const CACHE_FIELDS = { ttlMs: 3_600_000, cacheScope: 'public' };
let nextId = 1;

/** A 2026-07-28 request: the `_meta` envelope in the body, its mirror in the standard headers. */
function modernRequest(
  method: string,
  params: Record<string, unknown> = {},
  options: { meta?: Record<string, unknown>; headers?: Record<string, string> } = {},
) {
  const name: Record<string, string> = typeof params.name === 'string' ? { 'mcp-name': params.name } : {};
  return http(
    'POST',
    `${live.server.baseURL}/mcp`,
    { jsonrpc: '2.0', id: nextId++, method, params: { ...params, _meta: options.meta ?? ENVELOPE } },
    {
      authorization: `Bearer ${PASSWORD}`,
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': method,
      ...name,
      ...options.headers,
    },
  );
}

describe('2026-07-28 over HTTP (raw JSON-RPC)', () => {
  it('server/discover needs no initialize and advertises the revision, the tools and the cache fields', async () => {
    const res = await modernRequest('server/discover');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.headers.get('mcp-session-id')).toBeNull();
    const { result } = res.body;
    expect(result.resultType).toBe('complete');
    expect(result.supportedVersions).toContain(MODERN);
    expect(result.capabilities.tools).toBeDefined();
    expect(result._meta['io.modelcontextprotocol/serverInfo'].name).toBe('cairn');
    expect(result).toMatchObject(CACHE_FIELDS);
  });

  it('tools/list carries ttlMs (an integer >= 0) and cacheScope (public|private) and nothing else new', async () => {
    const res = await modernRequest('tools/list');
    expect(res.status).toBe(200);
    const { result } = res.body;
    expect(Object.keys(result).sort()).toEqual(['_meta', 'cacheScope', 'resultType', 'tools', 'ttlMs']);
    expect(Number.isSafeInteger(result.ttlMs) && result.ttlMs >= 0).toBe(true);
    expect(['public', 'private']).toContain(result.cacheScope);
    expect(result).toMatchObject({ ...CACHE_FIELDS, resultType: 'complete' });
    expect(result.tools.map((t: { name: string }) => t.name)).toContain('memory_get_core');
    // Deterministic order (the spec's SHOULD, for client caches and prompt caches): the same list twice.
    expect((await modernRequest('tools/list')).body.result.tools).toEqual(result.tools);
  });

  it('tools/call runs a tool, stateless, with the tool name mirrored in Mcp-Name', async () => {
    const res = await modernRequest('tools/call', { name: 'memory_list_agents', arguments: { limit: 1 } });
    expect(res.status).toBe(200);
    expect(res.body.result.resultType).toBe('complete');
    expect(res.body.result.ttlMs).toBeUndefined();
    expect(JSON.parse(res.body.result.content[0].text).success).toBe(true);
  });

  it('rejects what the revision forbids with its error codes and HTTP statuses', async () => {
    const unsupported = await modernRequest(
      'tools/list',
      {},
      {
        meta: { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' },
        headers: { 'mcp-protocol-version': '2099-01-01' },
      },
    );
    expect(unsupported.status).toBe(400);
    expect(unsupported.body.error.code).toBe(-32022);
    expect(unsupported.body.error.data.supported).toContain(MODERN);

    const mismatch = await modernRequest('tools/list', {}, { headers: { 'mcp-method': 'tools/call' } });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error.code).toBe(-32020);

    const noName = await modernRequest(
      'tools/call',
      { name: 'memory_list_agents', arguments: {} },
      { headers: { 'mcp-name': 'archival_delete' } },
    );
    expect(noName.status).toBe(400);
    expect(noName.body.error.code).toBe(-32020);

    const { 'io.modelcontextprotocol/clientCapabilities': _dropped, ...incomplete } = ENVELOPE;
    const malformed = await modernRequest('tools/list', {}, { meta: incomplete });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe(-32602);

    const unknown = await modernRequest('no/such-method');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe(-32601);
  });

  it('is behind the REST auth like everything else', async () => {
    const res = await modernRequest('server/discover', {}, { headers: { authorization: 'Bearer wrong' } });
    expect(res.status).toBe(401);
  });
});

describe('2025-11-25 over HTTP, next to it', () => {
  const legacyHeaders = {
    authorization: `Bearer ${PASSWORD}`,
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2025-11-25',
  };
  const sseResult = (body: string) => JSON.parse(/^data: (.*)$/m.exec(body)![1]!).result;

  it('answers initialize and tools/list without the 2026 cache fields or resultType', async () => {
    const init = await http(
      'POST',
      `${live.server.baseURL}/mcp`,
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      },
      legacyHeaders,
    );
    expect(init.status).toBe(200);
    expect(sseResult(init.body).protocolVersion).toBe('2025-11-25');
    expect(init.headers.get('mcp-session-id')).toBeNull();
    const list = await http(
      'POST',
      `${live.server.baseURL}/mcp`,
      { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} },
      legacyHeaders,
    );
    const result = sseResult(list.body);
    expect(Object.keys(result)).toEqual(['tools']);
  });

  it('GET /mcp opens an event stream at once (never a 405) and needs the password', async () => {
    const res = await openStream(live.server.baseURL, { authorization: `Bearer ${PASSWORD}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['x-accel-buffering']).toBe('no');
    const first = await new Promise<string>((resolve) => res.once('data', (d: Buffer) => resolve(d.toString())));
    expect(first.startsWith(':')).toBe(true);
    res.destroy();
    expect((await openStream(live.server.baseURL, {})).statusCode).toBe(401);
    const plain = await openStream(live.server.baseURL, { authorization: `Bearer ${PASSWORD}`, accept: '*/*' });
    expect(plain.statusCode).toBe(406);
    plain.resume();
    const head = await openStream(live.server.baseURL, { authorization: `Bearer ${PASSWORD}` }, 'HEAD');
    expect(head.statusCode).toBe(200);
    await new Promise((resolve) => head.on('end', resolve).resume());
  });

  it('a server with open GET streams still shuts down promptly, ending them', async () => {
    const server = await startCairn('sqlite');
    const res = await openStream(server.baseURL, {});
    expect(res.statusCode).toBe(200);
    const ended = new Promise<void>((resolve) => res.on('close', resolve).resume());
    const started = performance.now();
    await server.close();
    await ended;
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});

describe('the v2 client negotiating the revision', () => {
  const connect = async (options: ConstructorParameters<typeof ClientV2>[1]) => {
    const client = new ClientV2({ name: 'test', version: '2' }, options);
    await client.connect(
      new HttpTransportV2(new URL(`${live.server.baseURL}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${PASSWORD}` } },
      }),
    );
    return client;
  };

  it("'auto' probes with server/discover and lands on 2026-07-28; the default stays on 2025-11-25", async () => {
    const auto = await connect({ versionNegotiation: { mode: 'auto' } });
    expect(auto.getProtocolEra()).toBe('modern');
    expect(auto.getNegotiatedProtocolVersion()).toBe(MODERN);
    expect((await auto.listTools()).tools.length).toBeGreaterThan(5);
    await auto.close();
    const legacy = await connect(undefined);
    expect(legacy.getProtocolEra()).toBe('legacy');
    expect(legacy.getNegotiatedProtocolVersion()).toBe('2025-11-25');
    await legacy.close();
  });
});

describe('cairn mcp over stdio (raw JSON-RPC, one line per message)', () => {
  let child: ReturnType<typeof spawn>;
  let lines: AsyncIterator<string>;
  beforeAll(() => {
    child = spawn(process.execPath, [live.built.cli, 'mcp'], {
      env: { PATH: process.env.PATH ?? '', LETTA_BASE_URL: live.server.baseURL, LETTA_API_KEY: PASSWORD },
    });
    lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  });
  afterAll(() => child?.kill());
  const send = async (message: Record<string, unknown>) => {
    child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
    return JSON.parse((await lines.next()).value as string);
  };

  it('serves 2026-07-28 from the first line: discover, list with cache fields, call', async () => {
    const discover = await send({ id: 1, method: 'server/discover', params: { _meta: ENVELOPE } });
    expect(discover.result).toMatchObject({ resultType: 'complete', ...CACHE_FIELDS });
    expect(discover.result.supportedVersions).toContain(MODERN);
    const list = await send({ id: 2, method: 'tools/list', params: { _meta: ENVELOPE } });
    expect(Object.keys(list.result).sort()).toEqual(['_meta', 'cacheScope', 'resultType', 'tools', 'ttlMs']);
    expect(list.result).toMatchObject(CACHE_FIELDS);
    const call = await send({
      id: 3,
      method: 'tools/call',
      params: { name: 'memory_list_agents', arguments: { limit: 1 }, _meta: ENVELOPE },
    });
    expect(JSON.parse(call.result.content[0].text).success).toBe(true);
    const unsupported = await send({
      id: 4,
      method: 'tools/list',
      params: { _meta: { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
    });
    // After the connection is pinned too: each request's revision is accepted or rejected on its own.
    expect(unsupported.error).toMatchObject({ code: -32022, data: { supported: [...MODERN_REVISIONS] } });
    expect(discover.result.supportedVersions).toEqual([...MODERN_REVISIONS]);
  });

  it('serves 2025-11-25 (initialize first) in another process, without the cache fields', async () => {
    const legacy = spawn(process.execPath, [live.built.cli, 'mcp'], {
      env: { PATH: process.env.PATH ?? '', LETTA_BASE_URL: live.server.baseURL, LETTA_API_KEY: PASSWORD },
    });
    const out = createInterface({ input: legacy.stdout })[Symbol.asyncIterator]();
    const ask = async (message: Record<string, unknown>) => {
      legacy.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
      return JSON.parse((await out.next()).value as string);
    };
    const init = await ask({
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    expect(init.result.protocolVersion).toBe('2025-11-25');
    legacy.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    const list = await ask({ id: 2, method: 'tools/list', params: {} });
    expect(Object.keys(list.result)).toEqual(['tools']);
    legacy.stdin.end();
    expect(await new Promise((r) => legacy.on('exit', r))).toBe(0);
  });
});

/** A GET on /mcp with node:http, so the stream can be read as it arrives and dropped. */
function openStream(baseURL: string, headers: Record<string, string>, method = 'GET'): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseURL}/mcp`, {
      method,
      headers: { accept: 'text/event-stream', ...headers },
    });
    req.on('response', resolve).on('error', reject).end();
  });
}
