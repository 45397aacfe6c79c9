import { describe, expect, it } from 'vitest';
import { testDialects } from '../support/cairn.js';
import { http } from '../support/http.js';
import { useRuntime, waitFor } from './harness.js';
import { json, parseSse, readSse } from '../support/sse.js';

describe.each(testDialects())('streaming, async runs, cancel and resume [%s]', (dialect) => {
  const h = useRuntime(dialect);

  it('frames a step-streamed turn exactly as Letta: ping with run_id, seq_ids from 1, stop_reason, usage, [DONE]', async () => {
    const agent = await h.server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      memory_blocks: [{ label: 'human', value: 'x' }],
    });
    h.llm.script(
      {
        toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: 'y' } }],
        usage: { prompt: 100, completion: 10 },
      },
      { text: 'all done', usage: { prompt: 100, completion: 10 } },
    );
    const { status, contentType, frames } = await readSse(`${h.server.baseURL}/v1/agents/${agent.id}/messages`, {
      input: 'hi',
      streaming: true,
    });
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/event-stream/);
    expect(frames.every((f) => f.event === undefined)).toBe(true);
    expect(frames.at(-1)!.data).toBe('[DONE]');
    const chunks = frames.slice(0, -1).map(json);
    expect(chunks[0]).toMatchObject({
      message_type: 'ping',
      run_id: expect.stringMatching(/^run-/),
      id: expect.stringMatching(/^ping-/),
    });
    const runId = chunks[0].run_id;
    const rest = chunks.slice(1);
    expect(rest.map((c) => c.message_type)).toEqual([
      'tool_call_message',
      'tool_return_message',
      'assistant_message',
      'stop_reason',
      'usage_statistics',
    ]);
    expect(rest.map((c) => c.seq_id)).toEqual([1, 2, 3, 4, 5]);
    expect(rest.every((c) => c.run_id === runId)).toBe(true);
    expect(rest[3]).toMatchObject({ message_type: 'stop_reason', stop_reason: 'end_turn' });
    expect(rest[4]).toMatchObject({ step_count: 2, total_tokens: 220 });
    expect((await h.server.client.runs.retrieve(runId)).status).toBe('completed');
  });

  it('sends keep-alive pings carrying the last seq_id while the model is silent', async () => {
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini' });
    process.env.CAIRN_SSE_KEEPALIVE_MS = '50';
    try {
      h.llm.script({ text: 'late', delayMs: 400 });
      const { frames } = await readSse(`${h.server.baseURL}/v1/agents/${agent.id}/messages/stream`, { input: 'hi' });
      const pings = frames
        .filter((f) => f.data !== '[DONE]')
        .map(json)
        .filter((c) => c.message_type === 'ping');
      expect(pings.length).toBeGreaterThan(2);
      expect(pings[0].seq_id).toBeUndefined();
      expect(pings.slice(1).every((p) => p.seq_id === 0 && p.run_id === pings[0].run_id)).toBe(true);
    } finally {
      delete process.env.CAIRN_SSE_KEEPALIVE_MS;
    }
  });

  it('streams token deltas that share id and otid, through the SDK (Anthropic thinking as reasoning)', async () => {
    const agent = await h.server.client.agents.create({ model: 'anthropic/claude-sonnet-4-5-20250929' });
    h.llm.script({ text: 'Hello there, friend', thinking: 'thinking...' });
    const stream = await h.server.client.agents.messages.create(agent.id, {
      input: 'hi',
      streaming: true,
      stream_tokens: true,
    });
    const chunks: any[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const assistant = chunks.filter((c) => c.message_type === 'assistant_message');
    expect(assistant.length).toBeGreaterThan(1);
    expect(assistant.map((c) => c.content).join('')).toBe('Hello there, friend');
    expect(new Set(assistant.map((c) => c.id)).size).toBe(1);
    expect(new Set(assistant.map((c) => c.otid)).size).toBe(1);
    expect(
      chunks
        .filter((c) => c.message_type === 'reasoning_message')
        .map((c) => c.reasoning)
        .join(''),
    ).toBe('thinking...');
    expect(chunks.at(-2)).toMatchObject({ message_type: 'stop_reason', stop_reason: 'end_turn' });
    expect(chunks.at(-1)).toMatchObject({ message_type: 'usage_statistics' });
    const stored = (await h.server.client.agents.messages.list(agent.id, { limit: 2 })).getPaginatedItems();
    expect(stored.find((m) => m.message_type === 'assistant_message')).toMatchObject({
      id: assistant[0].id,
      content: 'Hello there, friend',
    });
  });

  it('frames provider errors mid-stream: stop_reason, event: error, [DONE]; sync sends get an HTTP error', async () => {
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini' });
    // One provider retry is allowed: two 429s exhaust it.
    h.llm.script(
      { error: 'rate_limit', errorMessage: 'Rate limit reached', retryAfterSeconds: 0 },
      { error: 'rate_limit', errorMessage: 'Rate limit reached', retryAfterSeconds: 0 },
    );
    const { frames } = await readSse(`${h.server.baseURL}/v1/agents/${agent.id}/messages/stream`, { input: 'hi' });
    const named = frames.filter((f) => f.event === 'error');
    expect(named).toHaveLength(1);
    expect(json(named[0]!)).toMatchObject({
      message_type: 'error_message',
      error_type: 'llm_rate_limit',
      detail: expect.stringContaining('Rate limit reached'),
    });
    const order = frames.map((f) =>
      f.data === '[DONE]' ? '[DONE]' : f.event === 'error' ? 'error' : json(f).message_type,
    );
    expect(order).toEqual(['ping', 'stop_reason', 'error', '[DONE]']);
    expect(json(frames[1]!)).toMatchObject({ stop_reason: 'llm_api_error' });

    for (const [reply, status] of [
      [{ error: 'server' }, 502],
      [{ hang: 'before-headers' }, 504],
    ] as const) {
      h.llm.script(reply, reply);
      const sync = await http('POST', `${h.server.baseURL}/v1/agents/${agent.id}/messages`, { input: 'hi' });
      expect(sync.status).toBe(status);
      expect(sync.headers.get('x-should-retry')).toBe('false');
    }
    const failed = (await h.server.client.runs.list({ agent_id: agent.id, statuses: ['failed'] })).getPaginatedItems();
    expect(failed.length).toBe(3);
    expect(failed.every((r) => r.stop_reason === 'llm_api_error')).toBe(true);
    // Nothing of a failed step is persisted: no orphan user message without its turn.
    expect((await h.server.client.agents.retrieve(agent.id)).message_ids).toHaveLength(1);
  });

  it('turns malformed tool-call JSON into an error tool return the model can recover from', async () => {
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini' });
    h.llm.script({ toolCalls: [{ name: 'conversation_search', arguments: '{"query": "x",' }] }, { text: 'recovered' });
    const response = await h.server.client.agents.messages.create(agent.id, { input: 'search' });
    expect(response.stop_reason.stop_reason).toBe('end_turn');
    const ret = response.messages.find((m) => m.message_type === 'tool_return_message') as {
      status: string;
      tool_return: string;
    };
    expect(ret.status).toBe('error');
    expect(ret.tool_return).toMatch(/^Error: Invalid JSON in tool call arguments/);
  });

  it('runs async sends in the background, records the result, and cancels at the step boundary', async () => {
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini' });
    h.llm.script({ text: 'async reply', delayMs: 50 });
    const run = await h.server.client.agents.messages.createAsync(agent.id, { input: 'hi' });
    expect(run).toMatchObject({ status: 'created', background: true, agent_id: agent.id });
    const done = await waitFor(async () => {
      const r = await h.server.client.runs.retrieve(run.id);
      return r.status === 'completed' ? r : undefined;
    });
    expect((done.metadata as any).result.messages[0]).toMatchObject({
      message_type: 'assistant_message',
      content: 'async reply',
    });
    expect((await h.server.client.runs.messages.list(run.id)).getPaginatedItems().map((m) => m.message_type)).toEqual([
      'user_message',
      'assistant_message',
    ]);

    // A slow model call: cancel while it runs; the run ends cancelled and nothing of the step is kept.
    h.llm.script({ text: 'never', delayMs: 5000 });
    const slow = await h.server.client.agents.messages.createAsync(agent.id, { input: 'slow' });
    await waitFor(async () => (h.llm.calls.length === 2 ? true : undefined));
    const cancelled = await h.server.client.agents.messages.cancel(agent.id);
    expect(cancelled).toEqual({ [slow.id]: 'cancelled' });
    const final = await waitFor(async () => {
      const r = await h.server.client.runs.retrieve(slow.id);
      return r.status === 'cancelled' ? r : undefined;
    });
    expect(final.stop_reason).toBe('cancelled');
    expect((await h.server.client.agents.retrieve(agent.id)).message_ids).toHaveLength(3);
    const nothing = await http('POST', `${h.server.baseURL}/v1/agents/${agent.id}/messages/cancel`, {});
    expect(nothing.status).toBe(409);
  });

  it('allows one turn at a time per agent thread: a concurrent send gets 409 with run_id', async () => {
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini' });
    h.llm.script({ text: 'slow', delayMs: 400 });
    const first = h.server.client.agents.messages.create(agent.id, { input: 'one' });
    await waitFor(async () => (h.llm.calls.length === 1 ? true : undefined));
    const second = await http('POST', `${h.server.baseURL}/v1/agents/${agent.id}/messages`, { input: 'two' });
    expect(second.status).toBe(409);
    expect(second.headers.get('x-should-retry')).toBe('false');
    expect(second.body.detail).toContain('is currently being processed');
    expect(second.body.detail).toMatch(/run_id=run-[0-9a-f-]{36}/);
    expect((await first).stop_reason.stop_reason).toBe('end_turn');
    h.llm.script({ text: 'now fine' });
    expect((await h.server.client.agents.messages.create(agent.id, { input: 'three' })).stop_reason.stop_reason).toBe(
      'end_turn',
    );
  });

  it('keeps a streamed turn running after the client disconnects, and resumes it from a seq_id', async () => {
    const agent = await h.server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      memory_blocks: [{ label: 'human', value: 'x' }],
    });
    h.llm.script(
      { toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: 'y' } }], delayMs: 100 },
      { text: 'finished after disconnect', delayMs: 300 },
    );
    const abort = new AbortController();
    const response = await fetch(`${h.server.baseURL}/v1/agents/${agent.id}/messages/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'go', background: true }),
      signal: abort.signal,
    });
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    const runId = JSON.parse(parseSse(new TextDecoder().decode(value))[0]!.data).run_id as string;
    abort.abort();
    await waitFor(async () => ((await h.server.client.runs.retrieve(runId)).status === 'completed' ? true : undefined));

    const resumed = await h.server.client.runs.messages.stream(runId, { starting_after: 1 });
    const chunks: any[] = [];
    for await (const c of resumed) chunks.push(c);
    const data = chunks.filter((c) => c.message_type !== 'ping');
    expect(data.map((c) => c.seq_id)).toEqual([2, 3, 4, 5]);
    expect(data.map((c) => c.message_type)).toEqual([
      'tool_return_message',
      'assistant_message',
      'stop_reason',
      'usage_statistics',
    ]);
    expect(data[1].content).toBe('finished after disconnect');

    // A sync (non-streamed) run has no stream to resume.
    h.llm.script({ text: 'plain' });
    await h.server.client.agents.messages.create(agent.id, { input: 'plain' });
    const plainRun = (
      await h.server.client.runs.list({ agent_id: agent.id, order: 'desc', limit: 1 })
    ).getPaginatedItems()[0]!;
    expect(plainRun.id).not.toBe(runId);
    expect((await http('POST', `${h.server.baseURL}/v1/runs/${plainRun.id}/stream`, {})).status).toBe(400);
  });

  it('follows a live run from its stored chunks (any process can serve the resume)', async () => {
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini' });
    h.llm.script({ text: 'slowly streamed reply', delayMs: 200 });
    const started = await fetch(`${h.server.baseURL}/v1/agents/${agent.id}/messages/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'go', stream_tokens: true, background: true }),
    });
    const reader = started.body!.getReader();
    const first = await reader.read();
    const runId = JSON.parse(parseSse(new TextDecoder().decode(first.value))[0]!.data).run_id as string;
    const { followStoredRun } = await import('../../src/runtime/run-stream.js');
    const seen: any[] = [];
    await followStoredRun(
      h.server.cairn.stores,
      runId,
      0,
      { pollMs: 20, batchSize: 100, signal: new AbortController().signal },
      (c) => seen.push(JSON.parse(c.data)),
    );
    expect(seen.map((c) => c.seq_id)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.at(-1).message_type).toBe('usage_statistics');
    expect(
      seen
        .filter((c) => c.message_type === 'assistant_message')
        .map((c) => c.content)
        .join(''),
    ).toBe('slowly streamed reply');
    await reader.cancel();
  });
});
