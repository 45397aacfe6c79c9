import { randomUUID } from 'node:crypto';
import { NotFoundError } from '@letta-ai/letta-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { http, type RawResponse } from '../support/http.js';
import { expectLettaSchema } from '../support/openapi.js';

const MISSING_IDENTITY = 'identity-00000000-0000-4000-8000-000000000000';

// SDK 1.12.1 has no `client.identities`: the identity routes are driven over raw HTTP, the agent-side ones through the SDK.
describe.each(testDialects())('identities [%s]', (dialect) => {
  let server: TestCairn;
  const call = (method: string, path: string, body?: unknown): Promise<RawResponse> =>
    http(method, `${server.baseURL}/v1${path}`, body);
  const create = async (fields: Record<string, unknown> = {}) => {
    const response = await call('POST', '/identities/', {
      identifier_key: `key-${randomUUID()}`,
      name: 'Ada',
      identity_type: 'user',
      ...fields,
    });
    expect(response.status).toBe(200);
    return response.body;
  };

  beforeAll(async () => {
    server = await startCairn(dialect);
  });
  afterAll(() => server.close());

  it('creates, retrieves and counts an identity', async () => {
    const before = (await call('GET', '/identities/count')).body;
    const identity = await create({ properties: [{ key: 'plan', value: 'pro', type: 'string' }] });
    expectLettaSchema('Identity', identity);
    expect(identity.id).toMatch(/^identity-[0-9a-f-]{36}$/);
    expect(identity).toMatchObject({
      name: 'Ada',
      identity_type: 'user',
      agent_ids: [],
      block_ids: [],
      properties: [{ key: 'plan', value: 'pro', type: 'string' }],
    });
    const fetched = await call('GET', `/identities/${identity.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get('content-type')).toMatch(/^application\/json/);
    expect(fetched.body).toEqual(identity);
    expect((await call('GET', '/identities/count')).body).toBe(before + 1);
  });

  it('refuses a duplicate identifier key with 409', async () => {
    const identity = await create();
    const duplicate = await call('POST', '/identities/', {
      identifier_key: identity.identifier_key,
      name: 'Other',
      identity_type: 'org',
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.detail).toContain(identity.identifier_key);
  });

  it('lists with filters and pages by cursor', async () => {
    const name = `list-${randomUUID()}`;
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await create({ name, identity_type: i === 2 ? 'org' : 'user' })).id);
    const list = await call('GET', `/identities/?name=${name}`);
    list.body.forEach((identity: unknown) => expectLettaSchema('Identity', identity));
    expect(list.body.map((i: { id: string }) => i.id)).toEqual(ids);
    expect(
      (await call('GET', `/identities/?name=${name}&identity_type=org`)).body.map((i: { id: string }) => i.id),
    ).toEqual([ids[2]]);
    const key = (await call('GET', `/identities/${ids[1]}`)).body.identifier_key;
    expect((await call('GET', `/identities/?identifier_key=${key}`)).body.map((i: { id: string }) => i.id)).toEqual([
      ids[1],
    ]);
    expect(
      (await call('GET', `/identities/?name=${name}&limit=1&after=${ids[0]}`)).body.map((i: { id: string }) => i.id),
    ).toEqual([ids[1]]);
    expect(
      (await call('GET', `/identities/?name=${name}&order=desc&limit=2`)).body.map((i: { id: string }) => i.id),
    ).toEqual([ids[2], ids[1]]);
    expect((await call('GET', `/identities/?name=${name}&after=${ids[2]}`)).body).toEqual([]);
    expect((await call('GET', '/identities/?identity_type=robot')).status).toBe(422);
  });

  it('modifies an identity and replaces its properties', async () => {
    const identity = await create();
    const modified = await call('PATCH', `/identities/${identity.id}`, { name: 'Grace', identity_type: 'org' });
    expect(modified.status).toBe(200);
    expectLettaSchema('Identity', modified.body);
    expect(modified.body).toMatchObject({
      id: identity.id,
      name: 'Grace',
      identity_type: 'org',
      identifier_key: identity.identifier_key,
    });
    const properties = [
      { key: 'age', value: 36, type: 'number' },
      { key: 'prefs', value: { theme: 'dark' }, type: 'json' },
    ];
    const replaced = await call('PUT', `/identities/${identity.id}/properties`, properties);
    expect(replaced.status).toBe(200);
    expect(replaced.body.properties).toEqual(properties);
    expect((await call('GET', `/identities/${identity.id}`)).body.properties).toEqual(properties);
    expect((await call('PATCH', `/identities/${MISSING_IDENTITY}`, { name: 'x' })).status).toBe(404);
  });

  it('upserts by identifier key with PUT /identities/', async () => {
    const key = `upsert-${randomUUID()}`;
    const first = await call('PUT', '/identities/', {
      identifier_key: key,
      name: 'One',
      identity_type: 'user',
      properties: [{ key: 'a', value: true, type: 'boolean' }],
    });
    expect(first.status).toBe(200);
    const second = await call('PUT', '/identities/', { identifier_key: key, name: 'Two', identity_type: 'user' });
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect(second.body.name).toBe('Two');
    // An upsert replaces the identity: properties it leaves out are gone.
    expect(second.body.properties).toEqual([]);
    expect((await call('GET', `/identities/?identifier_key=${key}`)).body).toHaveLength(1);
  });

  it('attaches and detaches agents through the SDK, and lists agents by identity', async () => {
    const identity = await create();
    const agent = await server.client.agents.create({ include_base_tools: false });
    const other = await server.client.agents.create({ include_base_tools: false });
    await server.client.agents.identities.attach(identity.id, { agent_id: agent.id });
    await server.client.agents.identities.attach(identity.id, { agent_id: agent.id });
    expect((await call('GET', `/identities/${identity.id}`)).body.agent_ids).toEqual([agent.id]);

    const withIdentities = await server.client.agents.retrieve(agent.id, { include: ['agent.identities'] });
    expectLettaSchema('AgentState', withIdentities);
    expect(withIdentities.identities!.map((i) => i.id)).toEqual([identity.id]);
    expect(
      (await server.client.agents.list({ identity_id: identity.id })).getPaginatedItems().map((a) => a.id),
    ).toEqual([agent.id]);
    expect(
      (await server.client.agents.list({ identifier_keys: [identity.identifier_key] }))
        .getPaginatedItems()
        .map((a) => a.id),
    ).toEqual([agent.id]);
    const viaIdentity = await call('GET', `/identities/${identity.id}/agents`);
    expect(viaIdentity.body.map((a: { id: string }) => a.id)).toEqual([agent.id]);
    expect(viaIdentity.body.map((a: { id: string }) => a.id)).not.toContain(other.id);

    await server.client.agents.identities.detach(identity.id, { agent_id: agent.id });
    expect((await call('GET', `/identities/${identity.id}`)).body.agent_ids).toEqual([]);
    expect((await server.client.agents.list({ identity_id: identity.id })).getPaginatedItems()).toEqual([]);
    await expect(
      server.client.agents.identities.attach(MISSING_IDENTITY, { agent_id: agent.id }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('links agents and blocks given at create, listing them under the identity', async () => {
    const agents = [];
    for (let i = 0; i < 3; i++) agents.push((await server.client.agents.create({ include_base_tools: false })).id);
    const block = await server.client.blocks.create({ label: 'profile', value: 'p' });
    const identity = await create({ agent_ids: agents, block_ids: [block.id] });
    expect(identity.agent_ids.sort()).toEqual([...agents].sort());
    const paged = [];
    let after = '';
    for (;;) {
      const page = await call('GET', `/identities/${identity.id}/agents?limit=2&order=asc${after}`);
      if (page.body.length === 0) break;
      paged.push(...page.body.map((a: { id: string }) => a.id));
      after = `&after=${page.body.at(-1).id}`;
    }
    expect(paged).toEqual(agents);
    expect((await call('GET', `/identities/${identity.id}/blocks`)).body.map((b: { id: string }) => b.id)).toEqual([
      block.id,
    ]);
    const key = `k-${randomUUID()}`;
    const unknownAgent = await call('POST', '/identities/', {
      identifier_key: key,
      name: 'n',
      identity_type: 'user',
      agent_ids: ['agent-00000000-0000-4000-8000-000000000000'],
    });
    expect(unknownAgent.status).toBe(404);
    // The failed create wrote nothing.
    expect((await call('GET', `/identities/?identifier_key=${key}`)).body).toEqual([]);
  });

  it('attaches and detaches blocks through /blocks/{id}/identities', async () => {
    const identity = await create();
    const block = await server.client.blocks.create({ label: 'prefs', value: 'tea' });
    const attached = await call('PATCH', `/blocks/${block.id}/identities/attach/${identity.id}`);
    expect(attached.status).toBe(200);
    expectLettaSchema('BlockResponse', attached.body);
    expect((await call('GET', `/identities/${identity.id}`)).body.block_ids).toEqual([block.id]);
    expect((await call('GET', `/identities/${identity.id}/blocks`)).body.map((b: { id: string }) => b.id)).toEqual([
      block.id,
    ]);
    expect((await call('PATCH', `/blocks/${block.id}/identities/detach/${identity.id}`)).status).toBe(200);
    expect((await call('GET', `/identities/${identity.id}/blocks`)).body).toEqual([]);
    expect((await call('PATCH', `/blocks/${block.id}/identities/attach/${MISSING_IDENTITY}`)).status).toBe(404);
    expect((await call('GET', `/identities/${MISSING_IDENTITY}/blocks`)).status).toBe(404);
  });

  it('deletes an identity; its agents remain', async () => {
    const agent = await server.client.agents.create({ include_base_tools: false });
    const identity = await create({ agent_ids: [agent.id] });
    const deleted = await call('DELETE', `/identities/${identity.id}`);
    expect(deleted.status).toBe(200);
    expect((await call('GET', `/identities/${identity.id}`)).status).toBe(404);
    expect((await call('DELETE', `/identities/${identity.id}`)).status).toBe(404);
    expect((await server.client.agents.retrieve(agent.id)).id).toBe(agent.id);
    expect((await call('GET', `/identities/${identity.id}/agents`)).status).toBe(404);
  });

  it('validates bodies and ids: 422 naming the field, never a 500', async () => {
    const cases: [string, string, unknown, number, (string | number)[] | undefined][] = [
      ['POST', '/identities/', { name: 'n', identity_type: 'user' }, 422, ['body', 'identifier_key']],
      [
        'POST',
        '/identities/',
        { identifier_key: 'k', name: 'n', identity_type: 'robot' },
        422,
        ['body', 'identity_type'],
      ],
      [
        'POST',
        '/identities/',
        { identifier_key: 'k', name: 'n', identity_type: 'user', properties: [{ key: 'a', value: 1, type: 'colour' }] },
        422,
        ['body', 'properties', 0, 'type'],
      ],
      [
        'POST',
        '/identities/',
        { identifier_key: 'k', name: 'n', identity_type: 'user', agent_ids: ['agent-1'] },
        422,
        ['body', 'agent_ids', 0],
      ],
      ['PUT', `/identities/${MISSING_IDENTITY}/properties`, { key: 'a' }, 422, ['body']],
      ['GET', '/identities/identity-1', undefined, 422, ['path', 'identity_id']],
      ['GET', '/identities/?limit=0', undefined, 422, ['query', 'limit']],
      [
        'PATCH',
        '/agents/agent-00000000-0000-4000-8000-000000000000/identities/attach/identity-2',
        undefined,
        422,
        ['path', 'identity_id'],
      ],
    ];
    for (const [method, path, body, status, loc] of cases) {
      const response = await call(method, path, body);
      expect({ method, path, status: response.status }).toEqual({ method, path, status });
      if (loc) expect(response.body.detail[0].loc).toEqual(loc);
    }
  });
});
