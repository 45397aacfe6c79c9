import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLlmProviders } from '../../src/llm/providers.js';
import type { LlmRequest, LlmStreamEvent } from '../../src/llm/types.js';
import { llmFailure as failure, startFakeLlm, type FakeLlm } from '../support/fake-llm.js';

let llm: FakeLlm;
beforeAll(async () => {
  llm = await startFakeLlm();
});
afterAll(() => llm.close());
beforeEach(() => llm.reset());

const weather = {
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

function request(overrides: Partial<LlmRequest> = {}): LlmRequest {
  return {
    handle: 'openai/gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You are helpful.' },
      { role: 'user', content: 'Weather in Paris?' },
    ],
    tools: [weather],
    toolChoice: 'auto',
    ...overrides,
  };
}

const client = (extra: Record<string, string> = {}, handle = 'openai/gpt-4o-mini') =>
  createLlmProviders(llm.env(extra)).resolve(handle);

describe('OpenAI provider against the fake server', () => {
  it('returns text and the usage the provider reported, and sends the prompt and tools', async () => {
    llm.script({ text: 'Sunny and warm.', usage: { prompt: 120, completion: 7, cachedPrompt: 100 } });
    const response = await client().complete(request({ maxOutputTokens: 256, temperature: 0.5 }));
    expect(response).toMatchObject({
      text: 'Sunny and warm.',
      toolCalls: [],
      reasoning: [],
      finishReason: 'stop',
      model: 'gpt-4o-mini',
    });
    expect(response.usage).toMatchObject({
      promptTokens: 120,
      completionTokens: 7,
      totalTokens: 127,
      cachedInputTokens: 100,
    });
    const sent = llm.calls[0]!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe('Bearer sk-fake-openai');
    expect(sent.body.messages).toEqual([
      { role: 'system', content: 'You are helpful.' },
      { role: 'user', content: 'Weather in Paris?' },
    ]);
    expect(sent.body.tools[0]).toMatchObject({
      type: 'function',
      function: { name: 'get_weather', parameters: weather.parameters },
    });
    expect(sent.body).toMatchObject({ model: 'gpt-4o-mini', max_tokens: 256, temperature: 0.5, tool_choice: 'auto' });
  });

  it('returns single and parallel tool calls with their raw arguments', async () => {
    llm.script(
      { toolCalls: [{ id: 'call_a', name: 'get_weather', arguments: { city: 'Paris' } }] },
      {
        toolCalls: [
          { id: 'call_b', name: 'get_weather', arguments: { city: 'Oslo' } },
          { id: 'call_c', name: 'get_weather', arguments: '{"city": "Rome"}' },
        ],
      },
    );
    const single = await client().complete(request());
    expect(single.toolCalls).toEqual([{ id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    expect(single.finishReason).toBe('tool_calls');
    const parallel = await client().complete(request({ parallelToolCalls: true }), () => undefined);
    expect(parallel.toolCalls).toEqual([
      { id: 'call_b', name: 'get_weather', arguments: '{"city":"Oslo"}' },
      { id: 'call_c', name: 'get_weather', arguments: '{"city": "Rome"}' },
    ]);
    expect(llm.calls[1]!.body.parallel_tool_calls).toBe(true);
  });

  it('streams text and tool-call deltas, and assembles the same response', async () => {
    llm.script({
      text: 'Let me check that.',
      toolCalls: [{ id: 'call_s', name: 'get_weather', arguments: { city: 'Paris' } }],
      chunkDelayMs: 2,
    });
    const events: LlmStreamEvent[] = [];
    const response = await client().complete(request(), (e) => events.push(e));
    expect(llm.calls[0]!.stream).toBe(true);
    const text = events.filter((e) => e.type === 'text-delta');
    expect(text.length).toBeGreaterThan(1);
    expect(text.map((e) => e.delta).join('')).toBe('Let me check that.');
    expect(events.find((e) => e.type === 'tool-call-start')).toEqual({
      type: 'tool-call-start',
      id: 'call_s',
      name: 'get_weather',
    });
    const args = events.filter((e) => e.type === 'tool-call-delta');
    expect(args.length).toBeGreaterThan(1);
    expect(args.map((e) => e.argumentsDelta).join('')).toBe('{"city":"Paris"}');
    expect(response.text).toBe('Let me check that.');
    expect(response.toolCalls).toEqual([{ id: 'call_s', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    // Usage arrives in the final chunk, requested with stream_options.include_usage.
    expect(response.usage.promptTokens).toBeGreaterThan(0);
  });

  it('hands malformed tool-call JSON to the caller verbatim, streaming or not', async () => {
    const broken = '{"city": "Par';
    llm.script(
      { toolCalls: [{ id: 'call_m', name: 'get_weather', arguments: broken }] },
      { toolCalls: [{ id: 'call_n', name: 'get_weather', arguments: broken }] },
    );
    expect((await client().complete(request())).toolCalls).toEqual([
      { id: 'call_m', name: 'get_weather', arguments: broken },
    ]);
    expect((await client().complete(request(), () => undefined)).toolCalls).toEqual([
      { id: 'call_n', name: 'get_weather', arguments: broken },
    ]);
  });

  it('sends assistant tool calls and tool results back in the history', async () => {
    llm.script({ text: 'It is sunny.' });
    await client().complete(
      request({
        messages: [
          { role: 'user', content: 'Weather?' },
          {
            role: 'assistant',
            content: null,
            toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
          },
          { role: 'tool', toolCallId: 'call_1', toolName: 'get_weather', content: '{"status":"OK","message":"sunny"}' },
        ],
      }),
    );
    expect(llm.calls[0]!.body.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"status":"OK","message":"sunny"}' },
    ]);
  });

  it('retries a 429, honouring retry-after, then succeeds', async () => {
    llm.script({ error: 'rate_limit', retryAfterSeconds: 0.3 }, { text: 'finally' });
    const started = Date.now();
    const response = await client({ CAIRN_LLM_RETRY_BASE_MS: '1' }).complete(request());
    expect(response.text).toBe('finally');
    expect(llm.calls).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('gives up on a 429 whose retry-after is longer than it will wait', async () => {
    llm.script({ error: 'rate_limit', retryAfterSeconds: 3600 });
    const error = await failure(client().complete(request()));
    expect(error.kind).toBe('rate_limit');
    expect(error.status).toBe(429);
    expect(llm.calls).toHaveLength(1);
  });

  it('retries 5xx a bounded number of times, then fails with kind server', async () => {
    llm.script({ error: 'server' }, { error: 'server' }, { error: 'overloaded' });
    const error = await failure(client({ CAIRN_LLM_MAX_RETRIES: '2' }).complete(request()));
    expect(error.kind).toBe('server');
    expect(error.status).toBe(503);
    expect(error.message).toContain('overloaded');
    expect(llm.calls).toHaveLength(3);
  });

  it('times out a provider that never answers, and one whose stream stalls', async () => {
    llm.script({ hang: 'before-headers' }, { text: 'one two three four', hang: 'mid-stream' });
    const fast = client({ LETTA_LLM_REQUEST_TIMEOUT_SECONDS: '0.2' });
    const started = Date.now();
    const error = await failure(fast.complete(request()));
    expect(error.kind).toBe('timeout');
    expect(error.message).toContain('LETTA_LLM_REQUEST_TIMEOUT_SECONDS');
    expect(Date.now() - started).toBeLessThan(5000);
    const events: LlmStreamEvent[] = [];
    // A little more time here, so a loaded machine still gets the first chunks out before the stall is timed.
    const stalled = await failure(
      client({ LETTA_LLM_REQUEST_TIMEOUT_SECONDS: '0.6' }).complete(request(), (e) => events.push(e)),
    );
    expect(stalled.kind).toBe('timeout');
    expect(stalled.message).toContain('stalled');
    expect(events.length).toBeGreaterThan(0);
    expect(llm.calls).toHaveLength(2);
  });

  it('bounds a whole stream by the stream timeout, even while chunks keep coming', async () => {
    llm.script({ text: 'one two three four five six seven eight nine ten', chunkDelayMs: 100 });
    const error = await failure(
      client({ LETTA_LLM_REQUEST_TIMEOUT_SECONDS: '1', LETTA_LLM_STREAM_TIMEOUT_SECONDS: '0.3' }).complete(
        request(),
        () => undefined,
      ),
    );
    expect(error.kind).toBe('timeout');
    expect(error.message).toContain('LETTA_LLM_STREAM_TIMEOUT_SECONDS');
  });

  it('reports cancellation by the caller as cancelled, not timeout', async () => {
    llm.script({ hang: 'before-headers' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await failure(client().complete(request({ signal: controller.signal })));
    expect(error.kind).toBe('cancelled');
  });

  it('detects context-window overflow and does not retry it', async () => {
    llm.script({ error: 'context_overflow' });
    const error = await failure(client().complete(request()));
    expect(error.kind).toBe('context_window_exceeded');
    expect(error.status).toBe(400);
    expect(llm.calls).toHaveLength(1);
  });

  it('maps 401 to authentication and other 4xx to bad_request', async () => {
    llm.script({ error: 'authentication' }, { error: 'bad_request', errorMessage: 'Invalid schema for function' });
    expect((await failure(client().complete(request()))).kind).toBe('authentication');
    const bad = await failure(client().complete(request()));
    expect(bad.kind).toBe('bad_request');
    expect(bad.message).toContain('Invalid schema for function');
  });

  it('fails a stream that reports an error mid-way without retrying it', async () => {
    llm.script({ text: 'partial answer', streamError: 'overloaded' });
    const events: LlmStreamEvent[] = [];
    const error = await failure(client().complete(request(), (e) => events.push(e)));
    expect(error.kind).toBe('server');
    expect(events.some((e) => e.type === 'text-delta')).toBe(true);
    expect(llm.calls).toHaveLength(1);
  });

  it('reports an empty reply as empty_response', async () => {
    llm.script({ text: '' });
    expect((await failure(client().complete(request()))).kind).toBe('empty_response');
  });

  it('names the missing setting when OpenAI is not configured', () => {
    const providers = createLlmProviders({});
    expect(() => providers.resolve('openai/gpt-4o-mini')).toThrow(
      expect.objectContaining({ status: 400, message: "Provider 'openai' is not configured: set OPENAI_API_KEY" }),
    );
    expect(() => providers.resolve('gemini/flash')).toThrow(
      expect.objectContaining({ status: 400, message: expect.stringContaining("Unknown model provider 'gemini'") }),
    );
    expect(() => providers.resolve('letta/auto')).toThrow(
      expect.objectContaining({ status: 400, message: expect.stringContaining("'letta/auto'") }),
    );
  });
});
