import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLlmProviders } from '../../src/llm/providers.js';
import type { LlmRequest, LlmStreamEvent } from '../../src/llm/types.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';

let llm: FakeLlm;
beforeAll(async () => {
  llm = await startFakeLlm();
});
afterAll(() => llm.close());
beforeEach(() => llm.reset());

const note = {
  name: 'note',
  description: 'Write a note',
  parameters: { type: 'object', properties: { text: { type: 'string' } } },
};
const request = (handle: string): LlmRequest => ({
  handle,
  messages: [{ role: 'user', content: 'hi' }],
  tools: [note],
  toolChoice: 'auto',
});

describe('OpenAI-compatible providers against the fake server', () => {
  it('Ollama (OLLAMA_BASE_URL without /v1): text, reasoning_content as reasoning, tool calls, usage, streaming', async () => {
    const client = createLlmProviders({ OLLAMA_BASE_URL: llm.url }).resolve('ollama/qwen3:8b');
    llm.script(
      { thinking: 'Thinking hard.', text: 'Hello!', usage: { prompt: 9, completion: 3 } },
      { toolCalls: [{ id: 'call_o', name: 'note', arguments: '{"text": "hi"' }], chunkDelayMs: 1 },
    );
    const plain = await client.complete(request('ollama/qwen3:8b'));
    expect(plain).toMatchObject({
      text: 'Hello!',
      reasoning: [{ text: 'Thinking hard.' }],
      usage: { promptTokens: 9, completionTokens: 3, totalTokens: 12 },
    });
    expect(llm.calls[0]).toMatchObject({ path: '/v1/chat/completions', body: { model: 'qwen3:8b' } });
    expect(llm.calls[0]!.headers.authorization).toBeUndefined();
    const events: LlmStreamEvent[] = [];
    const streamed = await client.complete(request('ollama/qwen3:8b'), (e) => events.push(e));
    expect(streamed.toolCalls).toEqual([{ id: 'call_o', name: 'note', arguments: '{"text": "hi"' }]);
    expect(events[0]).toEqual({ type: 'tool-call-start', id: 'call_o', name: 'note' });
    expect(llm.calls[1]!.body.stream_options).toEqual({ include_usage: true });
    expect(streamed.usage.promptTokens).toBeGreaterThan(0);
  });

  it('a generic endpoint under the operator-chosen prefix, with its key; OpenRouter with its key', async () => {
    const providers = createLlmProviders({
      CAIRN_OPENAI_COMPATIBLE_BASE_URL: `${llm.url}/v1`,
      CAIRN_OPENAI_COMPATIBLE_NAME: 'llama.cpp',
      CAIRN_OPENAI_COMPATIBLE_API_KEY: 'local-key',
      OPENROUTER_API_KEY: 'or-key',
      OPENROUTER_BASE_URL: `${llm.url}/api/v1`,
    });
    llm.script({ text: 'from llama.cpp' }, { text: 'from openrouter' });
    expect((await providers.resolve('llama.cpp/qwen2.5-coder').complete(request('llama.cpp/qwen2.5-coder'))).text).toBe(
      'from llama.cpp',
    );
    expect(llm.calls[0]).toMatchObject({
      path: '/v1/chat/completions',
      body: { model: 'qwen2.5-coder' },
      headers: { authorization: 'Bearer local-key' },
    });
    // OpenRouter model ids contain a slash; the handle's first segment is the provider.
    expect(
      (
        await providers
          .resolve('openrouter/anthropic/claude-3.5-haiku')
          .complete(request('openrouter/anthropic/claude-3.5-haiku'))
      ).text,
    ).toBe('from openrouter');
    expect(llm.calls[1]).toMatchObject({
      path: '/api/v1/chat/completions',
      body: { model: 'anthropic/claude-3.5-haiku' },
      headers: { authorization: 'Bearer or-key' },
    });
  });

  it('detects the context overflow text vLLM and llama.cpp send', async () => {
    const client = createLlmProviders({ VLLM_API_BASE: llm.url }).resolve('vllm/mistral');
    llm.script(
      {
        error: {
          status: 400,
          body: {
            object: 'error',
            message: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.",
            type: 'BadRequestError',
            code: 400,
          },
        },
      },
      {
        error: {
          status: 400,
          body: {
            error: {
              code: 400,
              message: 'the request exceeds the available context size, try increasing it',
              type: 'exceed_context_size_error',
            },
          },
        },
      },
    );
    await expect(client.complete(request('vllm/mistral'))).rejects.toMatchObject({ kind: 'context_window_exceeded' });
    await expect(client.complete(request('vllm/mistral'))).rejects.toMatchObject({ kind: 'context_window_exceeded' });
  });

  it('names the missing setting for each local server', () => {
    const providers = createLlmProviders({});
    expect(() => providers.resolve('ollama/llama3.1')).toThrow(
      "Provider 'ollama' is not configured: set OLLAMA_BASE_URL",
    );
    expect(() => providers.resolve('vllm/x')).toThrow("Provider 'vllm' is not configured: set VLLM_API_BASE");
    expect(() => providers.resolve('openai-compatible/x')).toThrow(
      "Provider 'openai-compatible' is not configured: set CAIRN_OPENAI_COMPATIBLE_BASE_URL",
    );
  });
});
