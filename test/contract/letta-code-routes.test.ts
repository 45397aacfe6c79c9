import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { http } from '../support/http.js';
import { expectLettaSchema } from '../support/openapi.js';

/** Routes Letta Code calls outside its headless first turn (test/e2e/letta-code.test.ts covers that turn). */
describe.each(testDialects())('routes Letta Code relies on [%s]', (dialect) => {
  let server: TestCairn;
  beforeAll(async () => {
    server = await startCairn(dialect);
  });
  afterAll(() => server.close());

  it('POST /v1/tools/add-base-tools lists the built-in tools, including the ones Letta Code requests by name', async () => {
    const response = await http('POST', `${server.baseURL}/v1/tools/add-base-tools`);
    expect(response.status).toBe(200);
    const tools = response.body as { name: string }[];
    for (const tool of tools) expectLettaSchema('Tool', tool);
    expect(tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['web_search', 'fetch_webpage', 'memory_insert', 'conversation_search']),
    );
    // Idempotent, as Letta's upsert is: a second call changes nothing.
    expect((await http('POST', `${server.baseURL}/v1/tools/add-base-tools`)).body).toEqual(tools);
  });

  it('attaches and detaches a tool by id: null for 1.0 clients, the agent for legacy ones, 404 for unknown ids', async () => {
    const agent = await server.client.agents.create({
      tools: ['web_search', 'fetch_webpage'],
      include_base_tools: false,
    });
    const webSearch = agent.tools.find((t) => t.name === 'web_search')!;
    const toolNames = async () =>
      (await server.client.agents.retrieve(agent.id, { include: ['agent.tools'] })).tools.map((t) => t.name).sort();

    expect(await server.client.agents.tools.detach(webSearch.id, { agent_id: agent.id })).toBeNull();
    expect(await toolNames()).toEqual(['fetch_webpage']);
    await server.client.agents.tools.detach(webSearch.id, { agent_id: agent.id }); // already detached: no error
    expect(await server.client.agents.tools.attach(webSearch.id, { agent_id: agent.id })).toBeNull();
    await server.client.agents.tools.attach(webSearch.id, { agent_id: agent.id }); // already attached: not twice
    expect(await toolNames()).toEqual(['fetch_webpage', 'web_search']);

    // A legacy client (any other User-Agent with a slash, no Stainless header) gets the whole agent back.
    const legacy = await http(
      'PATCH',
      `${server.baseURL}/v1/agents/${agent.id}/tools/detach/${webSearch.id}`,
      undefined,
      { 'user-agent': 'python-requests/2.32' },
    );
    expect(legacy.status).toBe(200);
    expectLettaSchema('AgentState', legacy.body);
    expect((legacy.body as { tools: { name: string }[] }).tools.map((t) => t.name)).toEqual(['fetch_webpage']);

    const missingTool = await http(
      'PATCH',
      `${server.baseURL}/v1/agents/${agent.id}/tools/attach/tool-00000000-0000-4000-8000-000000000000`,
    );
    expect(missingTool.status).toBe(404);
    const missingAgent = await http(
      'PATCH',
      `${server.baseURL}/v1/agents/agent-00000000-0000-4000-8000-000000000000/tools/attach/${webSearch.id}`,
    );
    expect(missingAgent.status).toBe(404);
  });
});
