import { randomUUID } from 'node:crypto';
import Letta from '@letta-ai/letta-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ARRAY_ITEMS, MAX_QUERY_STRING_BYTES } from '../../src/http/request-limits.js';
import { startCairn, type TestCairn } from '../support/cairn.js';
import { http } from '../support/http.js';

// The limits are checked before any storage is touched, so one dialect shows them.
describe('request limits', () => {
  let server: TestCairn;
  beforeAll(async () => {
    server = await startCairn('sqlite');
  });
  afterAll(() => server.close());

  const tags = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);

  it('refuses an array over the cap with a 422 naming the field, through the SDK', async () => {
    const error = await server.client.agents
      .create({ name: 'many-tags', model: 'openai/fake-model', tags: tags(MAX_ARRAY_ITEMS + 1) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Letta.UnprocessableEntityError);
    expect((error as InstanceType<typeof Letta.UnprocessableEntityError>).error).toEqual({
      detail: [
        {
          type: 'too_long',
          loc: ['body', 'tags'],
          msg: `List should have at most ${MAX_ARRAY_ITEMS} items after validation, not ${MAX_ARRAY_ITEMS + 1}`,
        },
      ],
    });
    expect((await server.client.agents.list({ name: 'many-tags' })).items).toEqual([]);
  });

  it('accepts an array at the cap', async () => {
    const agent = await server.client.agents.create({
      name: 'capped-tags',
      model: 'openai/fake-model',
      tags: tags(MAX_ARRAY_ITEMS),
    });
    expect(agent.tags).toHaveLength(MAX_ARRAY_ITEMS);
  }, 120_000);

  it('finds an oversized array however deep, and every one of them', async () => {
    const huge = Array.from({ length: MAX_ARRAY_ITEMS + 1 }, () => 0);
    const response = await http('POST', `${server.baseURL}/v1/agents/`, {
      name: 'nested',
      memory_blocks: [{ label: 'human', value: 'Ada', extra: { deep: [huge] } }],
      tool_ids: huge,
    });
    expect(response.status).toBe(422);
    const locs = (response.body as { detail: { loc: unknown[] }[] }).detail.map((issue) => issue.loc);
    expect(locs).toEqual(
      expect.arrayContaining([
        ['body', 'tool_ids'],
        ['body', 'memory_blocks', 0, 'extra', 'deep', 0],
      ]),
    );
    expect(locs).toHaveLength(2);
  });

  it('walks a deeply nested body without exhausting the stack', async () => {
    const depth = 100_000;
    const response = await http('POST', `${server.baseURL}/v1/agents/`, '['.repeat(depth) + ']'.repeat(depth));
    expect(response.status).toBeLessThan(500);
  });

  it('refuses a query string over the cap with a 414, and serves one at the cap', async () => {
    const url = (bytes: number) => `${server.baseURL}/v1/agents/?name=${'n'.repeat(bytes - 'name='.length)}`;
    const refused = await http('GET', url(MAX_QUERY_STRING_BYTES + 1));
    expect(refused.status).toBe(414);
    expect(refused.body).toEqual({
      detail: `The query string is ${MAX_QUERY_STRING_BYTES + 1} bytes; at most ${MAX_QUERY_STRING_BYTES} are accepted`,
    });
    expect((await http('GET', url(MAX_QUERY_STRING_BYTES))).status).toBe(200);
  });

  it('caps `limit` at 10,000 on every list route of the served document', async () => {
    type Operation = { parameters?: { name: string; in: string }[] };
    const doc = (await http('GET', `${server.baseURL}/openapi.json`)).body as {
      paths: Record<string, Record<string, Operation>>;
    };
    const listRoutes = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, op]) => (op.parameters ?? []).some((p) => p.in === 'query' && p.name === 'limit'))
        .map(([method]) => ({ method, path })),
    );
    expect(listRoutes.length).toBeGreaterThan(30);
    const outcomes: Record<string, unknown> = {};
    for (const { method, path } of listRoutes) {
      // A well-formed id of an object that does not exist: the path validates, so the query is what is judged.
      const url = path.replace(/\{(\w+)_id\}/g, (_, kind: string) => `${idPrefix[kind] ?? kind}-${randomUUID()}`);
      const over = await http(method.toUpperCase(), `${server.baseURL}${url}?limit=10001`);
      const atCap = await http(method.toUpperCase(), `${server.baseURL}${url}?limit=10000`);
      outcomes[`${method} ${path}`] = {
        over: over.status,
        overLoc: (over.body as { detail?: { loc?: unknown }[] }).detail?.[0]?.loc,
        atCapValid: atCap.status !== 422,
      };
    }
    expect(outcomes).toEqual(
      Object.fromEntries(
        listRoutes.map(({ method, path }) => [
          `${method} ${path}`,
          { over: 422, overLoc: ['query', 'limit'], atCapValid: true },
        ]),
      ),
    );
  });
});

/** Id prefixes that differ from the parameter's name (Letta keeps `source-` for folders). */
const idPrefix: Record<string, string> = { folder: 'source', conversation: 'conv' };
