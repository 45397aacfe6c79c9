import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Letta from '@letta-ai/letta-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSealed } from '../../src/lib/secrets.js';
import { createLogger } from '../../src/logger.js';
import { createCairn } from '../../src/server.js';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';
import { http } from '../support/http.js';
import { expectLettaSchema } from '../support/openapi.js';

const OPENAI_KEY = 'sk-byok-openai-0123456789';
const ANTHROPIC_KEY = 'sk-ant-byok-9876543210';

/**
 * BYOK providers as Letta Code's `/connect` and `/model` use them (`src/backend/api/providers.ts` there): check the
 * key, list the providers to find one by name, create or update it, refresh before listing models, and then run
 * an agent on a `<provider name>/<model>` handle. The SDK has no providers resource, so those calls are raw HTTP
 * on Letta Code's own paths (no trailing slash); agents, models and messages go through the SDK.
 */
describe.each(testDialects())('BYOK providers (%s)', (dialect) => {
  let llm: FakeLlm;
  let server: TestCairn;
  const url = (path: string) => `${server.baseURL}/v1${path}`;
  const providerBody = (name: string, type: string, key: string, base: string) => ({
    name,
    provider_type: type,
    api_key: key,
    base_url: base,
  });

  beforeAll(async () => {
    llm = await startFakeLlm();
    llm.acceptedKeys = [OPENAI_KEY, ANTHROPIC_KEY];
    // No provider from the environment: whatever the agents reach, they reach through a BYOK provider.
    server = await startCairn(dialect, {}, { CAIRN_LLM_RETRY_BASE_MS: '10', CAIRN_LLM_MAX_RETRIES: '0' });
  });
  afterAll(async () => {
    await server?.close();
    await llm?.close();
  });

  it('checks a key against the provider: a bad one is a 401 in Letta error shape, a good one says so', async () => {
    const bad = await http('POST', url('/providers/check'), {
      provider_type: 'openai',
      api_key: 'sk-wrong',
      base_url: `${llm.url}/v1`,
    });
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({
      error: {
        type: 'llm_authentication',
        message: 'Authentication failed with the LLM model provider.',
        detail: expect.stringContaining('Incorrect API key'),
      },
    });
    const badAnthropic = await http('POST', url('/providers/check'), {
      provider_type: 'anthropic',
      api_key: 'sk-ant-wrong',
      base_url: llm.url,
    });
    expect(badAnthropic.status).toBe(401);
    expect(badAnthropic.body.error.detail).toContain('invalid x-api-key');

    const good = await http('POST', url('/providers/check'), {
      provider_type: 'anthropic',
      api_key: ANTHROPIC_KEY,
      base_url: llm.url,
    });
    expect(good).toMatchObject({ status: 200, body: { message: 'Valid api key for provider_type=anthropic' } });
    const asked = llm.requests.at(-1)!;
    expect(asked).toMatchObject({ method: 'GET', path: '/v1/models' });
    expect(asked.headers['x-api-key']).toBe(ANTHROPIC_KEY);
  });

  it('refuses what it cannot serve with a clear 4xx', async () => {
    const cases: [unknown, number][] = [
      [{ provider_type: 'openai' }, 422],
      [{ name: 'x', provider_type: 'not-a-type', api_key: 'k' }, 422],
      [{ name: 'lc-bedrock', provider_type: 'bedrock', api_key: 'k' }, 400],
      [{ name: 'lc-vllm', provider_type: 'vllm', api_key: 'k' }, 400],
      [{ name: 'a/b', provider_type: 'openai', api_key: 'k' }, 422],
      [{ name: 'x', provider_type: 'openai', api_key: 'k', base_url: 'ftp://host' }, 400],
    ];
    for (const [body, status] of cases) expect((await http('POST', url('/providers'), body)).status).toBe(status);
    expect((await http('POST', url('/providers/check'), { provider_type: 'openai', api_key: '' })).status).toBe(422);
    // A key with characters no HTTP header can carry is the caller's mistake, not an unreachable provider (a 502).
    const unsendable = await http('POST', url('/providers/check'), { provider_type: 'google_ai', api_key: 'sk-ключ' });
    expect(unsendable.status).toBe(400);
    // Found by fuzzing: a key far past any real one made the provider answer 431, which was reported as a 502.
    const pasted = await http('POST', url('/providers/check'), {
      provider_type: 'mistral',
      api_key: 'x'.repeat(20_000),
    });
    expect(pasted.status).toBe(400);
    expect((await http('GET', url('/providers/provider-00000000-0000-4000-8000-000000000000'))).status).toBe(404);
    expect((await http('GET', url('/providers/not-an-id'))).status).toBe(422);
  });

  it("connects as Letta Code does, lists the provider's models by handle, and runs turns with its key", async () => {
    llm.models = ['gpt-byok-1', 'text-embedding-3-small'];
    // Letta Code's createOrUpdateProvider: find by name in the list, then create.
    expect((await http('GET', url('/providers'))).body).toEqual([]);
    const created = await http(
      'POST',
      url('/providers'),
      providerBody('lc-openai', 'openai', OPENAI_KEY, `${llm.url}/v1`),
    );
    expect(created.status).toBe(200);
    expectLettaSchema('Provider', created.body);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^provider-/),
      name: 'lc-openai',
      provider_type: 'openai',
      provider_category: 'byok',
      base_url: `${llm.url}/v1`,
      api_key: '****',
      last_synced: expect.any(String),
    });
    llm.models = ['claude-byok-1'];
    const anthropic = await http(
      'POST',
      url('/providers'),
      providerBody('lc-anthropic', 'anthropic', ANTHROPIC_KEY, llm.url),
    );
    expect(anthropic.status).toBe(200);

    const listed = await http('GET', url('/providers'));
    expect(listed.body.map((p: { name: string }) => p.name)).toEqual(['lc-openai', 'lc-anthropic']);
    expect(JSON.stringify(listed.body)).not.toContain(OPENAI_KEY);
    expect((await http('GET', url(`/providers/${created.body.id}`))).body).toEqual(created.body);
    expect((await http('GET', url('/providers?name=lc-anthropic'))).body).toHaveLength(1);

    const models = await server.client.models.list();
    for (const model of models) expectLettaSchema('Model', model);
    expect(models.map((m) => m.handle)).toEqual(['lc-openai/gpt-byok-1', 'lc-anthropic/claude-byok-1']);
    expect(models[0]).toMatchObject({
      provider_name: 'lc-openai',
      provider_category: 'byok',
      model_endpoint: `${llm.url}/v1`,
    });
    expect(await server.client.models.list({ provider_category: ['base'] })).toEqual([]);
    expect((await server.client.models.list({ provider_category: ['byok'] })).length).toBe(2);

    const openaiAgent = await server.client.agents.create({ model: 'lc-openai/gpt-byok-1' });
    llm.script({ text: 'hello through the openai provider' });
    const reply = await server.client.agents.messages.create(openaiAgent.id, {
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(JSON.stringify(reply.messages)).toContain('hello through the openai provider');
    const openaiCall = llm.calls.at(-1)!;
    expect(openaiCall).toMatchObject({ path: '/v1/chat/completions', body: { model: 'gpt-byok-1' } });
    expect(openaiCall.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);

    // Letta Code's /model: the handle, and model_settings it guesses as OpenAI's for any provider name it does not
    // know (`buildModelSettings`); the provider's own type decides how Cairn calls it.
    const anthropicAgent = await server.client.agents.create({});
    await server.client.agents.update(anthropicAgent.id, {
      model: 'lc-anthropic/claude-byok-1',
      model_settings: { provider_type: 'openai', parallel_tool_calls: true },
      context_window_limit: 200000,
    });
    llm.script({ text: 'hello through the anthropic provider' });
    const answer = await server.client.agents.messages.create(anthropicAgent.id, {
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(JSON.stringify(answer.messages)).toContain('hello through the anthropic provider');
    const anthropicCall = llm.calls.at(-1)!;
    expect(anthropicCall).toMatchObject({ path: '/v1/messages', body: { model: 'claude-byok-1' } });
    expect(anthropicCall.headers['x-api-key']).toBe(ANTHROPIC_KEY);
  });

  it('keeps the keys sealed at rest', async () => {
    const rows = await server.cairn.stores.providers.list();
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(isSealed(row.api_key_enc)).toBe(true);
      expect(row.api_key_enc).not.toContain(OPENAI_KEY);
      expect(row.api_key_enc).not.toContain(ANTHROPIC_KEY);
    }
    if (dialect === 'sqlite') {
      const file = readFileSync(join(server.config.dataDir, 'cairn.db')).toString('latin1');
      expect(file).not.toContain(OPENAI_KEY);
      expect(file).not.toContain(ANTHROPIC_KEY);
    }
  });

  it('updates the key: a bad one fails the check and the turns, the good one restores them', async () => {
    const [openai] = (await http('GET', url('/providers?name=lc-openai'))).body;
    const agent = await server.client.agents.create({ model: 'lc-openai/gpt-byok-1' });

    const patched = await http('PATCH', url(`/providers/${openai.id}`), { api_key: 'sk-revoked' });
    expect(patched.status).toBe(200);
    expect(patched.body.updated_at >= openai.updated_at).toBe(true);
    const check = await http('POST', url(`/providers/${openai.id}/check`));
    expect(check.status).toBe(401);
    expect(check.body.error.type).toBe('llm_authentication');
    const refused = await http('POST', url(`/agents/${agent.id}/messages`), { input: 'hi' });
    expect(refused.status).toBe(502);
    expect(JSON.stringify(refused.body)).toContain('Incorrect API key');
    expect(JSON.stringify(refused.body)).not.toContain('sk-revoked');

    // Letta Code's updateProvider sends the key again; a client echoing the redacted key keeps the stored one.
    expect((await http('PATCH', url(`/providers/${openai.id}`), { api_key: OPENAI_KEY })).status).toBe(200);
    expect((await http('PATCH', url(`/providers/${openai.id}`), { api_key: '****' })).status).toBe(200);
    expect((await http('POST', url(`/providers/${openai.id}/check`))).body).toEqual({
      message: 'Valid api key for provider_type=openai',
    });
    llm.script({ text: 'working again' });
    const reply = await server.client.agents.messages.create(agent.id, { messages: [{ role: 'user', content: 'hi' }] });
    expect(JSON.stringify(reply.messages)).toContain('working again');
  });

  it("refreshes a provider's models, as Letta Code does before listing them", async () => {
    const [openai] = (await http('GET', url('/providers?name=lc-openai'))).body;
    llm.models = ['gpt-byok-1', 'gpt-byok-2'];
    const refreshed = await http('PATCH', url(`/providers/${openai.id}/refresh`));
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.last_synced >= openai.last_synced).toBe(true);
    const handles = (await server.client.models.list({ provider_name: 'lc-openai' })).map((m) => m.handle);
    expect(handles).toEqual(['lc-openai/gpt-byok-1', 'lc-openai/gpt-byok-2']);
  });

  it('refuses a second provider of one name, and deletes one so that its handles stop resolving', async () => {
    const duplicate = await http(
      'POST',
      url('/providers'),
      providerBody('lc-openai', 'openai', OPENAI_KEY, `${llm.url}/v1`),
    );
    expect(duplicate.status).toBe(409);
    const [anthropic] = (await http('GET', url('/providers?name=lc-anthropic'))).body;
    const agent = await server.client.agents.create({ model: 'lc-anthropic/claude-byok-1' });
    expect((await http('DELETE', url(`/providers/${anthropic.id}`))).body).toEqual({
      message: `Provider id=${anthropic.id} successfully deleted`,
    });
    expect((await http('DELETE', url(`/providers/${anthropic.id}`))).status).toBe(404);
    expect((await server.client.models.list()).map((m) => m.handle)).not.toContain('lc-anthropic/claude-byok-1');
    const refused = await http('POST', url(`/agents/${agent.id}/messages`), { input: 'hi' });
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toContain("Unknown model provider 'lc-anthropic'");
  });

  it('serves the stored providers again after a restart', async () => {
    // A second server on the same database and data directory (the secret key lives there).
    const again = await createCairn(server.config, createLogger('silent'));
    try {
      await again.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = again.app.server.address() as AddressInfo;
      const client = new Letta({ baseURL: `http://127.0.0.1:${port}`, apiKey: null, maxRetries: 0 });
      expect((await client.models.list()).map((m) => m.handle)).toEqual([
        'lc-openai/gpt-byok-1',
        'lc-openai/gpt-byok-2',
      ]);
    } finally {
      await again.close();
    }
  });
});
