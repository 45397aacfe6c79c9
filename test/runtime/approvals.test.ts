import { describe, expect, it } from 'vitest';
import { testDialects } from '../support/cairn.js';
import { http } from '../support/http.js';
import { json, readSse } from '../support/sse.js';
import { useRuntime } from './harness.js';

const execTool = {
  name: 'exec_command',
  description: 'Run a shell command',
  parameters: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'] },
};

describe.each(testDialects())('approvals and client-side tools [%s]', (dialect) => {
  const h = useRuntime(dialect);

  it('stops for approval, refuses a normal message with 409 PENDING_APPROVAL, then runs the approved call and continues', async () => {
    const agent = await h.server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      memory_blocks: [{ label: 'human', value: 'Name: Ada' }],
      tool_rules: [{ type: 'requires_approval', tool_name: 'memory_insert' }],
    });
    h.llm.script({
      toolCalls: [{ id: 'call_a1', name: 'memory_insert', arguments: { label: 'human', new_string: 'likes tea' } }],
    });
    const first = await h.server.client.agents.messages.create(agent.id, { input: 'remember I like tea' });
    expect(first.stop_reason.stop_reason).toBe('requires_approval');
    const request = first.messages.at(-1) as {
      message_type: string;
      tool_call: { tool_call_id: string; name: string };
    };
    expect(request).toMatchObject({
      message_type: 'approval_request_message',
      tool_call: { tool_call_id: 'call_a1', name: 'memory_insert' },
    });
    const run = (await h.server.client.runs.list({ agent_id: agent.id })).getPaginatedItems()[0]!;
    expect(run).toMatchObject({ status: 'completed', stop_reason: 'requires_approval' });

    const withPending = await h.server.client.agents.retrieve(agent.id, { include: ['agent.pending_approval'] });
    expect(withPending.pending_approval).toMatchObject({
      message_type: 'approval_request_message',
      tool_call: { tool_call_id: 'call_a1' },
    });
    expect((await h.server.client.agents.retrieve(agent.id)).pending_approval ?? null).toBeNull();

    const blocked = await http('POST', `${h.server.baseURL}/v1/agents/${agent.id}/messages`, { input: 'hello?' });
    expect(blocked.status).toBe(409);
    expect(blocked.body.detail).toMatchObject({
      code: 'PENDING_APPROVAL',
      pending_request_id: expect.stringMatching(/^message-/),
    });
    expect(blocked.body.detail.message).toContain('waiting for approval');

    const wrong = await http('POST', `${h.server.baseURL}/v1/agents/${agent.id}/messages`, {
      messages: [{ type: 'approval', approvals: [{ type: 'approval', tool_call_id: 'call_zz', approve: true }] }],
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.detail.toLowerCase()).toContain('invalid tool call ids');

    h.llm.script({ text: 'Saved that you like tea.' });
    const second = await h.server.client.agents.messages.create(agent.id, {
      messages: [{ type: 'approval', approvals: [{ type: 'approval', tool_call_id: 'call_a1', approve: true }] }],
    });
    expect(second.stop_reason.stop_reason).toBe('end_turn');
    expect(second.messages.map((m) => m.message_type)).toEqual(['tool_return_message', 'assistant_message']);
    expect(
      ((await h.server.client.agents.blocks.retrieve('human', { agent_id: agent.id })) as { value: string }).value,
    ).toBe('Name: Ada\nlikes tea');
    const sent = h.llm.calls[1]!.body.messages as {
      role: string;
      tool_calls?: { id: string }[];
      tool_call_id?: string;
    }[];
    const callIndex = sent.findIndex((m) => m.role === 'assistant' && m.tool_calls?.[0]?.id === 'call_a1');
    expect(sent[callIndex + 1]).toMatchObject({ role: 'tool', tool_call_id: 'call_a1' });

    const listed = (await h.server.client.agents.messages.list(agent.id, { limit: 20 }))
      .getPaginatedItems()
      .map((m) => m.message_type);
    expect(listed).toEqual([
      'system_message',
      'user_message',
      'approval_request_message',
      'approval_response_message',
      'tool_return_message',
      'assistant_message',
    ]);

    // The same approval again: nothing is pending and it was already answered, so it is an idempotent retry.
    h.llm.script({ text: 'Still here.' });
    const retry = await h.server.client.agents.messages.create(agent.id, {
      messages: [{ type: 'approval', approvals: [{ type: 'approval', tool_call_id: 'call_a1', approve: true }] }],
    });
    expect(retry.stop_reason.stop_reason).toBe('end_turn');
    const ping = (h.llm.calls[2]!.body.messages as { role: string; content: string }[]).at(-1)!;
    expect(ping).toMatchObject({
      role: 'user',
      content:
        '<system-alert>Automated keep-alive ping. Ignore this message and continue from where you stopped.</system-alert>',
    });
    const nothing = await http('POST', `${h.server.baseURL}/v1/agents/${agent.id}/messages`, {
      messages: [{ type: 'approval', approvals: [{ type: 'approval', tool_call_id: 'call_never', approve: true }] }],
    });
    expect(nothing.status).toBe(400);
    expect(nothing.body.detail).toBe('Cannot process approval response: No tool call is currently awaiting approval.');
  });

  it('turns a denial into an error tool return and resumes the loop', async () => {
    const agent = await h.server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      memory_blocks: [{ label: 'human', value: 'x' }],
      tool_rules: [{ type: 'requires_approval', tool_name: 'memory_insert' }],
    });
    h.llm.script(
      { toolCalls: [{ id: 'call_d1', name: 'memory_insert', arguments: { label: 'human', new_string: 'y' } }] },
      { text: 'OK, I will not.' },
    );
    await h.server.client.agents.messages.create(agent.id, { input: 'edit' });
    const denied = await h.server.client.agents.messages.create(agent.id, {
      messages: [
        {
          type: 'approval',
          approvals: [{ type: 'approval', tool_call_id: 'call_d1', approve: false, reason: 'not now' }],
        },
      ],
    });
    expect(denied.stop_reason.stop_reason).toBe('end_turn');
    expect(denied.messages[0]).toMatchObject({
      message_type: 'tool_return_message',
      status: 'error',
      tool_return: 'Error: request to call tool denied. User reason: not now',
    });
    expect(
      ((await h.server.client.agents.blocks.retrieve('human', { agent_id: agent.id })) as { value: string }).value,
    ).toBe('x');
  });

  it('cancelling while an approval is pending answers it with the cancellation denial, keeping the history valid', async () => {
    const agent = await h.server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      memory_blocks: [{ label: 'human', value: 'x' }],
      tool_rules: [{ type: 'requires_approval', tool_name: 'memory_insert' }],
    });
    h.llm.script(
      { toolCalls: [{ id: 'call_x1', name: 'memory_insert', arguments: { label: 'human', new_string: 'y' } }] },
      { text: 'fresh start' },
    );
    const first = await h.server.client.agents.messages.create(agent.id, { input: 'edit' });
    expect(first.stop_reason.stop_reason).toBe('requires_approval');
    const run = (await h.server.client.runs.list({ agent_id: agent.id })).getPaginatedItems()[0]!;
    expect(await h.server.client.agents.messages.cancel(agent.id)).toEqual({ [run.id]: 'cancelled' });
    const listed = (await h.server.client.agents.messages.list(agent.id, { limit: 10 })).getPaginatedItems();
    expect(listed.at(-1)).toMatchObject({
      message_type: 'tool_return_message',
      status: 'error',
      tool_return: 'The user cancelled the request, so the tool call was denied.',
    });
    // The thread accepts normal messages again, and the model sees a complete call/return pair.
    const next = await h.server.client.agents.messages.create(agent.id, { input: 'never mind' });
    expect(next.stop_reason.stop_reason).toBe('end_turn');
    const sent = h.llm.calls[1]!.body.messages as { role: string; tool_call_id?: string }[];
    expect(sent.filter((m) => m.role === 'tool').map((m) => m.tool_call_id)).toEqual(['call_x1']);
  });

  it('round-trips client-side tools over SSE, as Letta Code does (approval_request_message, then type tool / tool_return)', async () => {
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini', include_base_tools: false });
    h.llm.script({ toolCalls: [{ id: 'call_c1', name: 'exec_command', arguments: { cmd: 'echo ok' } }] });
    const url = `${h.server.baseURL}/v1/agents/${agent.id}/messages`;
    const first = await readSse(url, {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'run echo' }] }],
      streaming: true,
      stream_tokens: true,
      client_tools: [execTool],
    });
    const chunks = first.frames.filter((f) => f.data !== '[DONE]').map(json);
    const approval = chunks.filter((c) => c.message_type === 'approval_request_message');
    expect(approval.length).toBeGreaterThan(0);
    expect(approval.map((c) => c.tool_call.arguments ?? '').join('')).toBe('{"cmd":"echo ok"}');
    expect(approval[0].tool_call).toMatchObject({ name: 'exec_command', tool_call_id: 'call_c1' });
    expect(chunks.at(-2)).toMatchObject({ message_type: 'stop_reason', stop_reason: 'requires_approval' });
    expect(h.llm.calls[0]!.body.tools.map((t: { function: { name: string } }) => t.function.name)).toEqual([
      'exec_command',
    ]);

    h.llm.script(
      { toolCalls: [{ id: 'call_c2', name: 'exec_command', arguments: { cmd: 'ls' } }] },
      { text: 'The command printed ok.' },
    );
    const big = 'x'.repeat(120_000);
    const second = await readSse(url, {
      messages: [
        {
          type: 'approval',
          approvals: [{ type: 'tool', tool_call_id: 'call_c1', tool_return: `ok\n${big}`, status: 'success' }],
        },
      ],
      streaming: true,
      client_tools: [execTool],
    });
    expect(second.frames.map((f) => (f.data === '[DONE]' ? '[DONE]' : json(f).message_type)).slice(-3)).toEqual([
      'stop_reason',
      'usage_statistics',
      '[DONE]',
    ]);
    // Client returns are clipped to max(5000, 0.2 × window × 4) characters = 102,400 for 128k.
    const toolMsg = (h.llm.calls[1]!.body.messages as { role: string; content: string }[]).find(
      (m) => m.role === 'tool',
    )!;
    expect(toolMsg.content.length).toBeLessThan(103_000);
    expect(JSON.parse(toolMsg.content).message.startsWith('ok\nxxx')).toBe(true);

    const third = await h.server.client.agents.messages.create(agent.id, {
      messages: [
        { type: 'tool_return', tool_returns: [{ tool_call_id: 'call_c2', status: 'success', tool_return: 'a.txt' }] },
      ],
      client_tools: [execTool],
    } as never);
    expect((third as { stop_reason: { stop_reason: string } }).stop_reason.stop_reason).toBe('end_turn');
  });
});
