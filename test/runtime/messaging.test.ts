import { describe, expect, it } from 'vitest';
import { testDialects } from '../support/cairn.js';
import { http } from '../support/http.js';
import { useRuntime } from './harness.js';

describe.each(testDialects())('agent loop and messaging [%s]', (dialect) => {
  const h = useRuntime(dialect);

  const systemText = async (agentId: string) => {
    const messages = await h.server.client.agents.messages.list(agentId, { order: 'asc', limit: 1 });
    const first = messages.getPaginatedItems()[0] as { message_type: string; content: string };
    expect(first.message_type).toBe('system_message');
    return first.content;
  };

  it('stores the compiled system prompt as message 0 at creation', async () => {
    const agent = await h.server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      memory_blocks: [
        { label: 'human', value: 'Name: Ada', limit: 500 },
        { label: 'persona', value: 'Helpful.', read_only: true },
      ],
    });
    expect(agent.message_ids).toHaveLength(1);
    const text = await systemText(agent.id);
    expect(text).toContain('<base_instructions>');
    expect(text).toContain(
      '<memory_blocks>\nThe following memory blocks are currently engaged in your core memory unit:\n\n<human>\n<description>\n' +
        'The human block: Stores key details about the person you are conversing with, allowing for more personalized and friend-like conversation.\n' +
        '</description>\n<metadata>\n- chars_current=9\n- chars_limit=500\n</metadata>\n<value>\nName: Ada\n</value>\n</human>',
    );
    expect(text).toContain('<persona>\n<description>');
    expect(text).toContain('<metadata>\n- read_only=true\n- chars_current=8');
    expect(text).toMatch(
      /<memory_metadata>\n- AGENT_ID: agent-[0-9a-f-]+\n- CONVERSATION_ID: default\n- System prompt last recompiled: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d (AM|PM) UTC\+0000\n- 0 previous messages between you and the user are stored in recall memory\n<\/memory_metadata>$/,
    );
  });

  it('gives memgpt agents the boot sequence and honours initial_message_sequence', async () => {
    const memgpt = await h.server.client.agents.create({ agent_type: 'memgpt_v2_agent', model: 'openai/gpt-4o-mini' });
    expect(memgpt.message_ids).toHaveLength(4);
    const listed = (await h.server.client.agents.messages.list(memgpt.id, { order: 'asc' }))
      .getPaginatedItems()
      .map((m) => m.message_type);
    expect(listed).toEqual(['system_message', 'reasoning_message', 'assistant_message', 'user_message']);
    const custom = await h.server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      initial_message_sequence: [{ role: 'user', content: 'hello there' }],
    });
    expect(custom.message_ids).toHaveLength(2);
  });

  it('runs a memory edit turn: the shared block changes, prompts recompile, the model sees Letta’s tool return', async () => {
    const shared = await h.server.client.blocks.create({ label: 'human', value: 'Name: Ada' });
    const a = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini', block_ids: [shared.id] });
    const b = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini', block_ids: [shared.id] });
    h.llm.script(
      {
        toolCalls: [
          { name: 'memory_replace', arguments: { label: 'human', old_string: 'Ada', new_string: 'Ada Lovelace' } },
        ],
        usage: { prompt: 500, completion: 20 },
      },
      { text: 'Noted, Ada Lovelace.', usage: { prompt: 600, completion: 8 } },
    );
    const response = await h.server.client.agents.messages.create(a.id, {
      messages: [{ role: 'user', content: 'My full name is Ada Lovelace' }],
    });
    expect(response.stop_reason.stop_reason).toBe('end_turn');
    expect(response.messages.map((m) => m.message_type)).toEqual([
      'tool_call_message',
      'tool_return_message',
      'assistant_message',
    ]);
    const ret = response.messages[1] as { tool_return: string; status: string };
    expect(ret.status).toBe('success');
    expect(ret.tool_return).toContain('The core memory block with label `human` has been successfully edited.');
    expect(response.usage).toMatchObject({
      message_type: 'usage_statistics',
      prompt_tokens: 1100,
      completion_tokens: 28,
      total_tokens: 1128,
      step_count: 2,
    });

    // The second request carried the tool result as Letta packs it, and the same (not yet recompiled) system text.
    const second = h.llm.calls[1]!;
    const toolMessage = second.body.messages.find((m: { role: string }) => m.role === 'tool') as { content: string };
    expect(JSON.parse(toolMessage.content)).toMatchObject({
      status: 'OK',
      message: expect.stringContaining('successfully edited'),
    });
    expect(toolMessage.content).toMatch(/^\{\n {2}"status": "OK",\n {2}"message": /);
    expect(second.body.messages[0].content).toContain('Name: Ada\n');
    expect(h.llm.calls[0]!.body.tools.map((t: { function: { name: string } }) => t.function.name).sort()).toEqual([
      'conversation_search',
      'memory_insert',
      'memory_replace',
    ]);

    expect((await h.server.client.blocks.retrieve(shared.id)).value).toBe('Name: Ada Lovelace');
    expect(await systemText(a.id)).toContain('<value>\nName: Ada Lovelace\n</value>');
    expect(await systemText(b.id)).toContain('<value>\nName: Ada Lovelace\n</value>');

    const listed = (await h.server.client.agents.messages.list(a.id, { limit: 10 })).getPaginatedItems();
    expect(listed.map((m) => m.message_type)).toEqual([
      'system_message',
      'user_message',
      'tool_call_message',
      'tool_return_message',
      'assistant_message',
    ]);
    expect((await h.server.client.agents.retrieve(a.id)).message_ids).toHaveLength(5);
  });

  it('recompiles on an API block edit, skips when unchanged, and serves recompile and context', async () => {
    const agent = await h.server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      memory_blocks: [{ label: 'human', value: 'v1' }],
    });
    await h.server.client.agents.blocks.update('human', { agent_id: agent.id, value: 'v2' });
    expect(await systemText(agent.id)).toContain('<value>\nv2\n</value>');
    const before = await systemText(agent.id);
    await h.server.client.agents.blocks.update('human', { agent_id: agent.id, metadata: { x: 1 } } as never);
    expect(await systemText(agent.id)).toBe(before);
    const recompiled = await h.server.client.agents.recompile(agent.id);
    expect(recompiled).toContain('<value>\nv2\n</value>');
    const raw = await http('POST', `${h.server.baseURL}/v1/agents/${agent.id}/recompile`);
    expect(raw.headers.get('content-type')).toMatch(/^application\/json/);
    expect(raw.body).toContain('<value>\nv2\n</value>');
    const context = await http('GET', `${h.server.baseURL}/v1/agents/${agent.id}/context`);
    expect(context.status).toBe(200);
    expect(context.body).toMatchObject({ context_window_size_max: 128000, num_messages: 1, num_recall_memory: 0 });
    expect(context.body.core_memory).toContain('<human>');
  });

  it('reports tool errors with Letta’s texts and refuses read-only edits', async () => {
    const agent = await h.server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      memory_blocks: [
        { label: 'persona', value: 'fixed', read_only: true },
        { label: 'human', value: 'a\nb' },
      ],
    });
    h.llm.script(
      {
        toolCalls: [
          { name: 'memory_replace', arguments: { label: 'persona', old_string: 'fixed', new_string: 'x' } },
          { name: 'memory_insert', arguments: { label: 'human', new_string: 'c', insert_line: 9 } },
          { name: 'memory_replace', arguments: { label: 'nope', old_string: 'a', new_string: 'b' } },
        ],
      },
      { text: 'done' },
    );
    const response = await h.server.client.agents.messages.create(agent.id, { input: 'edit' });
    const returns = response.messages.filter((m) => m.message_type === 'tool_return_message') as unknown as {
      status: string;
      tool_return: string;
    }[];
    expect(returns.map((r) => r.status)).toEqual(['error', 'error', 'error']);
    expect(returns[0]!.tool_return).toBe('Error This block is read-only and cannot be edited.');
    expect(returns[1]!.tool_return).toBe(
      'Invalid `insert_line` parameter: 9. It should be within the range of lines of the memory block: [0, 2], or -1 to append to the end of the memory block.',
    );
    expect(returns[2]!.tool_return).toBe('Block field nope does not exist (available sections = persona, human)');
    const toolMsg = h.llm.calls[1]!.body.messages.find((m: { role: string }) => m.role === 'tool') as {
      content: string;
    };
    expect(JSON.parse(toolMsg.content).status).toBe('Failed');
  });

  it('records runs and steps for every send', async () => {
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini' });
    h.llm.script({ text: 'hello', usage: { prompt: 100, completion: 10 } });
    await h.server.client.agents.messages.create(agent.id, { input: 'hi' });
    const runs = (await h.server.client.runs.list({ agent_id: agent.id })).getPaginatedItems();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      agent_id: agent.id,
      status: 'completed',
      stop_reason: 'end_turn',
      background: false,
    });
    const steps = (await h.server.client.runs.steps.list(runs[0]!.id)).getPaginatedItems();
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({
      run_id: runs[0]!.id,
      prompt_tokens: 100,
      completion_tokens: 10,
      status: 'success',
    });
    expect(await h.server.client.runs.usage.retrieve(runs[0]!.id)).toMatchObject({ total_tokens: 110 });
    const runMessages = (await h.server.client.runs.messages.list(runs[0]!.id)).getPaginatedItems();
    expect(runMessages.map((m) => m.message_type)).toEqual(['user_message', 'assistant_message']);
    const one = await http('GET', `${h.server.baseURL}/v1/messages/${runMessages[1]!.id}`);
    expect(one.body).toEqual([expect.objectContaining({ message_type: 'assistant_message', content: 'hello' })]);
  });

  it('stops at max_steps and on a terminal rule; enforces child rules', async () => {
    const agent = await h.server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      memory_blocks: [{ label: 'human', value: 'x' }],
      tool_rules: [
        { type: 'constrain_child_tools', tool_name: 'memory_insert', children: ['conversation_search'] },
        { type: 'exit_loop', tool_name: 'conversation_search' },
      ],
    });
    h.llm.script(
      { toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: 'y' } }] },
      { toolCalls: [{ name: 'conversation_search', arguments: { query: 'zzz' } }] },
    );
    const response = await h.server.client.agents.messages.create(agent.id, { input: 'go' });
    expect(response.stop_reason.stop_reason).toBe('tool_rule');
    expect(h.llm.calls[1]!.body.tool_choice).toEqual({ type: 'function', function: { name: 'conversation_search' } });
    expect(h.llm.calls[1]!.body.tools.map((t: { function: { name: string } }) => t.function.name)).toEqual([
      'conversation_search',
    ]);
    expect(await systemText(agent.id)).toContain('<tool_usage_rules>');

    h.llm.script(
      { toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: 'z' } }] },
      { toolCalls: [{ name: 'conversation_search', arguments: {} }] },
    );
    const limited = await h.server.client.agents.messages.create(agent.id, { input: 'again', max_steps: 1 });
    expect(limited.stop_reason.stop_reason).toBe('max_steps');
  });

  it('keeps the loop going until a required_before_exit tool was called', async () => {
    const agent = await h.server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      tool_rules: [{ type: 'required_before_exit', tool_name: 'conversation_search' }],
    });
    h.llm.script(
      { text: 'bye' },
      { toolCalls: [{ name: 'conversation_search', arguments: { query: 'x' } }] },
      { text: 'now bye' },
    );
    const response = await h.server.client.agents.messages.create(agent.id, { input: 'hi' });
    expect(response.stop_reason.stop_reason).toBe('end_turn');
    expect(response.usage.step_count).toBe(3);
    const nudge = (h.llm.calls[1]!.body.messages as { role: string; content: string }[]).at(-1)!;
    expect(nudge).toEqual({
      role: 'user',
      content:
        '[This is an automated system message hidden from the user] ToolRuleViolated: You must call conversation_search at least once to exit the loop.',
    });
  });

  it('lists with Letta’s ordering quirk and include_return_message_types, and resets', async () => {
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini' });
    h.llm.script({ text: 'one' }, { text: 'two' });
    await h.server.client.agents.messages.create(agent.id, { input: 'first' });
    await h.server.client.agents.messages.create(agent.id, { input: 'second' });
    const newest = (await h.server.client.agents.messages.list(agent.id, { limit: 1 })).getPaginatedItems();
    expect(newest).toEqual([expect.objectContaining({ message_type: 'assistant_message', content: 'two' })]);
    const lastThree = (
      await h.server.client.agents.messages.list(agent.id, { limit: 3, order: 'desc' })
    ).getPaginatedItems();
    expect(lastThree.map((m) => (m as { content: string }).content)).toEqual(['one', 'second', 'two']);
    const users = (
      await h.server.client.agents.messages.list(agent.id, { include_return_message_types: ['user_message'] })
    ).getPaginatedItems();
    expect(users.map((m) => (m as { content: string }).content)).toEqual(['first', 'second']);
    const reset = await http(
      'PATCH',
      `${h.server.baseURL}/v1/agents/${agent.id}/reset-messages`,
      {},
      { 'x-stainless-package-version': '1.12.1' },
    );
    expect(reset.status).toBe(200);
    expect(reset.body).toBeNull();
    expect((await h.server.client.agents.retrieve(agent.id)).message_ids).toHaveLength(1);
  });

  it('runs memgpt_v2 agents with request_heartbeat: send_message speaks, heartbeats chain tools', async () => {
    const agent = await h.server.client.agents.create({
      agent_type: 'memgpt_v2_agent',
      model: 'openai/gpt-4o-mini',
      memory_blocks: [{ label: 'human', value: 'x' }],
    });
    h.llm.script(
      {
        text: 'I should note this.',
        toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: 'y', request_heartbeat: true } }],
      },
      { toolCalls: [{ name: 'send_message', arguments: { message: 'Done, noted.' } }] },
    );
    const response = await h.server.client.agents.messages.create(agent.id, { input: 'note y' });
    expect(response.stop_reason.stop_reason).toBe('end_turn');
    expect(response.messages.map((m) => m.message_type)).toEqual([
      'reasoning_message',
      'tool_call_message',
      'tool_return_message',
      'assistant_message',
    ]);
    expect(response.messages.at(-1)).toMatchObject({ content: 'Done, noted.' });
    const tools = h.llm.calls[0]!.body.tools as { function: { name: string; parameters: { required: string[] } } }[];
    expect(tools.find((t) => t.function.name === 'memory_insert')!.function.parameters.required).toContain(
      'request_heartbeat',
    );
    expect(h.llm.calls[0]!.body.tool_choice).toBe('required');
    const heartbeat = (h.llm.calls[1]!.body.messages as { role: string; content: string }[]).at(-1)!;
    expect(heartbeat.role).toBe('user');
    expect(JSON.parse(heartbeat.content)).toMatchObject({
      type: 'heartbeat',
      reason:
        '[This is an automated system message hidden from the user] Function called using request_heartbeat=true, returning control',
    });
  });

  it('generates a raw completion without touching memory (POST /agents/{id}/generate)', async () => {
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini' });
    h.llm.script(
      { text: 'A haiku.', usage: { prompt: 12, completion: 3 } },
      { toolCalls: [{ name: 'structured_response', arguments: { answer: 42 } }] },
    );
    const plain = await http('POST', `${h.server.baseURL}/v1/agents/${agent.id}/generate`, {
      prompt: 'Write a haiku',
      system_prompt: 'Be brief.',
    });
    expect(plain.status).toBe(200);
    expect(plain.body).toMatchObject({
      content: 'A haiku.',
      model: expect.any(String),
      usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
    });
    expect(h.llm.calls[0]!.body.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Write a haiku' },
    ]);
    const structured = await http('POST', `${h.server.baseURL}/v1/agents/${agent.id}/generate`, {
      prompt: 'answer',
      response_schema: { type: 'object', properties: { answer: { type: 'integer' } } },
    });
    expect(JSON.parse(structured.body.content)).toEqual({ answer: 42 });
    expect((await h.server.client.agents.retrieve(agent.id)).message_ids).toHaveLength(1);
    expect((await http('POST', `${h.server.baseURL}/v1/agents/${agent.id}/generate`, { prompt: '' })).status).toBe(422);
  });

  it('answers bad input with 4xx, never 500', async () => {
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini' });
    const url = `${h.server.baseURL}/v1/agents/${agent.id}/messages`;
    expect((await http('POST', url, {})).status).toBe(422);
    expect((await http('POST', url, { input: 'x', messages: [{ role: 'user', content: 'y' }] })).status).toBe(422);
    expect((await http('POST', url, { input: 'x', stream_tokens: true })).status).toBe(422);
    expect((await http('POST', url, { messages: [{ role: 'robot', content: 'y' }] })).status).toBe(422);
    expect(
      (
        await http('POST', `${h.server.baseURL}/v1/agents/agent-00000000-0000-4000-8000-000000000000/messages`, {
          input: 'x',
        })
      ).status,
    ).toBe(404);
    expect((await http('GET', `${h.server.baseURL}/v1/runs/run-00000000-0000-4000-8000-000000000000`)).status).toBe(
      404,
    );
    // Checked under the thread's turn lock: a refused send leaves no lock and no run behind.
    const stray = await http('POST', url, {
      messages: [{ type: 'approval', approval_request_id: 'call-nope', approve: true }],
    });
    expect(stray.status).toBe(400);
    expect(stray.body.detail).toContain('No tool call is currently awaiting approval');
    const elsewhere = await h.server.client.agents.create({ model: 'nowhere/some-model' });
    expect(
      (await http('POST', `${h.server.baseURL}/v1/agents/${elsewhere.id}/messages`, { input: 'x' })).status,
    ).toBeGreaterThanOrEqual(400);
    h.llm.script({ text: 'still here' });
    const after = await http('POST', url, { input: 'hello' });
    expect(after.status).toBe(200);
    expect((await http('GET', `${h.server.baseURL}/v1/runs/?agent_id=${agent.id}`)).body).toHaveLength(1);
    expect((await http('GET', `${h.server.baseURL}/v1/runs/?agent_id=${elsewhere.id}`)).body).toHaveLength(0);
  });
});
