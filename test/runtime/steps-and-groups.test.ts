import { describe, expect, it } from 'vitest';
import { testDialects } from '../support/cairn.js';
import { http } from '../support/http.js';
import { useRuntime, waitFor } from './harness.js';

describe.each(testDialects())('steps, runs, jobs and groups [%s]', (dialect) => {
  const h = useRuntime(dialect);
  const url = (path: string) => `${h.server.baseURL}/v1${path}`;

  it('serves /v1/steps, run metrics, trace and active runs from the steps the loop stores', async () => {
    const client = h.server.client;
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    h.llm.script(
      { toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_str: 'likes tea' } }] },
      { text: 'Noted.' },
    );
    const reply = await client.agents.messages.create(agent.id, { input: 'I like tea' });
    const runId = reply.usage.run_ids?.[0] ?? (await client.runs.list({ agent_id: agent.id })).items[0]!.id;

    const steps = (await client.steps.list({ agent_id: agent.id })).items;
    expect(steps).toHaveLength(2);
    expect(steps.every((s) => s.run_id === runId && s.agent_id === agent.id)).toBe(true);
    const [first] = [...steps].reverse(); // newest first by default
    expect((await client.steps.retrieve(first!.id)).id).toBe(first!.id);
    const stepMessages = (await client.steps.messages.list(first!.id)).getPaginatedItems();
    expect(stepMessages.map((m) => m.message_type)).toContain('tool_call_message');
    const metrics = await client.steps.metrics.retrieve(first!.id);
    expect(metrics).toMatchObject({ id: first!.id, run_id: runId });
    expect(metrics.step_ns).toBeGreaterThanOrEqual(0);
    expect(await client.steps.trace.retrieve(first!.id)).toBeNull();

    const rated = await client.steps.feedback.create(first!.id, { feedback: 'positive', tags: ['good'] });
    expect(rated).toMatchObject({ feedback: 'positive', tags: ['good'] });
    expect((await client.steps.list({ feedback: 'positive' })).items.map((s) => s.id)).toEqual([first!.id]);
    expect((await client.steps.list({ has_feedback: false, agent_id: agent.id })).items).toHaveLength(1);
    expect((await client.steps.list({ tags: ['good'] })).items).toHaveLength(1);
    expect((await http('PATCH', url(`/steps/${first!.id}/feedback`), { feedback: 'meh' })).status).toBe(422);
    expect((await http('GET', url('/steps/step-00000000-0000-4000-8000-000000000000'))).status).toBe(404);

    const runMetrics = (await http('GET', url(`/runs/${runId}/metrics`))).body;
    expect(runMetrics).toMatchObject({ id: runId, agent_id: agent.id, num_steps: 2 });
    const memoryInsert = agent.tools.find((t) => t.name === 'memory_insert')!;
    expect(runMetrics.tools_used).toEqual([memoryInsert.id]);
    expect(await client.runs.trace.retrieve(runId)).toEqual([]);
    const active = await http('GET', url('/runs/active'));
    expect(active.status).toBe(200);
    expect(active.body).toEqual([]);

    // Org-wide message list, Letta's retired message edit, jobs and the stored-message search.
    const all = (await http('GET', url('/messages/?limit=100'))).body as { id: string; message_type: string }[];
    expect(all.map((m) => m.message_type)).toContain('assistant_message');
    const messageId = all.find((m) => m.message_type === 'assistant_message')!.id;
    const edit = await http('PATCH', url(`/agents/${agent.id}/messages/${messageId}`), { content: 'x' });
    expect(edit.status).toBe(405);
    expect((await http('GET', url('/jobs/'))).body).toEqual([]);
    expect((await http('GET', url('/jobs/active'))).body).toEqual([]);
    expect((await http('GET', url('/jobs/job-00000000-0000-4000-8000-000000000000'))).status).toBe(404);
    const found = (await http('POST', url('/agents/messages/search'), { query: 'tea' })).body;
    expect(found[0]).toMatchObject({ embedded_text: 'I like tea', message: { role: 'user', agent_id: agent.id } });
  });

  it('enable_sleeptime builds a sleeptime group whose agent edits the shared block every fifth turn', async () => {
    const client = h.server.client;
    const primary = await client.agents.create({
      name: 'dreamer',
      model: 'openai/gpt-4o-mini',
      enable_sleeptime: true,
      memory_blocks: [{ label: 'human', value: 'Name: Ada' }],
    });
    const group = primary.multi_agent_group as { id: string; manager_type: string; agent_ids: string[] } | null;
    expect(group).toMatchObject({
      manager_type: 'sleeptime',
      manager_agent_id: primary.id,
      sleeptime_agent_frequency: 5,
    });
    expect(primary.managed_group).toEqual(group);
    expect(primary.tools.map((t) => t.name).sort()).toEqual([
      'archival_memory_search',
      'conversation_search',
      'send_message',
    ]);
    const sleeper = await client.agents.retrieve(group!.agent_ids[0]!, { include: ['agent.blocks', 'agent.tools'] });
    expect(sleeper).toMatchObject({ name: 'dreamer-sleeptime', agent_type: 'sleeptime_agent' });
    const human = primary.blocks.find((b) => b.label === 'human')!;
    expect(sleeper.blocks.map((b) => b.id)).toContain(human.id);
    expect(sleeper.blocks.map((b) => b.label)).toContain('memory_persona');
    expect(sleeper.tools.map((t) => t.name).sort()).toEqual([
      'memory_finish_edits',
      'memory_insert',
      'memory_replace',
      'memory_rethink',
    ]);

    // The sleeptime agent's reply, whenever it is asked: it is told it is one, and rewrites the shared block.
    h.llm.setDefault((request) => {
      const messages = request.body.messages as { role: string }[];
      const answered = messages.some((m) => m.role === 'tool');
      if (JSON.stringify(messages).includes('You are a sleeptime agent'))
        return answered
          ? { text: 'done' }
          : {
              toolCalls: [
                { name: 'memory_rethink', arguments: { label: 'human', new_memory: 'Name: Ada. Loves tea.' } },
              ],
            };
      return answered ? { text: 'ok' } : { toolCalls: [{ name: 'send_message', arguments: { message: 'ok' } }] };
    });
    const turnMs: number[] = [];
    for (let i = 1; i <= 4; i++) {
      const started = performance.now();
      await client.agents.messages.create(primary.id, { input: `turn ${i}: I love tea` });
      turnMs.push(performance.now() - started);
    }
    expect((await client.runs.list({ agent_id: sleeper.id })).items).toEqual([]);
    const fifthStart = performance.now();
    await client.agents.messages.create(primary.id, { input: 'turn 5: tea again' });
    const fifthMs = performance.now() - fifthStart;

    const run = await waitFor(async () => (await client.runs.list({ agent_id: sleeper.id })).items[0]);
    await waitFor(async () => {
      const r = await client.runs.retrieve(run.id);
      return r.status === 'completed' ? r : undefined;
    });
    const block = await client.blocks.retrieve(human.id!);
    expect(block.value).toBe('Name: Ada. Loves tea.');
    const runUsage = await client.runs.usage.retrieve(run.id);
    expect(runUsage.total_tokens).toBeGreaterThan(0);
    const transcript = JSON.stringify(
      h.llm.calls.find((c) => JSON.stringify(c.body).includes('sleeptime agent'))!.body,
    );
    expect(transcript).toContain('turn 1: I love tea');
    expect(transcript).toContain('turn 5: tea again');
    // The fifth turn answered without waiting for the review it started.
    expect(fifthMs).toBeLessThan(Math.max(...turnMs) * 3 + 200);
    expect((await client.agents.retrieve(primary.id)).multi_agent_group).toMatchObject({ turns_counter: 5 });

    // Switched off, the group stays but reviews no more.
    await client.agents.update(primary.id, { enable_sleeptime: false });
    for (let i = 6; i <= 10; i++) await client.agents.messages.create(primary.id, { input: `turn ${i}` });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await client.runs.list({ agent_id: sleeper.id })).items).toHaveLength(1);

    // Deleting the primary takes its sleeptime agent and group with it.
    await client.agents.delete(primary.id);
    expect((await http('GET', url(`/agents/${sleeper.id}`))).status).toBe(404);
    expect((await http('GET', url(`/groups/${group!.id}`))).status).toBe(404);
  });

  it('a sleeptime run is cancellable like any run, and the group frequency can be changed', async () => {
    const client = h.server.client;
    const primary = await client.agents.create({ model: 'openai/gpt-4o-mini', enable_sleeptime: true });
    const group = primary.managed_group as { id: string; agent_ids: string[] };
    const patched = await http('PATCH', url(`/groups/${group.id}`), {
      manager_config: { manager_type: 'sleeptime', sleeptime_agent_frequency: 1 },
    });
    expect(patched.body).toMatchObject({ sleeptime_agent_frequency: 1 });
    const sleeper = group.agent_ids[0]!;
    h.llm.setDefault((request) =>
      JSON.stringify(request.body.messages).includes('You are a sleeptime agent')
        ? { text: 'slow review', delayMs: 3000 }
        : { text: 'hi' },
    );
    await client.agents.messages.create(primary.id, { input: 'hello' });
    const run = await waitFor(async () => (await client.runs.list({ agent_id: sleeper, active: true })).items[0]);
    expect((await http('GET', url(`/runs/active?agent_id=${sleeper}`))).body.map((r: any) => r.id)).toEqual([run.id]);
    expect(await client.agents.messages.cancel(sleeper)).toEqual({ [run.id]: 'cancelled' });
    const ended = await waitFor(async () => {
      const r = await client.runs.retrieve(run.id);
      return r.status === 'cancelled' ? r : undefined;
    });
    expect(ended.stop_reason).toBe('cancelled');
  });

  it('GET /v1/providers lists the configured providers without their keys', async () => {
    const listed = await http('GET', url('/providers/'));
    expect(listed.status).toBe(200);
    const names = (listed.body as { name: string }[]).map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['openai', 'anthropic']));
    expect(JSON.stringify(listed.body)).not.toContain('sk-fake-openai');
    expect(JSON.stringify(listed.body)).not.toContain('sk-ant-fake');
    const openai = (listed.body as { id: string; name: string }[]).find((p) => p.name === 'openai')!;
    expect(openai).toMatchObject({ provider_type: 'openai', provider_category: 'base', api_key: null });
    expect(openai.id).toMatch(/^provider-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect((await http('GET', url(`/providers/${openai.id}`))).body).toEqual(openai);
    expect((await http('GET', url('/providers/?provider_type=anthropic'))).body.map((p: any) => p.name)).toEqual([
      'anthropic',
    ]);
    expect((await http('GET', url('/providers/provider-00000000-0000-4000-8000-000000000000'))).status).toBe(404);
  });

  it('/v1/groups creates, lists, updates, counts and deletes groups', async () => {
    const a = await h.server.client.agents.create({ name: 'g-a' });
    const b = await h.server.client.agents.create({ name: 'g-b' });
    const created = await http('POST', url('/groups/'), {
      agent_ids: [a.id, b.id],
      description: 'pair',
      manager_config: { manager_type: 'round_robin', max_turns: 3 },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ manager_type: 'round_robin', agent_ids: [a.id, b.id], max_turns: 3 });
    const id = created.body.id;
    const supervisor = await http('POST', url('/groups/'), {
      agent_ids: [b.id],
      description: 'boss',
      manager_config: { manager_type: 'supervisor', manager_agent_id: a.id },
    });
    expect(supervisor.status).toBe(200);
    expect((await http('GET', url('/groups/?manager_type=supervisor'))).body.map((g: any) => g.id)).toEqual([
      supervisor.body.id,
    ]);
    const updated = await http('PATCH', url(`/groups/${id}`), { agent_ids: [b.id], description: 'solo' });
    expect(updated.body).toMatchObject({ agent_ids: [b.id], description: 'solo' });
    expect((await http('GET', url(`/agents/${a.id}/groups`))).body.map((g: any) => g.id)).toEqual([supervisor.body.id]);
    const count = (await http('GET', url('/groups/count'))).body;
    expect(count).toBeGreaterThanOrEqual(2);
    const bad = await http('POST', url('/groups/'), {
      agent_ids: ['agent-00000000-0000-4000-8000-000000000000'],
      description: '',
    });
    expect(bad.status).toBe(404);
    expect((await http('POST', url('/groups/'), { description: 'x' })).status).toBe(422);
    expect((await http('DELETE', url(`/groups/${id}`))).status).toBe(200);
    expect((await http('GET', url(`/groups/${id}`))).status).toBe(404);
    expect((await http('GET', url('/groups/count'))).body).toBe(count - 1);
  });
});
