import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, type TestCairn } from '../support/cairn.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';
import { http } from '../support/http.js';

/**
 * The npm package letta-mcp-server (v3, Rust) cannot be installed on this machine (the registry answers E404), so
 * this suite replays the REST calls it makes, as documented for v3 and the Node 2.x builds: its exact paths
 * (trailing slashes as sent), methods and headers, against a live Cairn.
 */
const PASSWORD = 'letta-mcp-password';
let server: TestCairn;
let llm: FakeLlm;
let v1: string;
const v3 = { Authorization: `Bearer ${PASSWORD}` };
// The Node builds send both auth headers and, on some calls, an agent id as `user_id` (sic).
const node = (agentId: string) => ({
  Authorization: `Bearer ${PASSWORD}`,
  'X-BARE-PASSWORD': `password ${PASSWORD}`,
  user_id: agentId,
});

beforeAll(async () => {
  llm = await startFakeLlm();
  server = await startCairn('sqlite', { password: PASSWORD }, llm.env());
  v1 = `${server.baseURL}/v1`;
});
afterAll(async () => {
  await server?.close();
  await llm?.close();
});

describe('REST calls of letta-mcp-server against Cairn', () => {
  let agentId: string;

  it('startup check: GET /v1/agents/count is a bare integer', async () => {
    const res = await http('GET', `${v1}/agents/count`, undefined, v3);
    expect(res.status).toBe(200);
    expect(res.body).toBe(0);
    expect((await http('GET', `${v1}/agents/count`)).status).toBe(401);
  });

  it('agents: POST /v1/agents (no slash) with legacy fields, list with and without the slash, get', async () => {
    const created = await http(
      'POST',
      `${v1}/agents`,
      {
        name: 'mcp-client',
        description: 'made like create_agent',
        memory_blocks: [{ label: 'human', value: 'Name: Lin' }],
        llm_config: null,
        parameters: { foo: 1 },
      },
      v3,
    );
    expect(created.status).toBe(200);
    agentId = created.body.id;
    for (const path of [
      '/agents/?limit=50',
      '/agents?limit=50',
      '/agents/?limit=50&name=mcp-client',
      '/agents/?limit=50&query_text=mcp',
    ]) {
      const res = await http('GET', `${v1}${path}`, undefined, v3);
      expect(res.status, path).toBe(200);
      expect(
        res.body.map((a: any) => a.id),
        path,
      ).toEqual([agentId]);
    }
    const got = await http('GET', `${v1}/agents/${agentId}`, undefined, node(agentId));
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: agentId, name: 'mcp-client' });
    expect((await http('GET', `${v1}/agents/count`, undefined, v3)).body).toBe(1);
  });

  it('core memory: /core-memory, blocks by label, attach returns the agent (never null)', async () => {
    const memory = await http('GET', `${v1}/agents/${agentId}/core-memory`, undefined, node(agentId));
    expect(memory.status).toBe(200);
    expect(memory.body.blocks.map((b: any) => b.label)).toEqual(['human']);
    expect((await http('GET', `${v1}/agents/${agentId}/core-memory/blocks`, undefined, v3)).body).toHaveLength(1);
    const patched = await http(
      'PATCH',
      `${v1}/agents/${agentId}/core-memory/blocks/human`,
      { value: 'Name: Lin Wei' },
      node(agentId),
    );
    expect(patched.status).toBe(200);
    expect((await http('GET', `${v1}/agents/${agentId}/core-memory/blocks/human`, undefined, v3)).body.value).toBe(
      'Name: Lin Wei',
    );

    const block = await http('POST', `${v1}/blocks/`, { label: 'notes', value: 'from the MCP server' }, v3);
    expect(block.status).toBe(200);
    expect((await http('GET', `${v1}/blocks/${block.body.id}`, undefined, v3)).body.value).toBe('from the MCP server');
    expect((await http('PATCH', `${v1}/blocks/${block.body.id}`, { value: 'edited' }, v3)).body.value).toBe('edited');
    const attached = await http(
      'PATCH',
      `${v1}/agents/${agentId}/core-memory/blocks/attach/${block.body.id}`,
      undefined,
      node(agentId),
    );
    expect(attached.status).toBe(200);
    expect(attached.body).toMatchObject({ id: agentId });
    expect(
      (await http('GET', `${v1}/blocks/${block.body.id}/agents`, undefined, v3)).body.map((a: any) => a.id),
    ).toEqual([agentId]);
    const detached = await http(
      'PATCH',
      `${v1}/agents/${agentId}/core-memory/blocks/detach/${block.body.id}`,
      undefined,
      v3,
    );
    expect(detached.body).toMatchObject({ id: agentId });
  });

  it('archival: list, insert {text}, search ?query=&top_k= → {results, count}, delete', async () => {
    const inserted = await http(
      'POST',
      `${v1}/agents/${agentId}/archival-memory`,
      { text: 'Lin prefers tabs over spaces' },
      node(agentId),
    );
    expect(inserted.status).toBe(200);
    expect(inserted.body).toHaveLength(1);
    const passageId = inserted.body[0].id;
    expect(
      (await http('GET', `${v1}/agents/${agentId}/archival-memory`, undefined, v3)).body.map((p: any) => p.id),
    ).toEqual([passageId]);
    const search = await http(
      'GET',
      `${v1}/agents/${agentId}/archival-memory/search?query=tabs%20or%20spaces&top_k=5`,
      undefined,
      v3,
    );
    expect(search.status).toBe(200);
    expect(search.body.count).toBe(1);
    expect(search.body.results[0]).toMatchObject({ id: passageId, content: 'Lin prefers tabs over spaces' });
    expect((await http('DELETE', `${v1}/agents/${agentId}/archival-memory/${passageId}`, undefined, v3)).status).toBe(
      200,
    );
    expect((await http('GET', `${v1}/agents/${agentId}/archival-memory`, undefined, v3)).body).toEqual([]);
  });

  it('messages: stream (SSE data lines), list, and POST reset-messages', async () => {
    llm.script({ text: 'Hi Lin!' });
    const response = await fetch(`${v1}/agents/${agentId}/messages/stream`, {
      method: 'POST',
      headers: { ...v3, 'content-type': 'application/json' },
      body: JSON.stringify({
        messages: [{ role: 'user', content: 'hello' }],
        stream_steps: false,
        stream_tokens: false,
      }),
    });
    expect(response.status).toBe(200);
    const events = (await response.text())
      .split('\n')
      .filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]')
      .map((l) => JSON.parse(l.slice(6)));
    expect(events.find((e) => e.message_type === 'assistant_message')?.content).toBe('Hi Lin!');
    const list = await http('GET', `${v1}/agents/${agentId}/messages`, undefined, node(agentId));
    expect(list.status).toBe(200);
    expect(list.body.some((m: any) => m.message_type === 'assistant_message')).toBe(true);
    const reset = await http(
      'POST',
      `${v1}/agents/${agentId}/reset-messages`,
      { add_default_initial_messages: false },
      v3,
    );
    expect(reset.status).toBe(200);
    const after = await http('GET', `${v1}/agents/${agentId}/messages`, undefined, v3);
    expect(after.body.some((m: any) => m.message_type === 'assistant_message')).toBe(false);
  });

  it('agents: PATCH and DELETE', async () => {
    expect(
      (await http('PATCH', `${v1}/agents/${agentId}`, { description: 'changed' }, node(agentId))).body.description,
    ).toBe('changed');
    expect((await http('DELETE', `${v1}/agents/${agentId}`, undefined, v3)).status).toBe(200);
    expect((await http('GET', `${v1}/agents/count`, undefined, v3)).body).toBe(0);
  });
});
