import { describe, expect, it } from 'vitest';
import { testDialects } from '../support/cairn.js';
import type { FakeLlmRequest } from '../support/fake-llm.js';
import { http } from '../support/http.js';
import { json, readSse } from '../support/sse.js';
import { useRuntime } from './harness.js';

/** Everything the model was sent in one request, as text. */
const sent = (request: FakeLlmRequest) => JSON.stringify(request.body.messages);
const lastText = (request: FakeLlmRequest): string => {
  const content: unknown = request.body.messages.at(-1)?.content;
  if (typeof content === 'string') return content;
  return Array.isArray(content) ? content.map((p: { text?: string }) => p.text ?? '').join('') : '';
};

interface GroupReply {
  messages: { message_type: string; content?: string }[];
  stop_reason: { stop_reason: string };
  usage: { step_count: number; run_ids: string[] };
}

describe.each(testDialects())('group messaging [%s]', (dialect) => {
  const h = useRuntime(dialect);
  const model = 'openai/gpt-4o-mini';
  const url = (path: string) => `${h.server.baseURL}/v1${path}`;
  // The SDK has no groups resource (Letta deprecated it); its generic verbs still drive the routes.
  const post = <T>(path: string, body: unknown) => h.server.client.post<T>(`/v1${path}`, { body });
  const createGroup = (body: unknown) => post<{ id: string }>('/groups/', body);
  const assistantTexts = (reply: GroupReply) =>
    reply.messages.filter((m) => m.message_type === 'assistant_message').map((m) => m.content);

  it('round_robin: each participant speaks in turn and sees what was said since it last spoke', async () => {
    const client = h.server.client;
    const ada = await client.agents.create({ name: 'ada', model });
    const bo = await client.agents.create({ name: 'bo', model });
    const group = await createGroup({
      agent_ids: [ada.id, bo.id],
      description: 'a chat',
      manager_config: { manager_type: 'round_robin', max_turns: 3 },
    });
    h.llm.script({ text: 'Ada here.' }, { text: 'Bo here.' }, { text: 'Ada again.' });
    const reply = await post<GroupReply>(`/groups/${group.id}/messages`, {
      messages: [{ role: 'user', content: 'Introduce yourselves' }],
    });
    expect(assistantTexts(reply)).toEqual(['Ada here.', 'Bo here.', 'Ada again.']);
    expect(reply.stop_reason.stop_reason).toBe('end_turn');
    expect(reply.usage.run_ids).toHaveLength(3);
    expect(reply.usage.step_count).toBe(3);

    const [first, second, third] = h.llm.calls;
    expect(lastText(first!)).toBe('Introduce yourselves');
    // Bo is sent the user's message and Ada's reply; Ada, on her second turn, only Bo's.
    expect(sent(second!)).toContain('Introduce yourselves');
    expect(lastText(second!)).toBe('Ada here.');
    expect(sent(third!)).toContain('Bo here.');
    expect(sent(third!).split('Introduce yourselves')).toHaveLength(2);

    // Bo never heard Ada's last word in a turn: it is in his history for the next group message.
    const boHistory = (await client.agents.messages.list(bo.id, { order: 'asc' })).getPaginatedItems();
    expect(boHistory.at(-1)).toMatchObject({ message_type: 'system_message', content: 'Ada again.' });
    // Every participant turn is a run of its own.
    expect((await client.runs.list({ agent_id: ada.id })).items).toHaveLength(2);

    const listed = (await http('GET', url(`/groups/${group.id}/messages?order=asc&limit=100`))).body as {
      message_type: string;
      content: unknown;
    }[];
    expect(listed.filter((m) => m.message_type === 'assistant_message').map((m) => m.content)).toEqual([
      'Ada here.',
      'Bo here.',
      'Ada again.',
    ]);
    expect((await http('PATCH', url(`/groups/${group.id}/reset-messages`))).status).toBe(200);
    expect((await http('GET', url(`/groups/${group.id}/messages`))).body).toEqual([]);
    const afterReset = (await client.agents.messages.list(bo.id, { order: 'asc' })).getPaginatedItems();
    expect(afterReset.map((m) => m.message_type)).toEqual(['system_message']);
  });

  it('dynamic: the manager names the next speaker until a reply carries the termination token', async () => {
    const client = h.server.client;
    const manager = await client.agents.create({ name: 'host', model });
    const alice = await client.agents.create({ name: 'alice', model });
    const bob = await client.agents.create({ name: 'bob', model });
    const group = await createGroup({
      agent_ids: [alice.id, bob.id],
      description: 'a panel',
      manager_config: { manager_type: 'dynamic', manager_agent_id: manager.id, max_turns: 4 },
    });
    h.llm.script(
      { text: 'Bob should answer.' },
      { text: 'Bob: the answer is 42.' },
      { text: 'Now Alice.' },
      {
        text: 'Agreed. DONE!',
      },
    );
    const reply = await post<GroupReply>(`/groups/${group.id}/messages`, { input: 'What is the answer?' });
    expect(assistantTexts(reply)).toEqual([
      'Bob should answer.',
      'Bob: the answer is 42.',
      'Now Alice.',
      'Agreed. DONE!',
    ]);
    const [ask, , askAgain] = h.llm.calls;
    expect(lastText(ask!)).toBe(
      `Choose the most suitable agent to reply to the latest message in the group chat from the following options: ['${alice.id}', '${bob.id}']. Do not respond to the messages yourself, your task is only to decide the next speaker, not to participate. \nChat history:\nuser: What is the answer?`,
    );
    // The last speaker is no option for the next turn.
    expect(lastText(askAgain!)).toContain(`options: ['${alice.id}']`);
    expect(lastText(askAgain!)).toContain('bob: Bob: the answer is 42.');
    expect(h.llm.pending).toBe(0);
  });

  it('supervisor: the message is the manager agent’s turn', async () => {
    const client = h.server.client;
    const boss = await client.agents.create({ name: 'boss', model });
    const worker = await client.agents.create({ name: 'worker', model });
    const group = await createGroup({
      agent_ids: [worker.id],
      description: 'a team',
      manager_config: { manager_type: 'supervisor', manager_agent_id: boss.id },
    });
    h.llm.script({ text: 'I will delegate.' });
    const reply = await post<GroupReply>(`/groups/${group.id}/messages`, { input: 'Plan the week' });
    expect(assistantTexts(reply)).toEqual(['I will delegate.']);
    expect((await client.runs.list({ agent_id: boss.id })).items).toHaveLength(1);
  });

  it('streams every turn, then one stop_reason and the summed usage', async () => {
    const client = h.server.client;
    const ada = await client.agents.create({ name: 'ada-s', model });
    const bo = await client.agents.create({ name: 'bo-s', model });
    const group = await createGroup({ agent_ids: [ada.id, bo.id], description: 'streamed' });
    h.llm.script({ text: 'First.' }, { text: 'Second.' });
    const { status, frames } = await readSse(url(`/groups/${group.id}/messages/stream`), { input: 'Go' });
    expect(status).toBe(200);
    expect(frames.at(-1)!.data).toBe('[DONE]');
    const chunks = frames.slice(0, -1).map(json);
    const types = chunks.map((c: { message_type: string }) => c.message_type).filter((t: string) => t !== 'ping');
    expect(types.filter((t: string) => t === 'stop_reason')).toHaveLength(1);
    expect(types.slice(-2)).toEqual(['stop_reason', 'usage_statistics']);
    expect(
      chunks
        .filter((c: { message_type: string }) => c.message_type === 'assistant_message')
        .map((c: { content: string }) => c.content),
    ).toEqual(['First.', 'Second.']);
    expect(chunks.at(-1).run_ids).toHaveLength(2);
    // One numbering across the turns' chunks, in order.
    const seqIds = chunks
      .filter((c: { message_type: string }) => c.message_type !== 'ping')
      .map((c: { seq_id?: number }) => c.seq_id)
      .filter((id: number | undefined) => id !== undefined);
    expect(seqIds).toEqual([...seqIds].sort((a: number, b: number) => a - b));
    expect(new Set(seqIds).size).toBe(seqIds.length);
  });

  it('refuses a bad group config or a group that cannot be messaged with a clear 4xx', async () => {
    const client = h.server.client;
    const agent = await client.agents.create({ name: 'solo', model });
    const ghost = 'agent-00000000-0000-4000-8000-000000000000';
    const create = (body: unknown) => http('POST', url('/groups/'), body);
    expect((await create({ agent_ids: [ghost], description: 'x' })).status).toBe(404);
    expect(
      (await create({ agent_ids: [agent.id], description: 'x', manager_config: { manager_type: 'supervisor' } }))
        .status,
    ).toBe(422);
    expect(
      (
        await create({
          agent_ids: [agent.id],
          description: 'x',
          manager_config: { manager_type: 'round_robin', max_turns: 0 },
        })
      ).status,
    ).toBe(422);
    const empty = (await create({ agent_ids: [], description: 'nobody' })).body as { id: string };
    const refused = await http('POST', url(`/groups/${empty.id}/messages`), { input: 'hello?' });
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toContain('Empty group');
    const missing = await http('POST', url('/groups/group-00000000-0000-4000-8000-000000000000/messages'), {
      input: 'hi',
    });
    expect(missing.status).toBe(404);
    const sleepy = await client.agents.create({ name: 'sleepy', model, enable_sleeptime: true });
    const sleeptimeGroup = sleepy.multi_agent_group as { id: string };
    const sleeptime = await http('POST', url(`/groups/${sleeptimeGroup.id}/messages`), { input: 'hi' });
    expect(sleeptime.status).toBe(400);
    expect((await http('POST', url(`/groups/${empty.id}/messages`), {})).status).toBe(422);
  });
});
