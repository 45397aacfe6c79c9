import { randomUUID } from 'node:crypto';
import Letta, { AuthenticationError } from '@letta-ai/letta-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { http } from '../support/http.js';
import { expectLettaSchema } from '../support/openapi.js';

const atLeast = (version: string, minimum: string) => {
  const [a, b] = [version, minimum].map((v) => v.split('.').map((n) => Number.parseInt(n, 10)));
  for (let i = 0; i < 3; i++) if (a![i] !== b![i]) return (a![i] ?? 0) > (b![i] ?? 0);
  return true;
};

describe.each(testDialects())('tags, health, relationships and OpenAPI [%s]', (dialect) => {
  let server: TestCairn;
  beforeAll(async () => {
    server = await startCairn(dialect);
  });
  afterAll(() => server.close());

  it('lists distinct tags across agents and blocks, filtered by name, in order, paged by tag', async () => {
    const t = `tag${randomUUID().slice(0, 8)}`;
    await server.client.agents.create({ tags: [`${t}:b`, `${t}:a`], include_base_tools: false });
    await server.client.agents.create({ tags: [`${t}:a`], include_base_tools: false });
    await server.client.blocks.create({ label: 'x', value: '', tags: [`${t}:c`, `${t}:a`] });
    expect(await server.client.tags.list({ name: t })).toEqual([`${t}:a`, `${t}:b`, `${t}:c`]);
    expect(await server.client.tags.list({ name: t, limit: 2 })).toEqual([`${t}:a`, `${t}:b`]);
    expect(await server.client.tags.list({ name: t, after: `${t}:b` })).toEqual([`${t}:c`]);
    expect(await server.client.tags.list({ name: t, before: `${t}:c` })).toEqual([`${t}:a`, `${t}:b`]);
    expect(await server.client.tags.list({ name: t, after: `${t}:c` })).toEqual([]);
    expect((await http('GET', `${server.baseURL}/v1/tags/?name=${t}&order=desc`)).body).toEqual([
      `${t}:c`,
      `${t}:b`,
      `${t}:a`,
    ]);
    expect((await http('GET', `${server.baseURL}/v1/tags?query_text=${t.toUpperCase()}`)).body).toHaveLength(3);
    expect((await http('GET', `${server.baseURL}/v1/tags/?limit=0`)).status).toBe(422);
    expect(await server.client.tags.list({ name: `${t}_` })).toEqual([]);
  });

  it('answers health with and without the slash, with a version Letta Code accepts', async () => {
    const health = await server.client.health();
    expectLettaSchema('Health', health);
    expect(health.status).toBe('ok');
    expect(atLeast(health.version, '0.16.6')).toBe(true);
    for (const path of ['/v1/health', '/v1/health/']) {
      const response = await http('GET', `${server.baseURL}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.body).toEqual(health);
    }
  });

  it('gives 1.0 clients relationships only through include=, legacy clients all of them, on the agent list', async () => {
    const t = `rel${randomUUID().slice(0, 8)}`;
    await server.client.agents.create({ name: t, tags: [t], memory_blocks: [{ label: 'human', value: 'h' }] });
    const [modern] = (await server.client.agents.list({ name: t })).getPaginatedItems();
    expectLettaSchema('AgentState', modern);
    expect([modern!.blocks, modern!.tools, modern!.tags, modern!.memory.blocks]).toEqual([[], [], [], []]);
    const [included] = (
      await server.client.agents.list({ name: t, include: ['agent.tags', 'agent.tools'] })
    ).getPaginatedItems();
    expect(included!.tags).toEqual([t]);
    expect(included!.tools.length).toBeGreaterThan(0);
    expect(included!.blocks).toEqual([]);

    const legacy = await http('GET', `${server.baseURL}/v1/agents/?name=${t}`, undefined, {
      'user-agent': 'python-requests/2.31',
    });
    expect(legacy.body[0].tags).toEqual([t]);
    expect(legacy.body[0].blocks.map((b: { label: string }) => b.label)).toEqual(['human']);
    const legacyNarrowed = await http(
      'GET',
      `${server.baseURL}/v1/agents/?name=${t}&include_relationships=tags`,
      undefined,
      { 'user-agent': 'python-requests/2.31' },
    );
    expect(legacyNarrowed.body[0].tags).toEqual([t]);
    expect(legacyNarrowed.body[0].blocks).toEqual([]);
    // The 1.x User-Agent alone marks a modern client too.
    const byAgent = await http('GET', `${server.baseURL}/v1/agents/?name=${t}`, undefined, {
      'user-agent': 'letta-client/1.3.0',
    });
    expect(byAgent.body[0].tags).toEqual([]);
  });

  it('serves every JSON reply, errors included, as application/json with a {detail} error body', async () => {
    const agent = await server.client.agents.create({ include_base_tools: false });
    const requests: [string, string, unknown?][] = [
      ['GET', '/v1/agents/'],
      ['GET', '/v1/agents/count'],
      ['GET', `/v1/agents/${agent.id}`],
      ['GET', '/v1/blocks/count'],
      ['GET', '/v1/tags/'],
      ['GET', '/v1/identities/'],
      ['GET', '/v1/nowhere'],
      ['GET', '/v1/agents/agent-nope'],
      ['POST', '/v1/agents/', '{broken'],
      ['DELETE', `/v1/agents/${agent.id}`],
    ];
    for (const [method, path, body] of requests) {
      const response = await http(method, `${server.baseURL}${path}`, body);
      expect({ path, type: response.headers.get('content-type') }).toEqual({
        path,
        type: expect.stringMatching(/^application\/json/),
      });
      if (response.status >= 400) expect(response.body).toHaveProperty('detail');
    }
  });

  it('rejects an oversized body with 413', async () => {
    const huge = JSON.stringify({ label: 'big', value: 'x'.repeat(server.config.bodyLimitBytes + 1) });
    const response = await http('POST', `${server.baseURL}/v1/blocks/`, huge);
    expect(response.status).toBe(413);
    expect(response.body).toHaveProperty('detail');
  });

  it('serves its OpenAPI 3 document with every route, its parameters and shared schemas', async () => {
    const response = await http('GET', `${server.baseURL}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = response.body;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBe('Cairn');
    const operation = (path: string, method: string) => doc.paths[path]?.[method];
    for (const [path, method] of [
      ['/v1/agents/', 'get'],
      ['/v1/agents/', 'post'],
      ['/v1/agents/{agent_id}', 'patch'],
      ['/v1/agents/{agent_id}/core-memory/blocks/{block_label}', 'get'],
      ['/v1/agents/{agent_id}/core-memory/blocks/attach/{block_id}', 'patch'],
      ['/v1/blocks/', 'get'],
      ['/v1/blocks/{block_id}/agents', 'get'],
      ['/v1/identities/', 'put'],
      ['/v1/tags/', 'get'],
      ['/v1/health/', 'get'],
    ]) {
      expect(operation(path!, method!), `${method} ${path}`).toBeDefined();
    }
    const parameter = (path: string, method: string, name: string) =>
      operation(path, method).parameters.find((p: { name: string }) => p.name === name);
    expect(parameter('/v1/agents/', 'get', 'tags')).toMatchObject({
      in: 'query',
      required: false,
      schema: { type: 'array', items: { type: 'string' } },
    });
    expect(parameter('/v1/agents/', 'get', 'limit')).toMatchObject({
      in: 'query',
      required: false,
      schema: { type: 'integer', default: 50 },
    });
    expect(parameter('/v1/agents/', 'get', 'match_all_tags')).toMatchObject({
      required: false,
      schema: { type: 'boolean', default: false },
    });
    expect(parameter('/v1/blocks/', 'get', 'order')).toMatchObject({ schema: { enum: ['asc', 'desc'] } });
    expect(parameter('/v1/agents/{agent_id}', 'patch', 'agent_id')).toMatchObject({
      in: 'path',
      required: true,
      schema: { type: 'string' },
    });
    expect(operation('/v1/blocks/', 'post').requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/CreateBlock',
    });
    expect(doc.components.schemas.BlockResponse.properties.value).toMatchObject({ type: 'string' });

    // Every reference resolves inside the document.
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) {
      const name = /#\/components\/schemas\/(.+)"$/.exec(ref)?.[1];
      expect(name && doc.components.schemas[name], ref).toBeTruthy();
    }
  });
});

describe.each(testDialects())('auth with LETTA_SERVER_PASSWORD [%s]', (dialect) => {
  let server: TestCairn;
  beforeAll(async () => {
    server = await startCairn(dialect, { password: 'pw' });
  });
  afterAll(() => server.close());

  it('answers 401 {"detail":"Unauthorized"} without or with wrong credentials', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer nope' },
      { authorization: 'pw' },
      { 'x-bare-password': 'pw' },
      { 'x-bare-password': 'password nope' },
    ];
    for (const headers of attempts) {
      const response = await http('GET', `${server.baseURL}/v1/agents/`, undefined, headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.body).toEqual({ detail: 'Unauthorized' });
    }
    const wrongKey = new Letta({ baseURL: server.baseURL, apiKey: 'wrong', maxRetries: 0 });
    await expect(wrongKey.agents.list()).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('accepts the SDK’s Bearer key and X-BARE-PASSWORD', async () => {
    const agent = await server.client.agents.create({ include_base_tools: false });
    expect((await server.client.agents.retrieve(agent.id)).id).toBe(agent.id);
    const bare = await http('GET', `${server.baseURL}/v1/agents/${agent.id}`, undefined, {
      'x-bare-password': 'password pw',
    });
    expect(bare.status).toBe(200);
    expect(bare.body.id).toBe(agent.id);
  });

  it('leaves health open, with and without the slash', async () => {
    for (const path of ['/v1/health', '/v1/health/', '/v1/health?probe=1']) {
      const response = await http('GET', `${server.baseURL}${path}`);
      expect(response.status).toBe(200);
      expect(response.body.status).toBe('ok');
    }
    const open = new Letta({ baseURL: server.baseURL, apiKey: null, maxRetries: 0 });
    expect((await open.health()).status).toBe('ok');
  });
});
