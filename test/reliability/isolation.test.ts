import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import Letta, { toFile } from '@letta-ai/letta-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';
import { http } from '../support/http.js';
import { httpFixture, type HttpFixture } from '../support/mcp-fixtures.js';
import { upstreamOpenapi } from '../support/openapi.js';
import { dropTenantDatabases } from '../support/tenants.js';

/**
 * Two organisations, and every operation of both OpenAPI documents (Cairn's own and Letta's) called with org B's
 * key and org A's ids in the path, the query and the body, then every `/mcp` tool likewise: B may read nothing of
 * A's (no 2xx reply carries any of A's ids or its marker text that B did not send itself, lists and searches
 * included) and change nothing
 * of A's (A's objects read back the same afterwards).
 */
const PASSWORD = 'isolation-admin';
const MARKER = 'zebra-quartz-marker';
const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);
const ROLL_DICE = `
def roll_dice(sides: int) -> str:
    """
    Roll a die.

    Args:
        sides (int): How many sides the die has.
    """
    return "4"
`;

type Schema = Record<string, any>;
type Doc = { paths: Record<string, Record<string, any>>; components?: { schemas?: Record<string, Schema> } };

/** Which of A's objects a parameter or field names, by its name. */
const KIND_OF: Record<string, string> = {
  agent_id: 'agent',
  block_id: 'block',
  passage_id: 'passage',
  memory_id: 'passage',
  tool_id: 'tool',
  mcp_server_id: 'mcp_server',
  server_id: 'mcp_server',
  run_id: 'run',
  job_id: 'run',
  step_id: 'step',
  message_id: 'message',
  conversation_id: 'conversation',
  folder_id: 'folder',
  source_id: 'folder',
  file_id: 'file',
  group_id: 'group',
  identity_id: 'identity',
  archive_id: 'archive',
  mcp_server_name: 'mcp_server_name',
  server_name: 'mcp_server_name',
  tool_name: 'tool_name',
  mcp_tool_name: 'mcp_tool_name',
  block_label: 'block_label',
  identifier_key: 'identifier_key',
};
const kindOfList = (name: string) => KIND_OF[name.replace(/_ids$/, '_id')];

function pathsOf(doc: Doc) {
  return Object.entries(doc.paths).flatMap(([route, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.has(method))
      .map(([method, operation]) => ({ route, method: method.toUpperCase(), operation })),
  );
}

/** A body that names A's objects wherever the schema has a field for one, and fills what is required. */
function bodyFor(doc: Doc, schema: Schema | undefined, ids: Record<string, string>, depth = 0): unknown {
  if (!schema || depth > 4) return undefined;
  if (schema.$ref)
    return bodyFor(doc, doc.components?.schemas?.[String(schema.$ref).split('/').pop()!], ids, depth + 1);
  const variants = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (variants) return bodyFor(doc, variants.find((v) => v.type !== 'null') ?? variants[0], ids, depth + 1);
  if (schema.allOf) return bodyFor(doc, schema.allOf[0], ids, depth + 1);
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const required = new Set<string>(schema.required ?? []);
      for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
        const kind = KIND_OF[name];
        const listKind = kindOfList(name);
        if (kind && ids[kind]) out[name] = ids[kind];
        else if (name.endsWith('_ids') && listKind && ids[listKind]) out[name] = [ids[listKind]];
        else if (name === 'messages') out[name] = [{ role: 'user', content: 'hello' }];
        else if (name === 'input') out[name] = 'hello';
        else if (required.has(name)) out[name] = bodyFor(doc, property, ids, depth + 1);
      }
      return out;
    }
    case 'array':
      return [];
    case 'string':
      return schema.format === 'date-time' ? new Date().toISOString() : 'x';
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return false;
    default:
      return undefined;
  }
}

interface Request {
  method: string;
  path: string;
  body?: string | FormData;
  headers: Record<string, string>;
}

function requestsFor(doc: Doc, ids: Record<string, string>, credential: string): Request[] {
  return pathsOf(doc).map(({ route, method, operation }) => {
    const params = (operation.parameters ?? []) as { name: string; in: string; required?: boolean }[];
    let path = route;
    for (const p of params.filter((p) => p.in === 'path'))
      path = path.replace(`{${p.name}}`, encodeURIComponent(ids[KIND_OF[p.name] ?? ''] ?? 'x'));
    const query = new URLSearchParams();
    for (const p of params.filter((p) => p.in === 'query')) {
      const kind = KIND_OF[p.name] ?? kindOfList(p.name);
      if (kind && ids[kind]) query.append(p.name, ids[kind]);
      else if (p.name === 'query' || p.name === 'search' || p.name === 'name') query.append(p.name, MARKER);
    }
    const qs = query.toString();
    const headers: Record<string, string> = { authorization: `Bearer ${credential}` };
    const content = operation.requestBody?.content ?? {};
    let body: string | FormData | undefined;
    if (method !== 'GET' && content['multipart/form-data']) {
      body = new FormData();
      body.append('file', new Blob([`${MARKER} from B`]), 'b.txt');
    } else if (method !== 'GET' && content['application/json']) {
      body = JSON.stringify(bodyFor(doc, content['application/json'].schema, ids) ?? {});
      headers['content-type'] = 'application/json';
    }
    return { method, path: qs ? `${path}?${qs}` : path, headers, ...(body !== undefined ? { body } : {}) };
  });
}

describe.each(testDialects())('isolation between organisations [%s]', (dialect) => {
  let server: TestCairn;
  let llm: FakeLlm;
  let fixture: HttpFixture;
  let a: Letta;
  let keyA: string;
  let keyB: string;
  const ids: Record<string, string> = {};
  /** How A's objects read with A's key, to compare after B's attempts. */
  let snapshot: () => Promise<unknown>;
  let before: unknown;

  beforeAll(async () => {
    llm = await startFakeLlm();
    llm.setDefault({ text: `the answer is ${MARKER}` });
    fixture = await httpFixture('streamable-http');
    server = await startCairn(dialect, { password: PASSWORD }, llm.env());
    keyA = (await server.cairn.tenancy.createKey({ user: 'ann', organization: 'org-a', admin: false })).key;
    keyB = (await server.cairn.tenancy.createKey({ user: 'ben', organization: 'org-b', admin: false })).key;
    a = new Letta({ baseURL: server.baseURL, apiKey: keyA, maxRetries: 0 });
    const asA = { authorization: `Bearer ${keyA}` };

    const agent = await a.agents.create({
      name: `a-agent-${MARKER}`,
      model: 'openai/fake-model',
      memory_blocks: [{ label: 'human', value: `A's human ${MARKER}` }],
      tags: [`tag-${MARKER}`],
    });
    const other = await a.agents.create({ name: 'a-second', model: 'openai/fake-model' });
    const block = await a.blocks.create({ label: 'a-block', value: `block ${MARKER}` });
    const [passage] = await a.agents.passages.create(agent.id, { text: `passage ${MARKER}` });
    const tool = await a.tools.create({ source_code: ROLL_DICE });
    const mcp = await a.mcpServers.create({
      server_name: `mcp-${MARKER}`,
      config: { mcp_server_type: 'streamable_http', server_url: fixture.url },
    });
    await a.agents.messages.create(agent.id, { messages: [{ role: 'user', content: `hello ${MARKER}` }] });
    const run = (await a.runs.list()).items[0]!;
    const message = (await a.agents.messages.list(agent.id)).items.at(-1)!;
    const step = (await http('GET', `${server.baseURL}/v1/steps/`, undefined, asA)).body[0];
    const conversation = (await http('POST', `${server.baseURL}/v1/conversations/?agent_id=${agent.id}`, {}, asA)).body;
    const folder = await a.folders.create({ name: `folder-${MARKER}` });
    const file = await a.folders.files.upload(folder.id, {
      file: await toFile(Buffer.from(`file ${MARKER}`), 'a.txt'),
    });
    const group = (
      await http(
        'POST',
        `${server.baseURL}/v1/groups/`,
        { agent_ids: [agent.id, other.id], description: MARKER, manager_config: { manager_type: 'round_robin' } },
        asA,
      )
    ).body;
    const identity = (
      await http(
        'POST',
        `${server.baseURL}/v1/identities/`,
        { identifier_key: `ident-${MARKER}`, name: MARKER, identity_type: 'user', agent_ids: [agent.id] },
        asA,
      )
    ).body;
    const archive = await a.archives.create({ name: `archive-${MARKER}` });
    Object.assign(ids, {
      agent: agent.id,
      block: block.id,
      passage: passage!.id,
      tool: tool.id,
      tool_name: tool.name!,
      mcp_server: mcp.id,
      mcp_server_name: `mcp-${MARKER}`,
      mcp_tool_name: 'echo',
      run: run.id,
      message: message.id,
      step: step.id,
      conversation: conversation.id,
      folder: folder.id,
      file: file.id,
      group: group.id,
      identity: identity.id,
      identifier_key: `ident-${MARKER}`,
      archive: archive.id,
      block_label: 'human',
    });
    for (const [kind, id] of Object.entries(ids)) expect(id, kind).toEqual(expect.any(String));

    snapshot = async () => {
      const read = async (path: string) => (await http('GET', `${server.baseURL}${path}`, undefined, asA)).body;
      return {
        agent: await read(`/v1/agents/${agent.id}`),
        blocks: await read('/v1/blocks/?limit=1000'),
        passages: await read(`/v1/agents/${agent.id}/archival-memory?limit=1000`),
        tools: await read('/v1/tools/?limit=1000'),
        mcp: await read('/v1/mcp-servers/'),
        runs: await read('/v1/runs/?limit=1000'),
        messages: await read(`/v1/agents/${agent.id}/messages?limit=1000`),
        conversations: await read(`/v1/conversations/?agent_id=${agent.id}`),
        folders: await read('/v1/folders/'),
        files: await read(`/v1/folders/${folder.id}/files`),
        groups: await read('/v1/groups/'),
        identities: await read('/v1/identities/'),
        archives: await read('/v1/archives/'),
      };
    };
    // The file is parsed and embedded in the background; A's objects are compared once they are settled.
    for (let i = 0; i < 200; i += 1) {
      const files = (await http('GET', `${server.baseURL}/v1/folders/${folder.id}/files`, undefined, asA)).body;
      if (files[0]?.processing_status === 'completed') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    before = await snapshot();
  }, 300_000);

  afterAll(async () => {
    const pgUri = server?.config.pgUri;
    await server?.close();
    if (pgUri) await dropTenantDatabases(pgUri);
    await fixture?.stop();
    await llm?.close();
  });

  /** Whatever of A's a reply to B shows: its ids and its marker text. */
  const leaked = (text: string): string[] =>
    [
      MARKER,
      ...Object.entries(ids)
        .filter(([kind]) => !['tool_name', 'mcp_tool_name', 'block_label'].includes(kind))
        .map(([, id]) => id),
    ].filter((secret) => text.includes(secret));

  it("gives B's key none of A's objects on any route of either document, and leaves them as they were", async () => {
    const ours = (await http('GET', `${server.baseURL}/openapi.json`)).body as Doc;
    const requests = [...requestsFor(ours, ids, keyB), ...requestsFor(upstreamOpenapi() as unknown as Doc, ids, keyB)];
    const violations: string[] = [];
    const statuses = new Map<number, number>();
    for (const request of requests) {
      const response = await fetch(server.baseURL + request.path, {
        method: request.method,
        headers: request.headers,
        body: request.body ?? null,
        redirect: 'manual',
        signal: AbortSignal.timeout(60_000),
      });
      const text = await response.text();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      // What B itself sent may come back (a count of 0 for an agent id it named, a connection test of the config
      // it posted); anything else of A's in a reply was read from A.
      const sent = `${request.path} ${typeof request.body === 'string' ? request.body : ''}`;
      const shown = leaked(text).filter(
        (secret) => !sent.includes(secret) && !sent.includes(encodeURIComponent(secret)),
      );
      if (response.status < 300 && shown.length > 0)
        violations.push(`${request.method} ${request.path} → ${response.status} shows ${shown.join(', ')}`);
      if (response.status >= 500)
        violations.push(`${request.method} ${request.path} → ${response.status} ${text.slice(0, 200)}`);
    }
    console.info(
      `isolation [${dialect}]: ${requests.length} requests as B, statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    expect(violations).toEqual([]);
    // The suite reaches handlers, not only validation: most requests name A's objects and get Letta's 404.
    expect(statuses.get(404) ?? 0).toBeGreaterThan(requests.length / 4);
    expect(await snapshot()).toEqual(before);
  }, 600_000);

  it("gives B's /mcp tools none of A's objects", async () => {
    const client = new Client({ name: 'isolation', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${server.baseURL}/mcp?agent_id=${ids.agent}`), {
        requestInit: { headers: { authorization: `Bearer ${keyB}` } },
      }),
    );
    try {
      const { tools } = await client.listTools();
      expect(tools.length).toBeGreaterThan(3);
      const violations: string[] = [];
      for (const tool of tools) {
        const args: Record<string, unknown> = {};
        for (const [name, property] of Object.entries((tool.inputSchema.properties ?? {}) as Record<string, Schema>)) {
          const kind = KIND_OF[name];
          if (kind && ids[kind]) args[name] = ids[kind];
          else if (name.endsWith('_ids') && kindOfList(name) && ids[kindOfList(name)!])
            args[name] = [ids[kindOfList(name)!]];
          else if ((tool.inputSchema.required ?? []).includes(name))
            args[name] =
              property.type === 'string'
                ? MARKER
                : property.type === 'array'
                  ? []
                  : property.type === 'object'
                    ? {}
                    : 1;
        }
        const result = await client.callTool({ name: tool.name, arguments: args });
        const text = JSON.stringify(result.content ?? result);
        if (!result.isError && leaked(text).length > 0)
          violations.push(`${tool.name} shows ${leaked(text).join(', ')}`);
      }
      expect(violations).toEqual([]);
    } finally {
      await client.close();
    }
    expect(await snapshot()).toEqual(before);
  }, 300_000);
});
