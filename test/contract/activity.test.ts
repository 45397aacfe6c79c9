import { NotFoundError, UnprocessableEntityError } from '@letta-ai/letta-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentSummary as Summary } from '../../src/schemas/activity.js';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';

describe.each(testDialects())('inspector read endpoints [%s]', (dialect) => {
  let server: TestCairn;
  beforeAll(async () => {
    server = await startCairn(dialect);
  });
  afterAll(() => server.close());

  const marker = async (agentId?: string) =>
    (
      await server.client.get<{ marker: string }>('/v1/cairn/activity', {
        query: agentId ? { agent_id: agentId } : {},
      })
    ).marker;

  it('counts blocks, passages, messages and conversations per agent', async () => {
    const busy = await server.client.agents.create({
      memory_blocks: [
        { label: 'human', value: 'a' },
        { label: 'persona', value: 'b' },
      ],
    });
    const idle = await server.client.agents.create({ memory_blocks: [] });
    await server.client.agents.passages.create(busy.id, { text: 'one fact' });
    await server.client.agents.passages.create(busy.id, { text: 'another fact' });
    const conversation = await server.client.conversations.create({ agent_id: busy.id });
    await server.client.post(`/v1/agents/${busy.id}/messages/capture`, {
      body: { messages: [{ role: 'user', content: 'hello' }], conversation_id: conversation.id },
    });
    const summaries = await server.client.get<Summary[]>('/v1/cairn/agent-summaries', {
      query: { agent_id: [busy.id, idle.id] },
    });
    expect(summaries[0]).toMatchObject({ agent_id: busy.id, blocks: 2, passages: 2, conversations: 1 });
    expect(summaries[0]!.messages).toBeGreaterThanOrEqual(1);
    expect(summaries[0]!.last_message_at).toMatch(/^\d{4}-/);
    expect(summaries[1]).toMatchObject({ agent_id: idle.id, blocks: 0, passages: 0, conversations: 0 });
    await expect(
      server.client.get('/v1/cairn/agent-summaries', { query: { agent_id: ['nope'] } }),
    ).rejects.toBeInstanceOf(UnprocessableEntityError);
  });

  it("moves the marker on each write an agent's page shows, and not on reads", async () => {
    const agent = await server.client.agents.create({ memory_blocks: [{ label: 'human', value: 'x' }] });
    const other = await server.client.agents.create({ memory_blocks: [{ label: 'human', value: 'y' }] });
    let last = await marker(agent.id);
    const moved = async () => {
      const now = await marker(agent.id);
      const changed = now !== last;
      last = now;
      return changed;
    };
    await server.client.agents.blocks.retrieve('human', { agent_id: agent.id });
    expect(await moved()).toBe(false);
    await server.client.agents.blocks.update('human', { agent_id: agent.id, value: 'x2' });
    expect(await moved()).toBe(true);
    const passage = (await server.client.agents.passages.create(agent.id, { text: 'fact' }))[0]!;
    expect(await moved()).toBe(true);
    await server.client.agents.passages.delete(passage.id!, { agent_id: agent.id });
    expect(await moved()).toBe(true);
    await server.client.conversations.create({ agent_id: agent.id });
    expect(await moved()).toBe(true);
    await server.client.agents.blocks.update('human', { agent_id: other.id, value: 'y2' });
    expect(await moved()).toBe(false);
    const global = await marker();
    await server.client.agents.create({ name: 'new' });
    expect(await marker()).not.toBe(global);
    await expect(marker('agent-00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
  });
});
