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

const HANDLE = 'anthropic/claude-sonnet-4-5-20250929';
const search = {
  name: 'archival_memory_search',
  description: 'Search archival memory',
  parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
};

function request(overrides: Partial<LlmRequest> = {}): LlmRequest {
  return {
    handle: HANDLE,
    messages: [
      { role: 'system', content: 'You are Cairn.' },
      { role: 'user', content: 'What do I like?' },
    ],
    tools: [search],
    toolChoice: 'auto',
    maxOutputTokens: 1024,
    ...overrides,
  };
}

const client = (extra: Record<string, string> = {}) => createLlmProviders(llm.env(extra)).resolve(HANDLE);

describe('Anthropic provider against the fake server', () => {
  it('sends system, tools and key the Anthropic way, and returns text with usage', async () => {
    llm.script({ text: 'You like tea.', usage: { prompt: 50, completion: 5 } });
    const response = await client().complete(request());
    expect(response).toMatchObject({ text: 'You like tea.', finishReason: 'stop', toolCalls: [], reasoning: [] });
    expect(response.usage).toMatchObject({ promptTokens: 50, completionTokens: 5, totalTokens: 55 });
    const sent = llm.calls[0]!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe('sk-ant-fake');
    expect(sent.body.system).toEqual([{ type: 'text', text: 'You are Cairn.' }]);
    expect(sent.body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'What do I like?' }] }]);
    expect(sent.body.tools[0]).toMatchObject({ name: 'archival_memory_search', input_schema: search.parameters });
    expect(sent.body).toMatchObject({ model: 'claude-sonnet-4-5-20250929', max_tokens: 1024 });
  });

  it('returns thinking as reasoning with its signature, and redacted thinking as redacted', async () => {
    llm.script({
      thinking: [{ text: 'The user asked about tastes.', signature: 'sig-abc' }],
      redactedThinking: ['ENCRYPTED=='],
      text: 'Tea.',
    });
    const response = await client().complete(request({ thinkingBudgetTokens: 2048 }));
    expect(response.reasoning).toEqual([
      { text: 'The user asked about tastes.', signature: 'sig-abc' },
      { text: '', redacted: 'ENCRYPTED==' },
    ]);
    expect(llm.calls[0]!.body.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
  });

  it('streams thinking, text and tool input deltas', async () => {
    llm.script({
      thinking: 'I should search archival memory first.',
      redactedThinking: ['OPAQUE'],
      text: 'Searching.',
      toolCalls: [{ id: 'toolu_1', name: 'archival_memory_search', arguments: { query: 'likes' } }],
      chunkDelayMs: 1,
    });
    const events: LlmStreamEvent[] = [];
    const response = await client().complete(request(), (e) => events.push(e));
    expect(llm.calls[0]!.stream).toBe(true);
    const reasoning = events.filter((e) => e.type === 'reasoning-delta');
    expect(reasoning.length).toBeGreaterThan(1);
    expect(reasoning.map((e) => e.delta).join('')).toBe('I should search archival memory first.');
    expect(
      events
        .filter((e) => e.type === 'text-delta')
        .map((e) => e.delta)
        .join(''),
    ).toBe('Searching.');
    expect(events).toContainEqual({ type: 'tool-call-start', id: 'toolu_1', name: 'archival_memory_search' });
    expect(
      events
        .filter((e) => e.type === 'tool-call-delta')
        .map((e) => e.argumentsDelta)
        .join(''),
    ).toBe('{"query":"likes"}');
    expect(response.reasoning).toEqual([
      { text: 'I should search archival memory first.', signature: 'sig-1' },
      { text: '', redacted: 'OPAQUE' },
    ]);
    expect(response.toolCalls).toEqual([
      { id: 'toolu_1', name: 'archival_memory_search', arguments: '{"query":"likes"}' },
    ]);
    expect(response.finishReason).toBe('tool_calls');
    expect(response.usage.promptTokens).toBeGreaterThan(0);
    expect(response.usage.completionTokens).toBeGreaterThan(0);
  });

  it('returns parallel tool calls', async () => {
    llm.script({
      toolCalls: [
        { id: 'toolu_a', name: 'archival_memory_search', arguments: { query: 'tea' } },
        { id: 'toolu_b', name: 'archival_memory_search', arguments: { query: 'coffee' } },
      ],
    });
    const response = await client().complete(request());
    expect(response.toolCalls.map((c) => [c.id, JSON.parse(c.arguments)])).toEqual([
      ['toolu_a', { query: 'tea' }],
      ['toolu_b', { query: 'coffee' }],
    ]);
  });

  it('passes malformed streamed tool input through verbatim', async () => {
    llm.script({
      toolCalls: [{ id: 'toolu_m', name: 'archival_memory_search', arguments: '{"query": "unterminated' }],
    });
    const response = await client().complete(request(), () => undefined);
    expect(response.toolCalls).toEqual([
      { id: 'toolu_m', name: 'archival_memory_search', arguments: '{"query": "unterminated' },
    ]);
  });

  it('sends thinking blocks, tool use and tool results back in the history', async () => {
    llm.script({ text: 'You like tea.' });
    await client().complete(
      request({
        messages: [
          { role: 'system', content: 'You are Cairn.' },
          { role: 'user', content: 'What do I like?' },
          {
            role: 'assistant',
            content: null,
            reasoning: [
              { text: 'Search first.', signature: 'sig-x' },
              { text: '', redacted: 'RED' },
            ],
            toolCalls: [{ id: 'toolu_1', name: 'archival_memory_search', arguments: '{"query":"likes"}' }],
          },
          { role: 'tool', toolCallId: 'toolu_1', toolName: 'archival_memory_search', content: 'likes tea' },
        ],
        thinkingBudgetTokens: 1024,
      }),
    );
    const [, assistant, toolResult] = llm.calls[0]!.body.messages;
    expect(assistant).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'Search first.', signature: 'sig-x' },
        { type: 'redacted_thinking', data: 'RED' },
        { type: 'tool_use', id: 'toolu_1', name: 'archival_memory_search', input: { query: 'likes' } },
      ],
    });
    expect(toolResult).toMatchObject({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'likes tea' }],
    });
  });

  it('retries 429 and 529, then succeeds', async () => {
    llm.script({ error: 'rate_limit', retryAfterSeconds: 0 }, { error: 'overloaded' }, { text: 'ok' });
    expect((await client().complete(request())).text).toBe('ok');
    expect(llm.calls).toHaveLength(3);
  });

  it('fails with kind server once retries are exhausted', async () => {
    llm.script({ error: 'server' }, { error: 'server' });
    const error = await failure(client({ CAIRN_LLM_MAX_RETRIES: '1' }).complete(request()));
    expect(error).toMatchObject({ kind: 'server', status: 500 });
    expect(llm.calls).toHaveLength(2);
  });

  it('detects "prompt is too long" as context-window overflow', async () => {
    llm.script(
      { error: 'context_overflow' },
      {
        error: 'context_overflow',
        errorMessage: 'input length and `max_tokens` exceed context limit: 197000 + 8192 > 200000',
      },
    );
    expect((await failure(client().complete(request()))).kind).toBe('context_window_exceeded');
    expect((await failure(client().complete(request()))).kind).toBe('context_window_exceeded');
  });

  it('times out', async () => {
    llm.script({ hang: 'before-headers' });
    expect(
      (await failure(client({ LETTA_LLM_REQUEST_TIMEOUT_SECONDS: '0.2' }).complete(request(), () => undefined))).kind,
    ).toBe('timeout');
  });

  it('maps an overloaded error inside the stream', async () => {
    llm.script({ text: 'half', streamError: 'overloaded' });
    const error = await failure(client().complete(request(), () => undefined));
    expect(error.kind).toBe('server');
    expect(error.message).toContain('Overloaded');
  });

  it('resolves letta/auto to the default handle, or to a configured provider when the default has none', async () => {
    llm.script({ text: 'auto' }, { text: 'auto again' });
    const onlyAnthropic = createLlmProviders(llm.env({ OPENAI_API_KEY: '' }), { defaultHandle: 'openai/gpt-4o-mini' });
    await onlyAnthropic.resolve('letta/auto').complete(request());
    expect(llm.calls[0]).toMatchObject({ path: '/v1/messages', body: { model: 'claude-sonnet-4-5-20250929' } });
    await createLlmProviders(llm.env(), { defaultHandle: HANDLE.replace('sonnet-4-5-20250929', 'haiku-4-5-20251001') })
      .resolve('letta/auto')
      .complete(request());
    expect(llm.calls[1]!.body.model).toBe('claude-haiku-4-5-20251001');
  });

  it('names the missing setting when Anthropic is not configured', () => {
    expect(() => createLlmProviders({ OPENAI_API_KEY: 'x' }).resolve(HANDLE)).toThrow(
      expect.objectContaining({
        status: 400,
        message: "Provider 'anthropic' is not configured: set ANTHROPIC_API_KEY",
      }),
    );
  });
});
