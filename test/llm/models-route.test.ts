import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, type TestCairn } from '../support/cairn.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';
import { expectLettaSchema } from '../support/openapi.js';

// The model list reads no table, so one dialect is enough.
describe('GET /v1/models/ and provider configuration through the API', () => {
  let llm: FakeLlm;
  let server: TestCairn;
  let bare: TestCairn;

  beforeAll(async () => {
    llm = await startFakeLlm();
    llm.models = ['llama3.1:8b', 'qwen2.5:7b'];
    server = await startCairn(
      'sqlite',
      {},
      llm.env({
        LETTA_DEFAULT_LLM_HANDLE: 'anthropic/claude-haiku-4-5-20251001',
        CAIRN_LLM_MODELS: 'openai/my-fine-tune',
      }),
    );
    bare = await startCairn('sqlite', {}, {});
  });
  afterAll(async () => {
    await server?.close();
    await bare?.close();
    await llm?.close();
  });

  it('lists the handles of configured providers, the default first, as upstream Model objects', async () => {
    const models = await server.client.models.list();
    for (const model of models) expectLettaSchema('Model', model);
    const handles = models.map((m) => m.handle);
    expect(handles[0]).toBe('anthropic/claude-haiku-4-5-20251001');
    expect(handles).toContain('openai/gpt-4o-mini');
    expect(handles).toContain('openai/my-fine-tune');
    // Ollama's models come from its own /api/tags.
    expect(handles).toContain('ollama/llama3.1:8b');
    expect(handles).toContain('ollama/qwen2.5:7b');
    expect(llm.requests.some((r) => r.path === '/api/tags')).toBe(true);
    expect(new Set(handles).size).toBe(handles.length);
    expect(models.find((m) => m.handle === 'ollama/qwen2.5:7b')).toMatchObject({
      name: 'qwen2.5:7b',
      provider_type: 'ollama',
      provider_name: 'ollama',
      model_type: 'llm',
      model_endpoint: `${llm.url}/v1`,
    });
    expect(models.find((m) => m.handle === 'anthropic/claude-haiku-4-5-20251001')).toMatchObject({
      provider_type: 'anthropic',
      model_endpoint_type: 'anthropic',
      context_window: 128000,
      max_context_window: 200000,
    });
  });

  it('filters by provider_type, provider_name and provider_category', async () => {
    const anthropic = await server.client.models.list({ provider_type: 'anthropic' });
    expect(anthropic.length).toBeGreaterThan(0);
    expect(anthropic.every((m) => m.provider_type === 'anthropic')).toBe(true);
    const ollama = await server.client.models.list({ provider_name: 'ollama' });
    expect(ollama.map((m) => m.handle).sort()).toEqual(['ollama/llama3.1:8b', 'ollama/qwen2.5:7b']);
    expect(await server.client.models.list({ provider_category: ['byok'] })).toEqual([]);
    expect((await server.client.models.list({ provider_category: ['base'] })).length).toBe(
      (await server.client.models.list()).length,
    );
  });

  it('lists nothing when no provider is configured', async () => {
    expect(await bare.client.models.list()).toEqual([]);
  });

  it('refuses to message an agent whose provider is not configured, naming the setting, without hanging', async () => {
    const agent = await bare.client.agents.create({ model: 'anthropic/claude-sonnet-4-5-20250929' });
    const started = Date.now();
    await expect(
      bare.client.agents.messages.create(agent.id, { messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({
      status: 400,
      error: { detail: "Provider 'anthropic' is not configured: set ANTHROPIC_API_KEY" },
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('serves the handles through the provider it lists', async () => {
    llm.script({ text: 'hello from the fake' });
    const client = server.cairn.llm.resolve('ollama/llama3.1:8b');
    const response = await client.complete({
      handle: 'ollama/llama3.1:8b',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [],
      toolChoice: 'auto',
    });
    expect(response.text).toBe('hello from the fake');
    expect(llm.calls.at(-1)).toMatchObject({ path: '/v1/chat/completions', body: { model: 'llama3.1:8b' } });
  });
});
