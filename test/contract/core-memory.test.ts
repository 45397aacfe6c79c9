import { ConflictError, NotFoundError, UnprocessableEntityError } from '@letta-ai/letta-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { http } from '../support/http.js';
import { expectLettaSchema } from '../support/openapi.js';

const MISSING_AGENT = 'agent-00000000-0000-4000-8000-000000000000';
const MISSING_BLOCK = 'block-00000000-0000-4000-8000-000000000000';

describe.each(testDialects())('core memory [%s]', (dialect) => {
  let server: TestCairn;
  const newAgent = (labels = ['human', 'persona']) =>
    server.client.agents.create({
      memory_blocks: labels.map((label) => ({ label, value: `${label} value` })),
      include_base_tools: false,
    });

  beforeAll(async () => {
    server = await startCairn(dialect);
  });
  afterAll(() => server.close());

  it('lists an agent’s blocks in attachment order and pages them with for-await', async () => {
    const agent = await newAgent(['human', 'persona', 'notes']);
    const page = (await server.client.agents.blocks.list(agent.id)).getPaginatedItems();
    page.forEach((block) => expectLettaSchema('BlockResponse', block));
    expect(page.map((b) => b.label)).toEqual(['human', 'persona', 'notes']);
    const labels: string[] = [];
    for await (const block of server.client.agents.blocks.list(agent.id, { limit: 1 })) labels.push(block.label!);
    expect(labels).toEqual(['human', 'persona', 'notes']);
    const reversed: string[] = [];
    for await (const block of server.client.agents.blocks.list(agent.id, { limit: 2, order: 'desc' }))
      reversed.push(block.label!);
    expect(reversed).toEqual(['notes', 'persona', 'human']);
    await expect(server.client.agents.blocks.list(MISSING_AGENT)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('gets and patches a block by label', async () => {
    const agent = await newAgent();
    const human = await server.client.agents.blocks.retrieve('human', { agent_id: agent.id });
    expectLettaSchema('BlockResponse', human);
    expect(human.value).toBe('human value');
    const patched = await server.client.agents.blocks.update('human', {
      agent_id: agent.id,
      value: 'Name: Ada',
      description: 'who',
    });
    expectLettaSchema('BlockResponse', patched);
    expect(patched).toMatchObject({ id: human.id, value: 'Name: Ada', description: 'who', label: 'human' });
    expect((await server.client.agents.blocks.retrieve('human', { agent_id: agent.id })).value).toBe('Name: Ada');
    // Renaming through the label route moves the block to its new label.
    await server.client.agents.blocks.update('human', { agent_id: agent.id, label: 'user' });
    expect((await server.client.agents.blocks.retrieve('user', { agent_id: agent.id })).id).toBe(human.id);
    await expect(server.client.agents.blocks.retrieve('human', { agent_id: agent.id })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('answers an unknown label or agent with 404 and a malformed agent id with 422', async () => {
    const agent = await newAgent();
    const unknownLabel = await http('GET', `${server.baseURL}/v1/agents/${agent.id}/core-memory/blocks/nope`);
    expect(unknownLabel.status).toBe(404);
    expect(unknownLabel.body.detail).toContain('nope');
    const patchUnknown = await http('PATCH', `${server.baseURL}/v1/agents/${agent.id}/core-memory/blocks/nope`, {
      value: 'x',
    });
    expect(patchUnknown.status).toBe(404);
    await expect(server.client.agents.blocks.retrieve('human', { agent_id: MISSING_AGENT })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(server.client.agents.blocks.retrieve('human', { agent_id: 'agent-1' })).rejects.toBeInstanceOf(
      UnprocessableEntityError,
    );
  });

  it('attaches and detaches by block id through the SDK (no body) and returns the agent', async () => {
    const agent = await newAgent(['human']);
    const block = await server.client.blocks.create({ label: 'project', value: 'Cairn' });
    const attached = await server.client.agents.blocks.attach(block.id, { agent_id: agent.id });
    expectLettaSchema('AgentState', attached);
    expect(attached.blocks.map((b) => b.label)).toEqual(['human', 'project']);
    expect((await server.client.agents.blocks.retrieve('project', { agent_id: agent.id })).value).toBe('Cairn');
    // Attaching again is a no-op, not a clash with itself.
    expect((await server.client.agents.blocks.attach(block.id, { agent_id: agent.id })).blocks).toHaveLength(2);

    const detached = await server.client.agents.blocks.detach(block.id, { agent_id: agent.id });
    expectLettaSchema('AgentState', detached);
    expect(detached.blocks.map((b) => b.label)).toEqual(['human']);
    await expect(server.client.agents.blocks.retrieve('project', { agent_id: agent.id })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect((await server.client.blocks.retrieve(block.id)).value).toBe('Cairn');
  });

  it('accepts an attach PATCH with a JSON content type and an empty body, as some clients send it', async () => {
    const agent = await newAgent(['human']);
    const block = await server.client.blocks.create({ label: 'extra', value: 'e' });
    const response = await http(
      'PATCH',
      `${server.baseURL}/v1/agents/${agent.id}/core-memory/blocks/attach/${block.id}`,
      '',
      { 'content-type': 'application/json' },
    );
    expect(response.status).toBe(200);
    expect(response.body.blocks.map((b: { label: string }) => b.label)).toEqual(['human', 'extra']);
    const bare = await http('PATCH', `${server.baseURL}/v1/agents/${agent.id}/core-memory/blocks/detach/${block.id}`);
    expect(bare.status).toBe(200);
  });

  it('refuses to attach a second block with a label the agent already has (409, not retried)', async () => {
    const agent = await newAgent(['human']);
    const other = await server.client.blocks.create({ label: 'human', value: 'another human' });
    const error = await server.client.agents.blocks.attach(other.id, { agent_id: agent.id }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).headers?.get('x-should-retry')).toBe('false');
    expect((await server.client.agents.blocks.retrieve('human', { agent_id: agent.id })).value).toBe('human value');
  });

  it('answers attach/detach of unknown ids with 404 and malformed ones with 422', async () => {
    const agent = await newAgent(['human']);
    const block = await server.client.blocks.create({ label: 'b', value: '' });
    await expect(server.client.agents.blocks.attach(MISSING_BLOCK, { agent_id: agent.id })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(server.client.agents.blocks.attach(block.id, { agent_id: MISSING_AGENT })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(server.client.agents.blocks.detach(MISSING_BLOCK, { agent_id: agent.id })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(server.client.agents.blocks.attach('block-x', { agent_id: agent.id })).rejects.toBeInstanceOf(
      UnprocessableEntityError,
    );
    expect((await server.client.agents.blocks.list(agent.id)).getPaginatedItems().map((b) => b.label)).toEqual([
      'human',
    ]);
  });

  it('serves the legacy Memory object at /core-memory', async () => {
    const agent = await newAgent();
    const memory = await http('GET', `${server.baseURL}/v1/agents/${agent.id}/core-memory`);
    expect(memory.status).toBe(200);
    expect(memory.headers.get('content-type')).toMatch(/^application\/json/);
    expectLettaSchema('Memory', memory.body);
    expect(memory.body.blocks.map((b: { label: string }) => b.label)).toEqual(['human', 'persona']);
  });

  it('validates a label PATCH body: wrong types are 422 and change nothing', async () => {
    const agent = await newAgent(['human']);
    for (const body of [{ value: 1 }, { limit: 'big' }, { read_only: 'yes' }, { tags: [1] }]) {
      const response = await http('PATCH', `${server.baseURL}/v1/agents/${agent.id}/core-memory/blocks/human`, body);
      expect(response.status).toBe(422);
      expect(response.body.detail[0].loc[0]).toBe('body');
    }
    const badQuery = await http('GET', `${server.baseURL}/v1/agents/${agent.id}/core-memory/blocks?limit=-5`);
    expect(badQuery.status).toBe(422);
    expect((await server.client.agents.blocks.retrieve('human', { agent_id: agent.id })).value).toBe('human value');
  });
});
