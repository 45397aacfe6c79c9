import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { BadRequestError, toFile } from '@letta-ai/letta-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { openAgentSecrets } from '../../src/domain/agent-secrets.js';
import { loadSecretBox } from '../../src/lib/secrets.js';
import { MessageStore } from '../../src/store/message.store.js';
import { checkAgentFile } from '../../src/schemas/agent-file-check.js';
import { comparableAgent } from '../support/agent-files.js';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';
import { http } from '../support/http.js';
import { httpFixture } from '../support/mcp-fixtures.js';
import { waitFor } from '../runtime/harness.js';
import { expectLettaSchema } from '../support/openapi.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/agent-files');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const MAX_BYTES = 512 * 1024;

// The SDK types the export as a string; the server sends JSON, which the SDK parses.
type AgentFileJson = {
  agents: Record<string, any>[];
  blocks: Record<string, any>[];
  tools: Record<string, any>[];
  [key: string]: any;
};

/** What must survive a round trip: the file with its timestamps and the ids that name the exporting agent dropped. */
function comparable(file: AgentFileJson, agentId: string): unknown {
  const text = JSON.stringify({ ...file, created_at: null }).replaceAll(agentId, '<agent>');
  // The compiled system message states when it was compiled.
  return JSON.parse(text.replace(/System prompt last recompiled: [^\\]+/g, 'recompiled'));
}

describe.each(testDialects())('agent files [%s]', (dialect) => {
  let server: TestCairn;
  let llm: FakeLlm;
  beforeAll(async () => {
    llm = await startFakeLlm();
    server = await startCairn(dialect, { agentFileMaxBytes: MAX_BYTES }, llm.env({ CAIRN_LLM_MAX_RETRIES: '0' }));
  });
  afterAll(async () => {
    await server?.close();
    await llm?.close();
  });
  beforeEach(() => llm.reset());

  /** An agent's secrets as stored: sealed per agent, so the test opens them with the server's own key. */
  const storedSecrets = async (agentId: string) => {
    const box = await loadSecretBox({ env: server.config.llmEnv, dataDir: server.config.dataDir });
    return openAgentSecrets(box, agentId, (await server.cairn.stores.agents.findById(agentId))!.secrets);
  };

  const retrieve = (agentId: string) =>
    server.client.agents.retrieve(agentId, { include: ['agent.blocks', 'agent.tools', 'agent.tags'] });
  const importText = async (text: string, fields: Record<string, unknown> = {}) =>
    server.client.agents.importFile({ file: await toFile(Buffer.from(text), 'agent.af'), ...fields });
  const exportFile = async (agentId: string, query: Record<string, unknown> = {}) =>
    (await server.client.agents.exportFile(agentId, query)) as unknown as AgentFileJson;
  const rowCounts = async () => {
    const tables = [
      'agents',
      'blocks',
      'tools',
      'messages',
      'agent_blocks',
      'agent_tools',
      'groups',
      'mcp_servers',
      'folders',
      'folder_files',
      'agent_folders',
      'agent_files',
    ] as const;
    const count = async (table: (typeof tables)[number]) => {
      const row = await server.cairn.dialect.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    };
    return Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await count(t)] as const)));
  };

  it('round-trips a live agent: import(export(a)) equals a in all but ids and timestamps', async () => {
    const agent = await server.client.agents.create({
      name: 'roundtrip',
      model: 'openai/gpt-4o-mini',
      description: 'kept',
      metadata: { team: 'blue' },
      tags: ['x', 'y'],
      memory_blocks: [
        { label: 'human', value: 'Name: Ada', limit: 500 },
        { label: 'persona', value: 'Helpful.', read_only: true, description: 'who I am' },
      ],
      tool_rules: [{ tool_name: 'memory_insert', type: 'continue_loop' }],
      secrets: { API_KEY: 'sk-very-secret-value' },
      timezone: 'Europe/Berlin',
    });
    llm.script(
      { toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_string: 'Likes tea' } }] },
      { text: 'Noted.' },
    );
    await server.client.agents.messages.create(agent.id, { messages: [{ role: 'user', content: 'I like tea' }] });

    const exported = await exportFile(agent.id);
    expectLettaSchema('AgentFileSchema', exported);
    expect(JSON.stringify(exported)).not.toContain('sk-very-secret-value');
    const [fileAgent] = exported.agents;
    expect(fileAgent!.id).toBe('agent-0');
    expect(fileAgent!.secrets).toEqual({ API_KEY: '' });
    expect(fileAgent!.block_ids).toEqual(['block-0', 'block-1']);
    expect(exported.blocks.map((b) => [b.label, b.value])).toEqual([
      ['human', 'Name: Ada\nLikes tea'],
      ['persona', 'Helpful.'],
    ]);
    const roles = fileAgent!.messages.map((m: { role: string }) => m.role);
    expect(roles).toEqual(['system', 'user', 'assistant', 'tool', 'assistant']);
    expect(fileAgent!.in_context_message_ids).toEqual(fileAgent!.messages.map((m: { id: string }) => m.id));
    const call = fileAgent!.messages[2].tool_calls[0];
    expect(fileAgent!.messages[3].tool_call_id).toBe(call.id);

    const { agent_ids } = await importText(JSON.stringify(exported), { append_copy_suffix: false });
    expect(agent_ids).toHaveLength(1);
    const copyId = agent_ids[0]!;
    expect(copyId).not.toBe(agent.id);
    const reexported = await exportFile(copyId);
    expect(comparable(reexported, copyId)).toEqual(comparable(exported, agent.id));

    const [original, copy] = await Promise.all([retrieve(agent.id), retrieve(copyId)]);
    expect(comparableAgent(copy)).toEqual(comparableAgent(original));
    // New blocks, not shared ones; the message rows are new too.
    expect(copy.blocks!.map((b) => b.id)).not.toEqual(original.blocks!.map((b) => b.id));
    expect(copy.message_ids!.some((id) => original.message_ids!.includes(id))).toBe(false);
    expect(await storedSecrets(copyId)).toEqual({ API_KEY: '' });
    // The copy's recall history is its own and searchable.
    const listed = await server.client.agents.messages.list(copyId, { order: 'asc' });
    expect(listed.getPaginatedItems().map((m) => m.message_type)).toContain('tool_return_message');
  });

  it('round-trips an agent with a folder of two files, one open, which its file tools and prompt see', async () => {
    const folderName = `kb-${dialect}`;
    const folder = await server.client.folders.create({ name: folderName, instructions: 'Cite the file' });
    const bodies = { 'guide.md': 'Install it first.\nThen run the deploy script.', 'notes.txt': 'PORT = 8080' };
    for (const [name, body] of Object.entries(bodies))
      await server.client.folders.files.upload(folder.id, { file: await toFile(Buffer.from(body), name) });
    const settled = async (folderId: string) => {
      await server.cairn.services.folders.idle();
      return waitFor(async () => {
        const files = (await server.client.folders.files.list(folderId)).items;
        return files.length === 2 && files.every((f) => f.processing_status === 'completed') ? files : undefined;
      }, 30_000);
    };
    await settled(folder.id);
    const agent = await server.client.agents.create({
      name: 'with-folder',
      model: 'openai/gpt-4o-mini',
      memory_blocks: [],
      include_base_tools: false,
    });
    await server.client.agents.folders.attach(folder.id, { agent_id: agent.id });
    const notes = (await server.client.agents.files.list(agent.id)).files.find((f) =>
      f.file_name.endsWith('notes.txt'),
    );
    await server.client.agents.files.close(notes!.file_id, { agent_id: agent.id });

    const exported = await exportFile(agent.id);
    expectLettaSchema('AgentFileSchema', exported);
    expect(exported.sources).toEqual([
      expect.objectContaining({ id: 'source-0', name: folderName, instructions: 'Cite the file' }),
    ]);
    expect(
      exported.files.map((f: Record<string, unknown>) => [f.id, f.source_id, f.original_file_name, f.content]),
    ).toEqual([
      ['file-0', 'source-0', 'guide.md', bodies['guide.md']],
      ['file-1', 'source-0', 'notes.txt', bodies['notes.txt']],
    ]);
    const [fileAgent] = exported.agents;
    expect(fileAgent!.source_ids).toEqual(['source-0']);
    expect(fileAgent!.files_agents.map((v: Record<string, unknown>) => [v.file_id, v.source_id, v.is_open])).toEqual([
      ['file-0', 'source-0', true],
      ['file-1', 'source-0', false],
    ]);

    const { agent_ids } = await importText(JSON.stringify(exported), { append_copy_suffix: false });
    const copyId = agent_ids[0]!;
    // Letta's rule: a folder name already taken gets a suffix, and the import never writes into the old folder.
    const [copyFolder] = (await server.client.agents.folders.list(copyId)).items;
    expect(copyFolder!.id).not.toBe(folder.id);
    expect(copyFolder!.name).toMatch(new RegExp(`^${folderName}_[0-9a-f]{8}$`));
    expect((await server.client.folders.files.list(folder.id)).items).toHaveLength(2);
    await settled(copyFolder!.id);

    const reexported = await exportFile(copyId);
    const renamed = JSON.parse(JSON.stringify(reexported).replaceAll(copyFolder!.name, folderName)) as AgentFileJson;
    expect(comparable(renamed, copyId)).toEqual(comparable(exported, agent.id));

    const system = (await http('POST', `${server.baseURL}/v1/agents/${copyId}/recompile`)).body as string;
    expect(system).toContain(`<directory name="${copyFolder!.name}">`);
    expect(system).toContain(`<file status="open" name="${copyFolder!.name}/guide.md">`);
    expect(system).toContain(`<file status="closed" name="${copyFolder!.name}/notes.txt">`);
    expect(system).toContain('1: Install it first.');

    llm.script(
      { toolCalls: [{ name: 'grep_files', arguments: { pattern: 'PORT' } }] },
      { toolCalls: [{ name: 'semantic_search_files', arguments: { query: 'deploy script' } }] },
      { text: 'Found it.' },
    );
    const reply = await server.client.agents.messages.create(copyId, { input: 'where is the port?' });
    const returns = reply.messages.flatMap((m) => (m.message_type === 'tool_return_message' ? [m.tool_return] : []));
    expect(returns).toHaveLength(2);
    expect(returns[0]).toContain(`=== ${copyFolder!.name}/notes.txt:1 ===`);
    expect(returns[1]).toContain(`=== ${copyFolder!.name}/guide.md (passage #1) ===`);
  });

  it('round-trips a sleeptime agent with MCP tools: its group, both agents, and the server without secrets', async () => {
    const fixtureHttp = await httpFixture('streamable-http');
    onTestFinished(() => fixtureHttp.stop());
    const mcp = await server.client.mcpServers.create({
      server_name: 'af-mcp',
      config: {
        mcp_server_type: 'streamable_http',
        server_url: fixtureHttp.url,
        auth_header: 'Authorization',
        auth_token: 'Bearer mcp-secret-value',
      },
    });
    const [mcpTool] = await server.client.mcpServers.tools.list(mcp.id!);
    const agent = await server.client.agents.create({
      name: 'dreamer',
      model: 'openai/gpt-4o-mini',
      enable_sleeptime: true,
      memory_blocks: [{ label: 'human', value: 'Name: Ada' }],
      tool_ids: [mcpTool!.id!],
    });

    const exported = await exportFile(agent.id);
    expectLettaSchema('AgentFileSchema', exported);
    expect(JSON.stringify(exported)).not.toContain('mcp-secret-value');
    expect(exported.agents.map((a) => [a.id, a.agent_type, a.group_ids])).toEqual([
      ['agent-0', agent.agent_type, ['group-0']],
      ['agent-1', 'sleeptime_agent', []],
    ]);
    expect(exported.groups).toEqual([
      expect.objectContaining({
        id: 'group-0',
        agent_ids: ['agent-1'],
        manager_config: { manager_type: 'sleeptime', manager_agent_id: 'agent-0', sleeptime_agent_frequency: 5 },
      }),
    ]);
    // The blocks the two agents share are in the file once.
    const labels = exported.blocks.map((b) => b.label);
    expect(new Set(labels).size).toBe(labels.length);
    expect(exported.agents[1]!.block_ids).toEqual(expect.arrayContaining(exported.agents[0]!.block_ids));
    expect(exported.mcp_servers).toEqual([
      {
        id: 'mcp_server-0',
        server_type: 'streamable_http',
        server_name: 'af-mcp',
        server_url: fixtureHttp.url,
        stdio_config: null,
        metadata_: null,
      },
    ]);
    const fileTool = exported.tools.find((t) => t.name === mcpTool!.name)!;
    expect(fileTool.metadata_.mcp).toMatchObject({ server_name: 'af-mcp', server_id: 'mcp_server-0' });

    const groupsOf = async (managerId: string) =>
      ((await http('GET', `${server.baseURL}/v1/groups/`)).body as Record<string, any>[]).filter(
        (g) => g.manager_agent_id === managerId,
      );
    const originalIds = [agent.id, ...(await groupsOf(agent.id))[0]!.agent_ids];
    // Imported where the server is unknown: it is created, without the secrets the file never had.
    await server.client.mcpServers.delete(mcp.id!);
    await server.client.agents.delete(agent.id);
    const before = await rowCounts();
    const { agent_ids } = await importText(JSON.stringify(exported), { append_copy_suffix: false });
    expect(agent_ids).toHaveLength(2);
    expect((await rowCounts()).agents).toBe(before.agents! + 2);
    const [primaryId, sleeptimeId] = agent_ids as [string, string];
    expect(await groupsOf(primaryId)).toEqual([
      expect.objectContaining({ manager_type: 'sleeptime', agent_ids: [sleeptimeId], sleeptime_agent_frequency: 5 }),
    ]);
    expect((await retrieve(primaryId)).enable_sleeptime).toBe(true);
    const servers = await server.cairn.stores.mcpServers.list();
    const restored = servers.find((s) => s.server_name === 'af-mcp')!;
    expect(restored.secrets).toBeNull();
    const linked = await server.cairn.stores.mcpServers.tools(restored.id);
    expect(linked.map((t) => t.name)).toEqual([mcpTool!.name]);
    expect((await retrieve(primaryId)).tools!.map((t) => t.name)).toContain(mcpTool!.name);

    const reexported = await exportFile(primaryId);
    const same = (file: AgentFileJson, ids: string[]) =>
      comparable(
        JSON.parse(ids.reduce((text, id, n) => text.replaceAll(id, `<agent-${n}>`), JSON.stringify(file))),
        '<agent-0>',
      );
    expect(same(reexported, agent_ids)).toEqual(same(exported, originalIds));
  });

  it('clones through the SDK: export then import with append_copy_suffix and the secrets form field', async () => {
    const agent = await server.client.agents.create({
      name: 'original',
      model: 'openai/gpt-4o-mini',
      memory_blocks: [{ label: 'human', value: 'h' }],
      secrets: { TOKEN: 'abc' },
    });
    const file = await exportFile(agent.id);
    const { agent_ids } = await importText(JSON.stringify(file), { secrets: JSON.stringify({ TOKEN: 'restored' }) });
    const clone = await retrieve(agent_ids[0]!);
    expect(clone.name).toBe('original_copy');
    expect(await storedSecrets(clone.id)).toEqual({ TOKEN: 'restored' });
    const named = await importText(JSON.stringify(file), { name: 'renamed', strip_messages: true });
    const renamed = await retrieve(named.agent_ids[0]!);
    expect(renamed.name).toBe('renamed');
    expect(renamed.message_ids).toHaveLength(1);
  });

  it('carries archival passages when asked (include_passages, a Cairn extension Letta ignores)', async () => {
    const agent = await server.client.agents.create({ model: 'openai/gpt-4o-mini' });
    await server.client.agents.passages.create(agent.id, { text: 'The launch is on Friday', tags: ['plans'] });
    await server.client.agents.passages.create(agent.id, { text: 'Ada prefers tea' });
    expect((await exportFile(agent.id)).agents[0]!.passages).toBeUndefined();
    const file = await exportFile(agent.id, { include_passages: true });
    expectLettaSchema('AgentFileSchema', file);
    expect(file.agents[0]!.passages).toMatchObject([
      { text: 'The launch is on Friday', tags: ['plans'] },
      { text: 'Ada prefers tea', tags: [] },
    ]);
    const { agent_ids } = await importText(JSON.stringify(file));
    const copied = await server.client.agents.passages.list(agent_ids[0]!);
    expect(copied.map((p) => [p.text, p.tags])).toEqual([
      ['The launch is on Friday', ['plans']],
      ['Ada prefers tea', []],
    ]);
    expect(
      copied.every((p) => p.created_at === file.agents[0]!.passages.find((q: any) => q.text === p.text).created_at),
    ).toBe(true);
  });

  it('exports with scrub_messages, a conversation, and skills through POST', async () => {
    const agent = await server.client.agents.create({ model: 'openai/gpt-4o-mini' });
    const scrubbed = await exportFile(agent.id, { scrub_messages: true });
    expect(scrubbed.agents[0]!.messages).toEqual([]);
    expect(scrubbed.agents[0]!.in_context_message_ids).toEqual([]);

    const conversation = await server.client.conversations.create({ agent_id: agent.id });
    const ofConversation = await exportFile(agent.id, { conversation_id: conversation.id });
    expect(ofConversation.agents[0]!.messages).toHaveLength(1);
    expect(ofConversation.agents[0]!.messages[0].content[0].text).toContain(`CONVERSATION_ID: ${conversation.id}`);

    const skill = { name: 'slack', files: { 'SKILL.md': '# Slack' } };
    const posted = await fetch(`${server.baseURL}/v1/agents/${agent.id}/export`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ skills: [skill], scrub_messages: true }),
    });
    expect(posted.status).toBe(200);
    const text = await posted.text();
    expect(text).toContain('\n  "agents": [');
    const body = JSON.parse(text) as AgentFileJson;
    expectLettaSchema('AgentFileSchema', body);
    expect(body.skills).toEqual([skill]);
    expect(body.agents[0]!.messages).toEqual([]);

    const missing = await fetch(`${server.baseURL}/v1/agents/agent-00000000-0000-4000-8000-000000000000/export`);
    expect(missing.status).toBe(404);
    const legacy = await fetch(`${server.baseURL}/v1/agents/${agent.id}/export?use_legacy_format=true`);
    expect(legacy.status).toBe(400);
  });

  it('imports a long history: 3,000 messages, in order, with the in-context tail', async () => {
    const file = JSON.parse(fixture('custom-tools.af')) as AgentFileJson;
    const messages = Array.from({ length: 3000 }, (_, i) => ({
      id: `message-${i}`,
      role: i === 0 ? 'system' : i % 2 ? 'user' : 'assistant',
      content: [{ type: 'text', text: `line ${i}` }],
      created_at: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
    }));
    file.agents[0]!.messages = messages;
    // Without its tools, so that the custom-tools test below still creates them.
    file.tools = [];
    file.agents[0]!.tool_ids = [];
    file.agents[0]!.in_context_message_ids = ['message-0', 'message-2998', 'message-2999'];
    const { agent_ids } = await importText(JSON.stringify(file));
    const agent = await retrieve(agent_ids[0]!);
    expect(agent.message_ids).toHaveLength(3);
    const page = await server.client.agents.messages.list(agent.id, { order: 'desc', limit: 2 });
    // The newest two, whichever way the page is ordered (Letta's order quirk, §1.8).
    const newest = page.getPaginatedItems().map((m) => (m as { content: string }).content);
    expect(newest.sort()).toEqual(['line 2998', 'line 2999']);
    const exported = await exportFile(agent.id);
    expect(exported.agents[0]!.messages).toHaveLength(3000);
    expect(exported.agents[0]!.in_context_message_ids).toEqual(['message-0', 'message-2998', 'message-2999']);
  });

  it('imports Letta’s published shapes: a double-encoded memgpt agent with its conversation', async () => {
    const { agent_ids } = await importText(fixture('memgpt-double-encoded.af'));
    const agent = await retrieve(agent_ids[0]!);
    expect(agent.name).toBe('memgpt_agent_copy');
    expect(agent.agent_type).toBe('memgpt_v2_agent');
    expect(agent.llm_config.handle).toBe('openai/gpt-4o-mini');
    expect(agent.llm_config.context_window).toBe(32000);
    expect(agent.tools!.map((t) => t.name).sort()).toEqual(['conversation_search', 'memory_insert', 'send_message']);
    // Core tools are Cairn's own rows, matched by name: never created again, never overwritten.
    const base = await http('POST', `${server.baseURL}/v1/tools/add-base-tools`);
    const baseIds = new Set((base.body as { id: string }[]).map((t) => t.id));
    expect(agent.tools!.every((t) => baseIds.has(t.id))).toBe(true);
    expect(agent.tool_rules).toHaveLength(2);
    expect(agent.message_ids).toHaveLength(5);
    const messages = (await server.client.agents.messages.list(agent.id, { order: 'asc' })).getPaginatedItems();
    const system = messages[0] as { message_type: string; content: string };
    expect(system.message_type).toBe('system_message');
    // Recompiled for the new agent, with its imported blocks.
    expect(system.content).toContain(`AGENT_ID: ${agent.id}`);
    expect(system.content).toContain('First name: Chad');
    expect(messages.map((m) => m.message_type)).toContain('user_message');
  });

  it('imports a sleeptime pair with shared blocks and their group', async () => {
    const { agent_ids } = await importText(fixture('sleeptime-group.af'), { append_copy_suffix: false });
    expect(agent_ids).toHaveLength(2);
    const [primary, sleeptime] = await Promise.all(agent_ids.map((id) => retrieve(id)));
    expect(primary!.name).toBe('Companion');
    expect(sleeptime!.agent_type).toBe('sleeptime_agent');
    const shared = primary!.blocks!.map((b) => b.id);
    expect(sleeptime!.blocks!.map((b) => b.id)).toEqual(expect.arrayContaining(shared));
    expect(sleeptime!.blocks!.map((b) => b.label)).toContain('memory_persona');
    expect(primary!.blocks!.find((b) => b.label === 'persona')!.read_only).toBe(true);
    const group = ((await http('GET', `${server.baseURL}/v1/groups/`)).body as Record<string, unknown>[]).find(
      (g) => g.manager_agent_id === primary!.id,
    );
    expect(group).toMatchObject({
      manager_type: 'sleeptime',
      agent_ids: [sleeptime!.id],
      sleeptime_agent_frequency: 5,
    });
  });

  it('imports custom Python tools, deriving a schema from the docstring when the file has none', async () => {
    const before = await rowCounts();
    const { agent_ids } = await importText(fixture('custom-tools.af'), { override_existing_tools: true });
    const agent = await retrieve(agent_ids[0]!);
    expect(agent.timezone).toBe('America/Los_Angeles');
    expect(agent.metadata).toEqual({ origin: 'letta' });
    const byName = new Map(agent.tools!.map((t) => [t.name, t]));
    expect([...byName.keys()].sort()).toEqual(['calculate_fibonacci', 'get_user_preferences', 'web_search']);
    expect(byName.get('calculate_fibonacci')!.source_code).toContain('def calculate_fibonacci');
    const derived = byName.get('get_user_preferences')!;
    expect(derived.json_schema).toMatchObject({
      name: 'get_user_preferences',
      parameters: { properties: { category: { type: 'string' } }, required: ['category'] },
    });
    expect(derived.pip_requirements).toEqual([{ name: 'requests', version: null }]);
    // web_search is one of Cairn's built-ins: reused, not created.
    expect((await rowCounts()).tools).toBe(before.tools! + 2);

    // A second import reuses the tools by name (override_existing_tools=false leaves them as they are).
    const file = JSON.parse(fixture('custom-tools.af')) as AgentFileJson;
    file.tools[0]!.source_code = file.tools[0]!.source_code.replace('return a', 'return b');
    const again = await importText(JSON.stringify(file), { override_existing_tools: false });
    const second = await retrieve(again.agent_ids[0]!);
    expect(second.tools!.map((t) => t.id).sort()).toEqual(agent.tools!.map((t) => t.id).sort());
    expect(second.tools!.find((t) => t.name === 'calculate_fibonacci')!.source_code).toContain('return a\n');
    await importText(JSON.stringify(file), { override_existing_tools: true });
    const third = await retrieve(agent.id);
    expect(third.tools!.find((t) => t.name === 'calculate_fibonacci')!.source_code).toContain('return b\n');
  });

  describe('hostile and broken files get a clear 4xx and write nothing', () => {
    const refuse = async (text: string, status: number, detail: RegExp) => {
      const before = await rowCounts();
      const response = await rawImport(Buffer.from(text));
      expect(response.status).toBe(status);
      expect(JSON.parse(response.body).detail).toMatch(detail);
      expect(await rowCounts()).toEqual(before);
    };
    const valid = () => JSON.parse(fixture('custom-tools.af')) as AgentFileJson;

    const rawImport = (payload: Buffer, fields: Record<string, string> = {}) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      form.append('file', new Blob([payload]), 'agent.af');
      return fetch(`${server.baseURL}/v1/agents/import`, { method: 'POST', body: form }).then(async (r) => ({
        status: r.status,
        body: await r.text(),
      }));
    };

    it('malformed, truncated, not an object', async () => {
      await refuse('{"agents": [', 400, /Corrupted agent file format/);
      await refuse(JSON.stringify(valid()).slice(0, 500), 400, /Corrupted agent file format/);
      await refuse('[1, 2]', 400, /expected a JSON object/);
      await refuse('', 400, /Corrupted agent file format/);
    });

    it('the legacy v1 format and unknown shapes', async () => {
      await refuse(JSON.stringify({ agent_type: 'memgpt_agent', core_memory: [], version: '0.6.0' }), 400, /Legacy/);
      await refuse(JSON.stringify({ agents: [] }), 400, /at least one agent/);
      const badRole = valid();
      badRole.agents[0]!.messages = [{ id: 'message-0', role: 'wizard', content: [] }];
      await refuse(JSON.stringify(badRole), 400, /agents\.0\.messages\.0\.role/);
      const realIds = valid();
      realIds.agents[0]!.id = 'agent-00000000-0000-4000-8000-000000000000';
      await refuse(JSON.stringify(realIds), 400, /agents\.0\.id: should look like 'agent-<integer>'/);
    });

    it('dangling and duplicate references', async () => {
      const dangling = valid();
      dangling.agents[0]!.block_ids = ['block-9'];
      await refuse(JSON.stringify(dangling), 400, /unknown block block-9/);
      const inContext = valid();
      inContext.agents[0]!.in_context_message_ids = ['message-4'];
      await refuse(JSON.stringify(inContext), 400, /message-4, which the agent does not have/);
      const duplicate = valid();
      duplicate.tools[1]!.id = 'tool-0';
      await refuse(JSON.stringify(duplicate), 400, /duplicate id tool-0/);
      const overLimit = valid();
      overLimit.blocks[0]!.limit = 3;
      await refuse(JSON.stringify(overLimit), 400, /over its limit of 3/);
      const badName = valid();
      badName.agents[0]!.name = 'no/slashes';
      await refuse(JSON.stringify(badName), 400, /agents\.0\.name/);
      const strayGroup = valid();
      strayGroup.groups = [
        { id: 'group-0', agent_ids: ['agent-7'], manager_config: { manager_type: 'round_robin' } },
        { id: 'group-1', agent_ids: [], manager_config: { manager_type: 'supervisor' } },
      ];
      await refuse(
        JSON.stringify(strayGroup),
        400,
        /groups\.0 names unknown agent agent-7.*groups\.1: a supervisor group needs/,
      );
      const strayServer = valid();
      strayServer.tools[0]!.metadata_ = { mcp: { server_name: 'gone', server_id: 'mcp_server-3' } };
      strayServer.mcp_servers = [{ id: 'mcp_server-0', server_type: 'sse', server_name: 'no-url' }];
      await refuse(
        JSON.stringify(strayServer),
        400,
        /mcp_servers\.0 \(sse\) has no server_url.*unknown MCP server mcp_server-3/,
      );
    });

    it('files in unknown folders, views of unknown files, and oversized content', async () => {
      const withFolder = () => {
        const file = valid();
        file.sources = [{ id: 'source-0', name: 'kb' }];
        file.files = [{ id: 'file-0', source_id: 'source-0', original_file_name: 'a.txt', content: 'alpha' }];
        file.agents[0]!.source_ids = ['source-0'];
        file.agents[0]!.files_agents = [
          { id: 'file_agent-0', file_id: 'file-0', source_id: 'source-0', file_name: 'kb/a.txt', is_open: true },
        ];
        return file;
      };
      const stray = withFolder();
      stray.files[0].source_id = 'source-4';
      await refuse(JSON.stringify(stray), 400, /files\.0 names unknown source source-4/);
      const strayView = withFolder();
      strayView.agents[0]!.files_agents[0].file_id = 'file-9';
      strayView.agents[0]!.source_ids = ['source-2'];
      await refuse(
        JSON.stringify(strayView),
        400,
        /source_ids names unknown source source-2.*files_agents\.0 names unknown file file-9/,
      );
      const twice = withFolder();
      twice.files.push({ id: 'file-1', source_id: 'source-0', file_name: 'kb/a.txt', content: 'beta' });
      await refuse(JSON.stringify(twice), 400, /source source-0 has two files named 'a\.txt'/);
      const notText = withFolder();
      notText.files[0].content = { evil: true };
      await refuse(JSON.stringify(notText), 400, /files\.0\.content/);

      // Over the upload limit: larger than this suite's upload cap, so the service is called as the route calls it.
      const before = await rowCounts();
      const huge = withFolder();
      huge.files[0].content = 'x'.repeat(50 * 1024 * 1024 + 1);
      const checked = checkAgentFile(huge);
      if (!checked.ok) throw new Error(checked.problem);
      const importing = server.cairn.services.agentFiles.import(checked.file, {
        appendCopySuffix: false,
        overrideExistingTools: false,
        stripMessages: false,
      });
      await expect(importing).rejects.toMatchObject({ status: 400, message: /over the 52428800-byte upload limit/ });
      expect(await rowCounts()).toEqual(before);
    });

    it('a stdio MCP server while stdio is disabled, as the API refuses it', async () => {
      const stdio = valid();
      stdio.mcp_servers = [
        { id: 'mcp_server-0', server_type: 'stdio', server_name: 'local', stdio_config: { command: 'sh', args: [] } },
      ];
      await refuse(JSON.stringify(stdio), 400, /MCP stdio servers are disabled/);
    });

    it('a tool whose source does not parse', async () => {
      const broken = valid();
      broken.tools[0]!.source_code = 'def calculate_fibonacci(n: int) -> int\n    return n\n';
      await refuse(
        JSON.stringify(broken),
        400,
        /Tool tool-0 \(calculate_fibonacci\) cannot be imported: line \d+: invalid syntax/,
      );
      const noDoc = valid();
      noDoc.tools[1]!.source_code = 'def get_user_preferences(category: str) -> str:\n    return category\n';
      await refuse(JSON.stringify(noDoc), 400, /has no docstring/);
    });

    it('deep nesting is refused while it streams', async () => {
      const deep = valid();
      deep.agents[0]!.metadata = { nest: JSON.parse('['.repeat(500) + ']'.repeat(500)) };
      await refuse(JSON.stringify(deep), 400, /nests deeper than 100 levels/);
    });

    it('an oversized upload is refused without being read whole', async () => {
      await refuse(' '.repeat(MAX_BYTES + 1), 413, /larger than/);
      // A 64 MiB stream: the server answers at the cap and stops reading; the client sees 413 long before it is done.
      const sent = await streamHugeUpload(`${server.baseURL}/v1/agents/import`, 64 * 1024 * 1024);
      expect(sent.status).toBe(413);
      expect(sent.bytesWritten).toBeLessThan(64 * 1024 * 1024);
      expect((await server.client.agents.list({ limit: 1 })).getPaginatedItems().length).toBeGreaterThanOrEqual(0);
    });

    it('the multipart request itself: no file, bad form fields', async () => {
      const noFile = await fetch(`${server.baseURL}/v1/agents/import`, { method: 'POST', body: new FormData() });
      expect(noFile.status).toBe(422);
      const json = await fetch(`${server.baseURL}/v1/agents/import`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(json.status).toBe(422);
      // Found by the fuzz campaign: a truncated multipart body was a 500.
      const truncated = await fetch(`${server.baseURL}/v1/agents/import`, {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary=x' },
        body: '--x\r\nbroken',
      });
      expect(truncated.status).toBe(400);
      const file = Buffer.from(JSON.stringify(valid()));
      expect((await rawImport(file, { strip_messages: 'maybe' })).status).toBe(422);
      expect((await rawImport(file, { secrets: '{not json' })).status).toBe(400);
      await expect(importText('{', {})).rejects.toBeInstanceOf(BadRequestError);
    });

    it('a failure halfway through rolls back every write', async () => {
      const before = await rowCounts();
      const original = MessageStore.prototype.insertMany;
      let calls = 0;
      // Calls: the first agent's start-up thread, its file messages, the second agent's start-up thread, then its
      // file messages, which fail: tools, blocks and a whole agent were written before.
      const insertMany = vi.spyOn(MessageStore.prototype, 'insertMany').mockImplementation(async function (
        this: MessageStore,
        rows,
      ) {
        if (++calls === 4) throw new Error('disk full');
        return original.call(this, rows);
      });
      try {
        const response = await rawImport(Buffer.from(fixture('sleeptime-group.af')));
        expect(response.status).toBe(500);
      } finally {
        insertMany.mockRestore();
      }
      expect(await rowCounts()).toEqual(before);
    });
  });
});

/** Streams `total` bytes of a multipart file part and stops when the server answers. */
function streamHugeUpload(url: string, total: number): Promise<{ status: number; bytesWritten: number }> {
  const boundary = 'cairn-test-boundary';
  return new Promise((resolve, reject) => {
    let bytesWritten = 0;
    let answered = false;
    const req = httpRequest(url, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    req.on('response', (res) => {
      answered = true;
      res.resume();
      resolve({ status: res.statusCode ?? 0, bytesWritten });
      req.destroy();
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.af"\r\n\r\n`);
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    // One chunk per turn of the event loop, so the server's answer is seen as soon as it comes.
    const pump = () => {
      if (answered) return;
      if (bytesWritten >= total) return void req.end(`\r\n--${boundary}--\r\n`);
      bytesWritten += chunk.length;
      if (req.write(chunk)) setImmediate(pump);
      else req.once('drain', pump);
    };
    pump();
  });
}
