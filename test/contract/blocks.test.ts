import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, UnprocessableEntityError } from '@letta-ai/letta-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryEditError, READ_ONLY_BLOCK_ERROR } from '../../src/domain/errors.js';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { http } from '../support/http.js';
import { expectLettaSchema } from '../support/openapi.js';

/** A token unique to one test, so filters see only that test's rows on the shared server. */
const token = () => `t${randomUUID().slice(0, 8)}`;

describe.each(testDialects())('blocks [%s]', (dialect) => {
  let server: TestCairn;
  beforeAll(async () => {
    server = await startCairn(dialect);
  });
  afterAll(() => server.close());

  it('creates and retrieves a block with every field', async () => {
    const created = await server.client.blocks.create({
      label: 'notes',
      value: 'a\u0000b',
      limit: 500,
      description: 'scratch',
      metadata: { k: 1 },
      tags: ['x', 'y'],
      read_only: true,
    });
    expectLettaSchema('BlockResponse', created);
    expect(created.id).toMatch(/^block-[0-9a-f-]{36}$/);
    expect(created).toMatchObject({
      label: 'notes',
      value: 'ab',
      limit: 500,
      description: 'scratch',
      metadata: { k: 1 },
      read_only: true,
    });
    expect(created.tags!.sort()).toEqual(['x', 'y']);
    const fetched = await server.client.blocks.retrieve(created.id);
    expectLettaSchema('BlockResponse', fetched);
    expect(fetched).toEqual(created);
  });

  it('defaults: limit 100000, empty metadata and tags, Letta’s descriptions for human and persona, null value as ""', async () => {
    const human = await server.client.blocks.create({ label: 'human', value: 'h' });
    expect(human.limit).toBe(100_000);
    expect(human.metadata).toEqual({});
    expect(human.tags).toEqual([]);
    expect(human.read_only).toBe(false);
    expect(human.description).toContain('human block');
    const empty = await http('POST', `${server.baseURL}/v1/blocks/`, { label: 'e', value: null });
    expect(empty.status).toBe(200);
    expect(empty.body.value).toBe('');
  });

  it('filters by label, value_search, tags (any / all) and identifier', async () => {
    const t = token();
    const a = await server.client.blocks.create({ label: `${t}-a`, value: `alpha ${t}`, tags: [`${t}:1`, `${t}:2`] });
    const b = await server.client.blocks.create({ label: `${t}-b`, value: `beta ${t}`, tags: [`${t}:2`] });
    const ids = async (query: Parameters<typeof server.client.blocks.list>[0]) =>
      (await server.client.blocks.list(query)).getPaginatedItems().map((x) => x.id);

    expect(await ids({ label: `${t}-a` })).toEqual([a.id]);
    expect(await ids({ value_search: `BETA ${t}` })).toEqual([b.id]);
    expect(await ids({ label_search: t, value_search: t })).toEqual([a.id, b.id]);
    expect(await ids({ tags: [`${t}:1`, `${t}:2`] })).toEqual([a.id, b.id]);
    expect(await ids({ tags: [`${t}:1`, `${t}:2`], match_all_tags: true })).toEqual([a.id]);
    expect(await ids({ tags: [`${t}:none`] })).toEqual([]);
    // LIKE wildcards in the user's text are literal characters.
    const percent = await server.client.blocks.create({ label: `${t}-p`, value: `${t} 50% off now` });
    expect(await ids({ label_search: t, value_search: '50%' })).toEqual([percent.id]);
    expect(await ids({ label_search: t, value_search: 'f_n' })).toEqual([]);
    expect(await ids({ label_search: t, value_search: '%' })).toEqual([percent.id]);

    const identity = (
      await http('POST', `${server.baseURL}/v1/identities/`, {
        identifier_key: t,
        name: 'n',
        identity_type: 'user',
        block_ids: [b.id],
      })
    ).body;
    expect(await ids({ identity_id: identity.id })).toEqual([b.id]);
    expect(await ids({ identifier_keys: [t] })).toEqual([b.id]);
  });

  it('filters by the number of connected agents', async () => {
    const t = token();
    const none = await server.client.blocks.create({ label: `${t}-0`, value: '' });
    const one = await server.client.blocks.create({ label: `${t}-1`, value: '' });
    const two = await server.client.blocks.create({ label: `${t}-2`, value: '' });
    await server.client.agents.create({ block_ids: [one.id, two.id], include_base_tools: false });
    await server.client.agents.create({ block_ids: [two.id], include_base_tools: false });
    const ids = async (query: Parameters<typeof server.client.blocks.list>[0]) =>
      (await server.client.blocks.list({ label_search: t, ...query })).getPaginatedItems().map((x) => x.id);
    expect(await ids({ connected_to_agents_count_gt: 0 })).toEqual([one.id, two.id]);
    expect(await ids({ connected_to_agents_count_lt: 2 })).toEqual([none.id, one.id]);
    expect(await ids({ connected_to_agents_count_eq: [0, 2] })).toEqual([none.id, two.id]);
    expect(await ids({ connected_to_agents_count_gt: 0, connected_to_agents_count_lt: 2 })).toEqual([one.id]);
  });

  it('pages with for-await until the end, both orders, and honours before', async () => {
    const t = token();
    const created = [];
    for (let i = 0; i < 5; i++)
      created.push((await server.client.blocks.create({ label: `${t}-${i}`, value: String(i) })).id);
    const seen: string[] = [];
    for await (const block of server.client.blocks.list({ label_search: t, limit: 2 })) seen.push(block.id);
    expect(seen).toEqual(created);
    const reversed: string[] = [];
    for await (const block of server.client.blocks.list({ label_search: t, limit: 2, order: 'desc' }))
      reversed.push(block.id);
    expect(reversed).toEqual([...created].reverse());
    const before = (
      await server.client.blocks.list({ label_search: t, limit: 2, before: created[3]! })
    ).getPaginatedItems();
    expect(before.map((b) => b.id)).toEqual([created[1], created[2]]);
    const past = await http('GET', `${server.baseURL}/v1/blocks/?label_search=${t}&after=${created[4]!}`);
    expect(past.body).toEqual([]);
  });

  it('updates a block, keeping what the patch leaves out', async () => {
    const block = await server.client.blocks.create({
      label: 'u',
      value: 'v1',
      description: 'd',
      tags: ['old'],
      metadata: { a: 1 },
    });
    const updated = await server.client.blocks.update(block.id, { value: 'v2', tags: ['new'] });
    expectLettaSchema('BlockResponse', updated);
    expect(updated).toMatchObject({ value: 'v2', label: 'u', description: 'd', tags: ['new'], metadata: { a: 1 } });
    const stamps = (b: object) => (b as { updated_at: string }).updated_at;
    expect(stamps(updated) >= stamps(block)).toBe(true);
    expect((await server.client.blocks.retrieve(block.id)).value).toBe('v2');
  });

  it('deletes a block, detaching it from its agents; a second delete is 404', async () => {
    const block = await server.client.blocks.create({ label: 'gone', value: 'g' });
    const agent = await server.client.agents.create({ block_ids: [block.id], include_base_tools: false });
    await server.client.blocks.delete(block.id);
    await expect(server.client.blocks.retrieve(block.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(server.client.blocks.delete(block.id)).rejects.toBeInstanceOf(NotFoundError);
    expect((await server.client.agents.blocks.list(agent.id)).getPaginatedItems()).toEqual([]);
  });

  it('counts blocks as a bare integer', async () => {
    const before = await http('GET', `${server.baseURL}/v1/blocks/count`);
    expect(before.status).toBe(200);
    expect(Number.isInteger(before.body)).toBe(true);
    await server.client.blocks.create({ label: 'c', value: '' });
    expect((await http('GET', `${server.baseURL}/v1/blocks/count`)).body).toBe(before.body + 1);
  });

  it('lists the agents of a block, paging with for-await, with the 1.0 relationship rule', async () => {
    const block = await server.client.blocks.create({ label: 'team', value: 'shared' });
    const agents = [];
    for (let i = 0; i < 3; i++)
      agents.push(
        (await server.client.agents.create({ block_ids: [block.id], tags: ['team'], include_base_tools: false })).id,
      );

    const seen = [];
    for await (const agent of server.client.blocks.agents.list(block.id, { limit: 2, order: 'asc' })) {
      expectLettaSchema('AgentState', agent);
      expect(agent.blocks).toEqual([]);
      expect(agent.tags).toEqual([]);
      seen.push(agent.id);
    }
    expect(seen).toEqual(agents);
    const newestFirst = (await server.client.blocks.agents.list(block.id)).getPaginatedItems().map((a) => a.id);
    expect(newestFirst).toEqual([...agents].reverse());

    const included = (
      await server.client.blocks.agents.list(block.id, { include: ['agent.blocks', 'agent.tags'] })
    ).getPaginatedItems();
    expect(included.every((a) => a.blocks.length === 1 && a.tags[0] === 'team')).toBe(true);
    const legacy = await http('GET', `${server.baseURL}/v1/blocks/${block.id}/agents`, undefined, {
      'user-agent': 'python-requests/2.31',
    });
    expect(legacy.body.map((a: { blocks: { id: string }[] }) => a.blocks[0]!.id)).toEqual([
      block.id,
      block.id,
      block.id,
    ]);
    await expect(server.client.blocks.agents.list('block-00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('shares one block between agents: an update by either route is seen by both at once', async () => {
    const block = await server.client.blocks.create({ label: 'policy', value: 'v0' });
    const first = await server.client.agents.create({ block_ids: [block.id], include_base_tools: false });
    const second = await server.client.agents.create({ block_ids: [block.id], include_base_tools: false });
    await server.client.blocks.update(block.id, { value: 'v1' });
    expect((await server.client.agents.blocks.retrieve('policy', { agent_id: first.id })).value).toBe('v1');
    expect((await server.client.agents.blocks.retrieve('policy', { agent_id: second.id })).value).toBe('v1');
    await server.client.agents.blocks.update('policy', { agent_id: first.id, value: 'v2' });
    const seenBySecond = await server.client.agents.retrieve(second.id, { include: ['agent.blocks'] });
    expect(seenBySecond.blocks.map((b) => [b.id, b.value])).toEqual([[block.id, 'v2']]);
    expect((await server.client.blocks.retrieve(block.id)).value).toBe('v2');
  });

  it('read_only blocks change through the API but never through an agent’s memory tools', async () => {
    const agent = await server.client.agents.create({
      memory_blocks: [{ label: 'rules', value: 'fixed', read_only: true }],
      include_base_tools: false,
    });
    const updated = await server.client.agents.blocks.update('rules', { agent_id: agent.id, value: 'changed by API' });
    expect(updated.value).toBe('changed by API');
    const { blocks } = server.cairn.services;
    const { stores } = server.cairn;
    const attempt = stores.transaction((tx) => blocks.writeByAgent(tx, agent.id, 'rules', (v) => `${v} and by agent`));
    await expect(attempt).rejects.toBeInstanceOf(MemoryEditError);
    await expect(attempt).rejects.toThrow(READ_ONLY_BLOCK_ERROR);
    expect(READ_ONLY_BLOCK_ERROR).toBe('Error This block is read-only and cannot be edited.');
    expect((await server.client.agents.blocks.retrieve('rules', { agent_id: agent.id })).value).toBe('changed by API');

    await server.client.blocks.update(updated.id, { read_only: false });
    const written = await stores.transaction((tx) => blocks.writeByAgent(tx, agent.id, 'rules', (v) => `${v}!`));
    expect(written.value).toBe('changed by API!');
    expect((await server.client.blocks.retrieve(updated.id)).value).toBe('changed by API!');
  });

  it('enforces the block limit: 422 naming the field on create and update, tool error text for agents', async () => {
    const tooLong = await http('POST', `${server.baseURL}/v1/blocks/`, {
      label: 'l',
      value: 'x'.repeat(11),
      limit: 10,
    });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.detail[0]).toMatchObject({
      loc: ['body', 'value'],
      msg: 'Value length (11 characters) exceeds block limit (10 characters)',
    });

    const block = await server.client.blocks.create({ label: 'small', value: '12345', limit: 10 });
    const overValue = await http('PATCH', `${server.baseURL}/v1/blocks/${block.id}`, { value: 'x'.repeat(11) });
    expect(overValue.status).toBe(422);
    expect(overValue.body.detail[0].loc).toEqual(['body', 'value']);
    expect(overValue.body.detail[0].msg).toBe('Value length (11 characters) exceeds block limit (10 characters)');
    const lowLimit = await http('PATCH', `${server.baseURL}/v1/blocks/${block.id}`, { limit: 4 });
    expect(lowLimit.status).toBe(422);
    expect(lowLimit.body.detail[0].loc).toEqual(['body', 'limit']);
    expect(lowLimit.body.detail[0].msg).toBe('Limit (4) cannot be less than current value length (5 characters)');
    // Raising the limit and the value together is judged against the new limit.
    expect((await server.client.blocks.update(block.id, { value: 'x'.repeat(15), limit: 20 })).value).toHaveLength(15);
    await expect(server.client.blocks.update(block.id, { value: 'x'.repeat(25) })).rejects.toBeInstanceOf(
      UnprocessableEntityError,
    );
    expect((await server.client.blocks.retrieve(block.id)).value).toHaveLength(15);

    const agent = await server.client.agents.create({ block_ids: [block.id], include_base_tools: false });
    const viaLabel = await http('PATCH', `${server.baseURL}/v1/agents/${agent.id}/core-memory/blocks/small`, {
      value: 'x'.repeat(21),
    });
    expect(viaLabel.status).toBe(422);
    const { blocks } = server.cairn.services;
    const { stores } = server.cairn;
    await expect(
      stores.transaction((tx) => blocks.writeByAgent(tx, agent.id, 'small', (v) => `${v}123456`)),
    ).rejects.toThrow('Edit failed: Exceeds 20 character limit (requested 21)');
  });

  it('rejects a label change that would clash on an attached agent with 409', async () => {
    const agent = await server.client.agents.create({
      memory_blocks: [
        { label: 'human', value: 'h' },
        { label: 'persona', value: 'p' },
      ],
      include_base_tools: false,
    });
    const full = await server.client.agents.retrieve(agent.id, { include: ['agent.blocks'] });
    const humanId = full.blocks.find((b) => b.label === 'human')!.id!;
    const clash = await http('PATCH', `${server.baseURL}/v1/blocks/${humanId}`, { label: 'persona' });
    expect(clash.status).toBe(409);
    expect(clash.headers.get('x-should-retry')).toBe('false');
    await expect(server.client.blocks.update(humanId, { label: 'persona' }, { maxRetries: 0 })).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect((await server.client.blocks.retrieve(humanId)).label).toBe('human');
  });

  it('answers malformed input with a 4xx {detail}, never a 500', async () => {
    const base = `${server.baseURL}/v1/blocks`;
    const block = await server.client.blocks.create({ label: 'm', value: '' });
    const cases: [string, string, unknown, number][] = [
      ['POST', `${base}/`, { label: 5, value: 'x' }, 422],
      ['POST', `${base}/`, { value: 'no label' }, 422],
      ['POST', `${base}/`, { label: 'x', value: 'x', limit: -1 }, 422],
      ['POST', `${base}/`, { label: 'x', value: 'x', tags: 'not-an-array' }, 422],
      ['POST', `${base}/`, '{"label": "x", ', 400],
      ['POST', `${base}/`, '[1,2]', 422],
      ['PATCH', `${base}/${block.id}`, { value: 42 }, 422],
      ['PATCH', `${base}/${block.id}`, { metadata: 'nope' }, 422],
      ['GET', `${base}/?limit=-1`, undefined, 422],
      ['GET', `${base}/?limit=abc`, undefined, 422],
      ['GET', `${base}/?order=sideways`, undefined, 422],
      ['GET', `${base}/?match_all_tags=maybe`, undefined, 422],
      ['GET', `${base}/?connected_to_agents_count_eq=many`, undefined, 422],
      ['GET', `${base}/?connected_to_agents_count_gt=-3`, undefined, 422],
      ['GET', `${base}/block-123`, undefined, 422],
      ['GET', `${base}/agent-00000000-0000-4000-8000-000000000000`, undefined, 422],
      ['GET', `${base}/block-00000000-0000-4000-8000-000000000000`, undefined, 404],
      ['GET', `${base}/${block.id}/agents?limit=0`, undefined, 422],
    ];
    for (const [method, url, body, status] of cases) {
      const response = await http(method, url, body);
      expect({ method, url, body, status: response.status }).toEqual({ method, url, body, status });
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.body).toHaveProperty('detail');
    }
    // A bad cursor is not an error: it ends the SDK's pagination.
    const badCursor = await http('GET', `${base}/?after=block-00000000-0000-4000-8000-000000000000`);
    expect(badCursor).toMatchObject({ status: 200, body: [] });
  });

  it('serves the collection with and without the trailing slash, without redirects', async () => {
    for (const path of ['/v1/blocks', '/v1/blocks/']) {
      const response = await http('GET', `${server.baseURL}${path}?limit=1`);
      expect(response.status).toBe(200);
      expect(Array.isArray(response.body)).toBe(true);
    }
  });
});
