import { describe, expect, it } from 'vitest';
import { testDialects } from '../support/cairn.js';
import { http } from '../support/http.js';
import { json, readSse } from '../support/sse.js';
import { useRuntime, waitFor } from './harness.js';

describe.each(testDialects())('conversations [%s]', (dialect) => {
  const h = useRuntime(dialect);

  it('creates, lists, updates and soft-deletes conversations; each has its own compiled system message', async () => {
    const agent = await h.server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      memory_blocks: [{ label: 'human', value: 'Ada' }],
    });
    const created = await http('POST', `${h.server.baseURL}/v1/conversations/?agent_id=${agent.id}`, {});
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^conv-[0-9a-f-]{36}$/), agent_id: agent.id });
    const conv = await h.server.client.conversations.retrieve(created.body.id);
    expect(conv.in_context_message_ids).toHaveLength(1);
    const system = (
      await h.server.client.conversations.messages.list(conv.id, { order: 'asc' })
    ).getPaginatedItems()[0] as { message_type: string; content: string };
    expect(system.message_type).toBe('system_message');
    expect(system.content).toContain(`- CONVERSATION_ID: ${conv.id}`);

    const second = await h.server.client.conversations.create({ agent_id: agent.id, summary: 'second thread' });
    const listed = await h.server.client.conversations.list({ agent_id: agent.id });
    expect(listed.map((c) => c.id)).toEqual([second.id, conv.id]);
    const updated = await h.server.client.conversations.update(second.id, { summary: 'renamed' });
    expect(updated.summary).toBe('renamed');
    await h.server.client.conversations.delete(second.id);
    expect((await http('GET', `${h.server.baseURL}/v1/conversations/${second.id}`)).status).toBe(404);
    expect(
      (await http('GET', `${h.server.baseURL}/v1/conversations/conv-00000000-0000-4000-8000-000000000000`)).status,
    ).toBe(404);
    expect(
      (
        await http(
          'POST',
          `${h.server.baseURL}/v1/conversations/?agent_id=agent-00000000-0000-4000-8000-000000000000`,
          {},
        )
      ).status,
    ).toBe(404);

    // A block edit recompiles every live thread of the agent.
    await h.server.client.agents.blocks.update('human', { agent_id: agent.id, value: 'Ada Lovelace' });
    const recompiled = (
      await h.server.client.conversations.messages.list(conv.id, { order: 'asc' })
    ).getPaginatedItems()[0] as { content: string };
    expect(recompiled.content).toContain('<value>\nAda Lovelace\n</value>');
  });

  it('sends into a conversation over SSE (always SSE for the SDK), keeping threads apart', async () => {
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini' });
    const conv = await h.server.client.conversations.create({ agent_id: agent.id });
    h.llm.script({ text: 'in the conversation' });
    const stream = await h.server.client.conversations.messages.create(conv.id, {
      messages: [{ role: 'user', content: 'hello conv' }],
    });
    const chunks: any[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks[0]).toMatchObject({ message_type: 'ping', run_id: expect.stringMatching(/^run-/) });
    expect(chunks.find((c) => c.message_type === 'assistant_message')?.content).toBe('in the conversation');
    const convMessages = (await h.server.client.conversations.messages.list(conv.id)).getPaginatedItems();
    expect(convMessages.map((m) => m.message_type)).toEqual(['system_message', 'user_message', 'assistant_message']);
    expect((await h.server.client.agents.retrieve(agent.id)).message_ids).toHaveLength(1);
    const run = (await h.server.client.runs.list({ conversation_id: conv.id })).getPaginatedItems();
    expect(run).toHaveLength(1);
    expect(run[0]!.conversation_id).toBe(conv.id);

    // The model of the conversation saw only this thread.
    const sent = h.llm.calls[0]!.body.messages as { role: string }[];
    expect(sent.map((m) => m.role)).toEqual(['system', 'user']);
  });

  it("addresses the agent's default conversation with agent_id in the body (Letta Code's interactive path)", async () => {
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini' });
    h.llm.script({ text: 'default thread reply' });
    const { status, contentType, frames } = await readSse(`${h.server.baseURL}/v1/conversations/default/messages`, {
      agent_id: agent.id,
      messages: [
        {
          type: 'message',
          role: 'user',
          content: [{ type: 'text', text: 'hi' }],
          otid: '1b7a6f8e-1111-4222-8333-444455556666',
        },
      ],
      streaming: true,
      stream_tokens: true,
      include_pings: true,
      background: true,
    });
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/event-stream/);
    expect(frames.map((f) => (f.data === '[DONE]' ? '[DONE]' : json(f).message_type)).slice(-3)).toEqual([
      'stop_reason',
      'usage_statistics',
      '[DONE]',
    ]);
    const listed = await http(
      'GET',
      `${h.server.baseURL}/v1/agents/${agent.id}/messages?limit=50&order=desc&conversation_id=default&include_return_message_types=user_message&include_return_message_types=assistant_message`,
    );
    expect(listed.body.map((m: { message_type: string }) => m.message_type)).toEqual([
      'user_message',
      'assistant_message',
    ]);
    expect(listed.body[0].otid).toBe('1b7a6f8e-1111-4222-8333-444455556666');
    const noAgent = await http('POST', `${h.server.baseURL}/v1/conversations/default/messages`, { input: 'x' });
    expect(noAgent.status).toBe(400);
  });

  it('cancels, resumes, forks and compacts conversations', async () => {
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini' });
    const conv = await h.server.client.conversations.create({ agent_id: agent.id });
    const cancelNothing = await http('POST', `${h.server.baseURL}/v1/conversations/${conv.id}/cancel`);
    expect(cancelNothing.status).toBe(409);

    h.llm.script({ text: 'slow reply', delayMs: 300 });
    const started = fetch(`${h.server.baseURL}/v1/conversations/${conv.id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'first', background: true }),
    }).then((r) => r.text());
    await waitFor(async () => (h.llm.calls.length === 1 ? true : undefined));
    const resumed = await h.server.client.conversations.messages.stream(conv.id, { starting_after: 0 } as never);
    const chunks: any[] = [];
    for await (const c of resumed) chunks.push(c);
    expect(chunks.filter((c) => c.message_type !== 'ping').map((c) => c.message_type)).toEqual([
      'assistant_message',
      'stop_reason',
      'usage_statistics',
    ]);
    await started;

    h.llm.script({ text: 'second reply' });
    const s2 = await h.server.client.conversations.messages.create(conv.id, { input: 'second' });
    for await (const _ of s2) void _;
    const forked = await h.server.client.conversations.fork(conv.id, { agent_id: agent.id });
    expect(forked.id).not.toBe(conv.id);
    const forkedMessages = (await h.server.client.conversations.messages.list(forked.id)).getPaginatedItems();
    expect(forkedMessages.map((m) => m.message_type)).toEqual([
      'system_message',
      'user_message',
      'assistant_message',
      'user_message',
      'assistant_message',
    ]);

    h.llm.script({ text: 'Summary: the user said first and second.' });
    const compacted = await h.server.client.conversations.messages.compact(conv.id, { agent_id: agent.id } as never);
    expect(compacted).toMatchObject({ num_messages_before: 5, summary: 'Summary: the user said first and second.' });
    const after = await h.server.client.conversations.retrieve(conv.id);
    expect(after.in_context_message_ids?.length).toBe(compacted.num_messages_after);
    // Evicted messages stay listable.
    expect(
      (await h.server.client.conversations.messages.list(conv.id)).getPaginatedItems().length,
    ).toBeGreaterThanOrEqual(6);
  });
});
