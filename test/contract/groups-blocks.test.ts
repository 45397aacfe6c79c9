import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { http } from '../support/http.js';

const MISSING_GROUP = 'group-00000000-0000-4000-8000-000000000000';
const MISSING_BLOCK = 'block-00000000-0000-4000-8000-000000000000';
const MISSING_MESSAGE = 'message-00000000-0000-4000-8000-000000000000';

describe.each(testDialects())('group block routes and group message edit [%s]', (dialect) => {
  let server: TestCairn;
  beforeAll(async () => {
    server = await startCairn(dialect);
  });
  afterAll(() => server.close());

  const url = (path: string) => `${server.baseURL}/v1${path}`;
  // The SDK has no groups resource (Letta deprecated it); its generic verbs still drive the routes.
  const createGroup = (body: unknown) => server.client.post<{ id: string }>('/v1/groups/', { body });
  const groupOf = async (id: string) =>
    (await http('GET', url(`/groups/${id}`))).body as { shared_block_ids: string[] };
  const blockIdsOf = async (agentId: string) =>
    (await server.client.agents.blocks.list(agentId)).getPaginatedItems().map((b) => b.id);
  const compiledSystem = async (agentId: string) => {
    const [system] = (await server.client.agents.messages.list(agentId, { order: 'asc' })).getPaginatedItems();
    return (system as { content: string }).content;
  };

  async function supervisedGroup() {
    const manager = await server.client.agents.create({ name: 'boss' });
    const a = await server.client.agents.create({ name: 'worker-a' });
    const b = await server.client.agents.create({ name: 'worker-b' });
    const group = await createGroup({
      agent_ids: [a.id, b.id],
      description: 'a team',
      manager_config: { manager_type: 'supervisor', manager_agent_id: manager.id },
    });
    return { group, agents: [manager, a, b] };
  }

  it('attaches a block to the group and every agent in it, and detaches it again', async () => {
    const { group, agents } = await supervisedGroup();
    const block = await server.client.blocks.create({ label: 'team_notes', value: 'ship on friday' });

    const attached = await http('PATCH', url(`/groups/${group.id}/blocks/attach/${block.id}`));
    expect(attached.status).toBe(200);
    expect(attached.body).toBeNull();
    expect((await groupOf(group.id)).shared_block_ids).toEqual([block.id]);
    for (const agent of agents) expect(await blockIdsOf(agent.id)).toContain(block.id);
    // The block is in each agent's compiled memory, not only in the join table.
    expect(await compiledSystem(agents[1]!.id)).toContain('ship on friday');
    // Attaching twice changes nothing.
    expect((await http('PATCH', url(`/groups/${group.id}/blocks/attach/${block.id}`))).status).toBe(200);
    expect((await blockIdsOf(agents[2]!.id)).filter((id) => id === block.id)).toHaveLength(1);

    const detached = await http('PATCH', url(`/groups/${group.id}/blocks/detach/${block.id}`));
    expect(detached.status).toBe(200);
    expect(detached.body).toBeNull();
    expect((await groupOf(group.id)).shared_block_ids).toEqual([]);
    for (const agent of agents) expect(await blockIdsOf(agent.id)).not.toContain(block.id);
    expect(await compiledSystem(agents[1]!.id)).not.toContain('ship on friday');
    // The block itself outlives the detach.
    expect((await server.client.blocks.retrieve(block.id)).id).toBe(block.id);
  });

  it("answers Letta's 404s for a missing group or block, and writes nothing", async () => {
    const { group, agents } = await supervisedGroup();
    const block = await server.client.blocks.create({ label: 'spare', value: 'x' });
    for (const verb of ['attach', 'detach']) {
      const noGroup = await http('PATCH', url(`/groups/${MISSING_GROUP}/blocks/${verb}/${block.id}`));
      expect(noGroup.status).toBe(404);
      expect(noGroup.body).toMatchObject({ detail: `Group with id '${MISSING_GROUP}' not found` });
      const noBlock = await http('PATCH', url(`/groups/${group.id}/blocks/${verb}/${MISSING_BLOCK}`));
      expect(noBlock.status).toBe(404);
      expect(noBlock.body).toMatchObject({ detail: `Block with id '${MISSING_BLOCK}' not found` });
    }
    expect((await http('PATCH', url(`/groups/not-a-group/blocks/attach/${block.id}`))).status).toBe(422);
    expect((await groupOf(group.id)).shared_block_ids).toEqual([]);
    for (const agent of agents) expect(await blockIdsOf(agent.id)).not.toContain(block.id);
  });

  it('attaches to none of the agents when one of them already has a block with that label', async () => {
    const { group, agents } = await supervisedGroup();
    const theirs = await server.client.blocks.create({ label: 'plan', value: 'b only' });
    await server.client.agents.blocks.attach(theirs.id, { agent_id: agents[2]!.id });
    const shared = await server.client.blocks.create({ label: 'plan', value: 'for all' });

    const clash = await http('PATCH', url(`/groups/${group.id}/blocks/attach/${shared.id}`));
    expect(clash.status).toBe(409);
    expect((await groupOf(group.id)).shared_block_ids).toEqual([]);
    for (const agent of agents) expect(await blockIdsOf(agent.id)).not.toContain(shared.id);
  });

  it('serves the group message edit with the agent route’s 405, after a 404 for a missing group', async () => {
    const { group } = await supervisedGroup();
    const body = { message_type: 'user_message', content: 'edited' };
    const refused = await http('PATCH', url(`/groups/${group.id}/messages/${MISSING_MESSAGE}`), body);
    expect(refused.status).toBe(405);
    expect(refused.body).toMatchObject({ detail: expect.stringContaining('Messages are immutable') as unknown });
    const noGroup = await http('PATCH', url(`/groups/${MISSING_GROUP}/messages/${MISSING_MESSAGE}`), body);
    expect(noGroup.status).toBe(404);
    expect(noGroup.body).toMatchObject({ detail: `Group with id '${MISSING_GROUP}' not found` });
    expect((await http('PATCH', url(`/groups/${group.id}/messages/not-a-message`), body)).status).toBe(422);
  });
});
