import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, testDialects, type TestCairn, type TestDialect } from '../support/cairn.js';
import { http } from '../support/http.js';
import { expectLettaSchema } from '../support/openapi.js';

/** Tests that run Python boot Pyodide, which takes tens of seconds on a loaded two-core machine. */
const PYODIDE_BOOT_MS = 120_000;

/** Letta's `LETTA_TOOL_SET` (`letta/constants.py`). */
const LETTA_TOOL_SET = [
  'send_message',
  'conversation_search',
  'archival_memory_insert',
  'archival_memory_search',
  'core_memory_append',
  'core_memory_replace',
  'memory',
  'memory_apply_patch',
  'send_message_to_agent_and_wait_for_reply',
  'send_message_to_agents_matching_tags',
  'send_message_to_agent_async',
  'memory_replace',
  'memory_insert',
  'memory_rethink',
  'memory_finish_edits',
  'store_memories',
  'rethink_user_memory',
  'finish_rethinking_memory',
  'search_memory',
  'run_code',
  'run_code_with_tools',
  'web_search',
  'fetch_webpage',
  'open_files',
  'grep_files',
  'semantic_search_files',
];

const ROLL_DICE = `
def roll_dice(sides: int, times: int = 1) -> str:
    """
    Roll a die several times.

    Args:
        sides (int): How many sides the die has.
        times (int): How many rolls to make.

    Returns:
        str: The rolls.
    """
    return ",".join(str(min(sides, 4)) for _ in range(times))
`;

const JS_SCHEMA = {
  name: 'shout',
  description: 'Upper-cases a text.',
  parameters: {
    type: 'object',
    properties: { text: { type: 'string', description: 'What to shout.' } },
    required: ['text'],
  },
};

/** One server per describe block; `url` is its `/v1` base. */
function useServer(dialect: TestDialect): { server: TestCairn; url: string } {
  const t = {} as { server: TestCairn; url: string };
  beforeAll(async () => {
    t.server = await startCairn(dialect);
    t.url = `${t.server.baseURL}/v1`;
  });
  afterAll(() => t.server.close());
  return t;
}

describe.each(testDialects())(
  '/v1/tools [%s]',
  (dialect) => {
    const t = useServer(dialect);

    it("lists all 26 of Letta's base tools; Letta Code's start-up GET /v1/tools/?name= finds them", async () => {
      const tools = [];
      for await (const tool of t.server.client.tools.list({ limit: 10 })) tools.push(tool);
      for (const tool of tools) expectLettaSchema('Tool', tool);
      const names = tools.map((tool) => tool.name);
      expect(names).toEqual(expect.arrayContaining(LETTA_TOOL_SET));
      expect(new Set(names).size).toBe(names.length);
      for (const tool of tools.filter((tool) => LETTA_TOOL_SET.includes(tool.name ?? '')))
        expect((tool.json_schema as { name: string }).name).toBe(tool.name);

      // Letta Code's exact start-up request, with and without the trailing slash.
      for (const path of ['/tools/?name=web_search&limit=1', '/tools?name=web_search&limit=1']) {
        const response = await http('GET', `${t.url}${path}`);
        expect(response.status).toBe(200);
        expect(response.body.map((tool: { name: string }) => tool.name)).toEqual(['web_search']);
        expect(response.body[0].tool_type).toBe('letta_builtin');
      }
      const some = await http('GET', `${t.url}/tools/?names=memory&names=open_files&order=asc`);
      expect(some.body.map((tool: { name: string }) => tool.name).sort()).toEqual(['memory', 'open_files']);
    });

    it('creates a Python tool from source, deriving name, description and schema; upsert keeps its id', async () => {
      const tool = await t.server.client.tools.create({ source_code: ROLL_DICE, tags: ['games'] });
      expectLettaSchema('Tool', tool);
      expect(tool).toMatchObject({
        name: 'roll_dice',
        description: 'Roll a die several times.',
        tool_type: 'custom',
        source_type: 'python',
        tags: ['games'],
        return_char_limit: 50_000,
      });
      expect(tool.json_schema).toEqual({
        name: 'roll_dice',
        description: 'Roll a die several times.',
        parameters: {
          type: 'object',
          properties: {
            sides: { type: 'integer', description: 'How many sides the die has.' },
            times: { type: 'integer', description: 'How many rolls to make.' },
          },
          required: ['sides'],
        },
      });
      const upserted = await t.server.client.tools.upsert({
        source_code: ROLL_DICE,
        description: 'Dice.',
        return_char_limit: 10,
      });
      expect(upserted).toMatchObject({ id: tool.id, description: 'Dice.', return_char_limit: 10 });
      const again = await t.server.client.tools.create({ source_code: ROLL_DICE });
      expect(again.id).toBe(tool.id);
      expect(await t.server.client.tools.retrieve(tool.id)).toEqual(again);
    });

    it('answers source without a schema with a 4xx that names the line and the argument', async () => {
      const syntax = await http('POST', `${t.url}/tools/`, { source_code: 'def broken(:\n    pass\n' });
      expect(syntax.status).toBe(400);
      expect(syntax.body.detail).toMatch(/line 1/);

      const undocumented = await http('POST', `${t.url}/tools/`, {
        source_code:
          'def f(a: int, b: str) -> str:\n    """Does f.\n\n    Args:\n        a (int): The a.\n    """\n    return b\n',
      });
      expect(undocumented.status).toBe(400);
      expect(undocumented.body.detail).toMatch(/line \d+/);
      expect(undocumented.body.detail).toContain("'b'");

      const noSchema = await http('POST', `${t.url}/tools/`, {
        source_code: 'export function shout(text) { return text; }',
        source_type: 'typescript',
      });
      expect(noSchema.status).toBe(422);

      const badType = await http('POST', `${t.url}/tools/`, { source_code: ROLL_DICE, source_type: 'cobol' });
      expect(badType.status).toBe(422);
      const badFilter = await http('GET', `${t.url}/tools/?tool_types=nonsense`);
      expect(badFilter.status).toBe(400);
      expect(badFilter.body.detail).toContain("Invalid tool_type 'nonsense'");
      const badId = await http('GET', `${t.url}/tools/not-a-tool-id`);
      expect(badId.status).toBe(422);
      const unknown = await http('GET', `${t.url}/tools/tool-00000000-0000-4000-8000-000000000000`);
      expect(unknown.status).toBe(404);
    });

    it('creates JavaScript and TypeScript tools with their explicit schema', async () => {
      for (const sourceType of ['javascript', 'typescript'] as const) {
        const name = `shout_${sourceType}`;
        const tool = await t.server.client.tools.create({
          source_code: `function ${name}(text${sourceType === 'typescript' ? ': string' : ''}) { return text.toUpperCase(); }`,
          source_type: sourceType,
          json_schema: { ...JS_SCHEMA, name },
        });
        expectLettaSchema('Tool', tool);
        expect(tool).toMatchObject({ name, source_type: sourceType, description: 'Upper-cases a text.' });
      }
    });

    it('updates a tool: new source re-derives the schema and name; deleting gives 404', async () => {
      const tool = await t.server.client.tools.create({
        source_code:
          'def greet(who: str) -> str:\n    """Greets.\n\n    Args:\n        who: Whom to greet.\n    """\n    return "hi " + who\n',
      });
      const renamed = await t.server.client.tools.update(tool.id, {
        source_code:
          'def welcome(guest: str, loud: bool = False) -> str:\n    """Welcomes a guest.\n\n    Args:\n        guest: The guest.\n        loud: Shout it.\n    """\n    return guest\n',
        tags: ['hosting'],
        metadata_: { owner: 'test' },
      });
      expectLettaSchema('Tool', renamed);
      expect(renamed).toMatchObject({
        id: tool.id,
        name: 'welcome',
        description: 'Welcomes a guest.',
        tags: ['hosting'],
        metadata_: { owner: 'test' },
      });
      expect(
        Object.keys((renamed.json_schema as { parameters: { properties: object } }).parameters.properties),
      ).toEqual(['guest', 'loud']);
      const badPatch = await http('PATCH', `${t.url}/tools/${tool.id}`, { source_code: 'def x(:' });
      expect(badPatch.status).toBe(400);
      expect((await t.server.client.tools.retrieve(tool.id)).name).toBe('welcome');

      await t.server.client.tools.delete(tool.id);
      expect((await http('GET', `${t.url}/tools/${tool.id}`)).status).toBe(404);
      expect((await http('DELETE', `${t.url}/tools/${tool.id}`)).status).toBe(404);
    });

    it('refuses to replace a base tool by name with a custom one', async () => {
      const response = await http('POST', `${t.url}/tools/`, {
        source_code:
          'def send_message(message: str) -> str:\n    """Sends.\n\n    Args:\n        message: The text.\n    """\n    return message\n',
      });
      expect(response.status).toBe(409);
      const [sendMessage] = (await t.server.client.tools.list({ name: 'send_message' })).getPaginatedItems();
      expect(sendMessage!.tool_type).toBe('letta_core');
    });

    it('brings a deleted base tool back on the next list, as Letta upserts its base tools', async () => {
      const [before] = (await t.server.client.tools.list({ name: 'grep_files' })).getPaginatedItems();
      await t.server.client.tools.delete(before!.id);
      expect((await http('GET', `${t.url}/tools/${before!.id}`)).status).toBe(404);
      const [after] = (await t.server.client.tools.list({ name: 'grep_files' })).getPaginatedItems();
      expect(after).toMatchObject({
        name: 'grep_files',
        tool_type: 'letta_files_core',
        json_schema: before!.json_schema,
      });
      expect(after!.id).not.toBe(before!.id);
    });

    it('filters, counts and pages the list', async () => {
      await t.server.client.tools.create({
        source_code:
          'def count_words(text: str) -> int:\n    """Counts the words of a text.\n\n    Args:\n        text: The text.\n    """\n    return len(text.split())\n',
        tags: ['text', 'stats'],
      });
      const custom = (await http('GET', `${t.url}/tools/?tool_types=custom&limit=100`)).body as { name: string }[];
      expect(custom.length).toBeGreaterThan(0);
      expect(custom.every((tool) => !LETTA_TOOL_SET.includes(tool.name))).toBe(true);
      const commaTypes = (await http('GET', `${t.url}/tools/?tool_types=letta_files_core,letta_builtin&limit=100`))
        .body as { tool_type: string }[];
      expect(new Set(commaTypes.map((tool) => tool.tool_type))).toEqual(new Set(['letta_files_core', 'letta_builtin']));
      expect(commaTypes).toHaveLength(7);

      const searched = (await http('GET', `${t.url}/tools/?search=WORDS`)).body as { name: string }[];
      expect(searched.map((tool) => tool.name)).toEqual(['count_words']);
      const tagged = (await http('GET', `${t.url}/tools/?tags=stats`)).body as { name: string }[];
      expect(tagged.map((tool) => tool.name)).toEqual(['count_words']);

      const lettaOnly = await http('GET', `${t.url}/tools/count?return_only_letta_tools=true`);
      expect(lettaOnly.body).toBe(26);
      const total = (await http('GET', `${t.url}/tools/count`)).body as number;
      const noLetta = (await http('GET', `${t.url}/tools/count?exclude_letta_tools=true`)).body as number;
      expect(noLetta).toBe(total - 26);
      expect((await http('GET', `${t.url}/tools/count/`)).body).toBe(total);
      expect((await http('GET', `${t.url}/tools/count?name=memory`)).body).toBe(1);

      const first = (await http('GET', `${t.url}/tools/?limit=2&order=asc`)).body as { id: string }[];
      const next = (await http('GET', `${t.url}/tools/?limit=2&order=asc&after=${first[1]!.id}`)).body as {
        id: string;
      }[];
      const three = (await http('GET', `${t.url}/tools/?limit=3&order=asc`)).body as { id: string }[];
      expect(next[0]!.id).toBe(three[2]!.id);
      const back = (await http('GET', `${t.url}/tools/?limit=1&order=asc&before=${three[2]!.id}`)).body as {
        id: string;
      }[];
      expect(back[0]!.id).toBe(three[1]!.id);
    });

    it('searches tools by words of their name, description and tags', async () => {
      const results = await t.server.client.tools.search({ query: 'webpage fetch', limit: 5 });
      for (const result of results) expectLettaSchema('ToolSearchResult', result);
      expect(results[0]!.tool.name).toBe('fetch_webpage');
      expect(results[0]!.combined_score).toBe(1);
      const builtin = await t.server.client.tools.search({ tool_types: ['letta_builtin'], limit: 100 });
      expect(builtin.map((r) => r.tool.name).sort()).toEqual(
        ['fetch_webpage', 'run_code', 'run_code_with_tools', 'web_search'].sort(),
      );
    });

    it('runs source without saving it (POST /v1/tools/run), in the sandbox, returning a ToolReturnMessage', async () => {
      const before = (await http('GET', `${t.url}/tools/count`)).body as number;
      const python = await http('POST', `${t.url}/tools/run`, {
        source_code: ROLL_DICE.replace(
          'return ",".join',
          'import os\n    print("rolling")\n    return os.environ.get("DICE_PREFIX", "") + ",".join',
        ),
        args: { sides: 6, times: 3 },
        env_vars: { DICE_PREFIX: 'rolled:' },
      });
      expect(python.status).toBe(200);
      expectLettaSchema('ToolReturnMessage', python.body);
      expect(python.body).toMatchObject({
        message_type: 'tool_return_message',
        status: 'success',
        tool_return: 'rolled:4,4,4',
        name: 'roll_dice',
        stdout: [expect.stringContaining('rolling')],
      });
      const js = await http('POST', `${t.url}/tools/run`, {
        source_code: 'function shout(text) { return { loud: text.toUpperCase() }; }',
        source_type: 'javascript',
        json_schema: JS_SCHEMA,
        args: { text: 'hey' },
      });
      expect(js.body).toMatchObject({ status: 'success', tool_return: '{"loud":"HEY"}' });
      const failing = await http('POST', `${t.url}/tools/run`, {
        source_code: 'def boom() -> str:\n    """Fails."""\n    raise ValueError("no dice")\n',
        args: {},
      });
      expect(failing.body).toMatchObject({
        status: 'error',
        tool_return: 'Error executing function boom: ValueError: no dice',
      });
      expect((await http('GET', `${t.url}/tools/count`)).body).toBe(before);
    });
  },
  PYODIDE_BOOT_MS,
);

describe.each(testDialects())(
  'agent tools [%s]',
  (dialect) => {
    const t = useServer(dialect);

    it('lists an agent’s tools as full Tool objects, paged', async () => {
      const agent = await t.server.client.agents.create({ include_base_tools: true });
      const tools = [];
      for await (const tool of t.server.client.agents.tools.list(agent.id, { limit: 2 })) tools.push(tool);
      for (const tool of tools) expectLettaSchema('Tool', tool);
      expect(tools.map((tool) => tool.name).sort()).toEqual(['conversation_search', 'memory_insert', 'memory_replace']);
      const missing = await http('GET', `${t.url}/agents/agent-00000000-0000-4000-8000-000000000000/tools`);
      expect(missing.status).toBe(404);
    });

    it('toggles approval per agent with every body shape Letta accepts, and dedupes tool rules', async () => {
      const agent = await t.server.client.agents.create({
        include_base_tools: false,
        tool_rules: [
          { tool_name: 'send_message', type: 'exit_loop' },
          { tool_name: 'send_message', type: 'exit_loop' },
        ],
      });
      expect(agent.tool_rules).toEqual([{ tool_name: 'send_message', type: 'exit_loop' }]);
      const rules = async () => (await t.server.client.agents.retrieve(agent.id)).tool_rules;

      expect(
        await t.server.client.agents.tools.updateApproval('web_search', {
          agent_id: agent.id,
          body_requires_approval: true,
        }),
      ).toBeNull();
      await t.server.client.agents.tools.updateApproval('web_search', {
        agent_id: agent.id,
        body_requires_approval: true,
      });
      expect(await rules()).toEqual([
        { tool_name: 'send_message', type: 'exit_loop' },
        { tool_name: 'web_search', type: 'requires_approval' },
      ]);
      const openapiBody = await http('PATCH', `${t.url}/agents/${agent.id}/tools/approval/web_search`, {
        requires_approval: false,
      });
      expect(openapiBody.status).toBe(200);
      expect(await rules()).toEqual([{ tool_name: 'send_message', type: 'exit_loop' }]);
      const legacy = await http(
        'PATCH',
        `${t.url}/agents/${agent.id}/tools/approval/fetch_webpage?requires_approval=true`,
        undefined,
        { 'user-agent': 'python-requests/2.32' },
      );
      expect(legacy.status).toBe(200);
      expectLettaSchema('AgentState', legacy.body);
      expect(legacy.body.tool_rules).toContainEqual({ tool_name: 'fetch_webpage', type: 'requires_approval' });
      expect((await http('PATCH', `${t.url}/agents/${agent.id}/tools/approval/x`, {})).status).toBe(400);

      const updated = await t.server.client.agents.update(agent.id, {
        tool_rules: [
          { tool_name: 'a', type: 'max_count_per_step', max_count_limit: 2 },
          { tool_name: 'a', type: 'max_count_per_step', max_count_limit: 2 },
          { tool_name: 'a', type: 'max_count_per_step', max_count_limit: 3 },
        ],
      });
      expect(updated.tool_rules).toEqual([
        { tool_name: 'a', type: 'max_count_per_step', max_count_limit: 2 },
        { tool_name: 'a', type: 'max_count_per_step', max_count_limit: 3 },
      ]);
    });

    it('gives tools with default_requires_approval a requires_approval rule at agent creation', async () => {
      const tool = await t.server.client.tools.create({
        source_code:
          'def launch(target: str) -> str:\n    """Launches.\n\n    Args:\n        target: Where.\n    """\n    return target\n',
        default_requires_approval: true,
      });
      const agent = await t.server.client.agents.create({ tool_ids: [tool.id], include_base_tools: false });
      expect(agent.tool_rules).toEqual([{ tool_name: 'launch', type: 'requires_approval' }]);
    });

    it('runs an attached tool directly with the agent’s state and secrets, which are stored sealed and never shown', async () => {
      const tool = await t.server.client.tools.create({
        source_code: `
import os

def whoami(greeting: str, agent_state: "AgentState") -> str:
    """
    Says who the agent is.

    Args:
        greeting (str): How to start.
    """
    print("looking up", agent_state.name)
    return f"{greeting}, I am {agent_state.name} ({os.environ['LETTA_AGENT_ID'] == agent_state.id}) key={os.environ['API_TOKEN']}"
`,
      });
      const agent = await t.server.client.agents.create({
        name: 'runner-agent',
        tool_ids: [tool.id],
        include_base_tools: true,
        secrets: { API_TOKEN: 'tok-3141' },
        memory_blocks: [{ label: 'human', value: 'Name: Sam' }],
      });
      expect(JSON.stringify(agent)).not.toContain('tok-3141');
      const stored = await t.server.cairn.stores.agents.findById(agent.id);
      expect(stored!.secrets).not.toContain('tok-3141');
      expect(stored!.secrets).toContain('cairn:v1:');

      const result = await t.server.client.agents.tools.run('whoami', {
        agent_id: agent.id,
        args: { greeting: 'Hello' },
      });
      expectLettaSchema('ToolExecutionResult', result);
      expect(result).toMatchObject({
        status: 'success',
        func_return: 'Hello, I am runner-agent (True) key=tok-3141',
        stdout: [expect.stringContaining('looking up runner-agent')],
      });

      const base = await t.server.client.agents.tools.run('memory_insert', {
        agent_id: agent.id,
        args: { label: 'human', new_string: 'Likes dice.' },
      });
      expect(base, JSON.stringify(base)).toMatchObject({ status: 'success' });
      const human = await t.server.client.agents.blocks.retrieve('human', { agent_id: agent.id });
      expect(human.value).toContain('Likes dice.');

      const unavailable = (await t.server.client.tools.list({ name: 'run_code' })).getPaginatedItems();
      await t.server.client.agents.tools.attach(unavailable[0]!.id, { agent_id: agent.id });
      const runCode = await t.server.client.agents.tools.run('run_code', {
        agent_id: agent.id,
        args: { code: 'print(1)', language: 'python' },
      });
      expect(runCode.status).toBe('error');
      expect(runCode.func_return).toContain('Error executing function run_code');

      const notAttached = await http('POST', `${t.url}/agents/${agent.id}/tools/roll_dice/run`, { args: {} });
      expect(notAttached.status).toBe(404);
      expect(notAttached.body.detail).toBe(`Tool 'roll_dice' not found or not attached to agent '${agent.id}'`);

      // A secret update is sealed again and takes effect on the next run.
      await t.server.client.agents.update(agent.id, { secrets: { API_TOKEN: 'tok-2718' } });
      const rerun = await t.server.client.agents.tools.run('whoami', { agent_id: agent.id, args: { greeting: 'Hi' } });
      expect(rerun.func_return).toContain('key=tok-2718');
      expect((await t.server.cairn.stores.agents.findById(agent.id))!.secrets).not.toContain('tok-2718');
    });
  },
  PYODIDE_BOOT_MS,
);
