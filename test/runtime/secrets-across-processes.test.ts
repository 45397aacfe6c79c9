/**
 * Secrets when several `cairn serve` processes share one PostgreSQL database and nothing else (each its own data dir):
 * a process keyed with Letta's `LETTA_ENCRYPTION_KEY` and one keyed with `CAIRN_SECRET_KEY` read each other's
 * secrets; a process with neither warns once at start-up, answers routes that need a secret with 503 naming the
 * variables to set, and gives an agent's tool call an error result instead of failing the turn.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects } from '../support/cairn.js';
import { removeCli } from '../support/cli.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';
import { http } from '../support/http.js';
import { EVERYTHING_SERVER } from '../support/mcp-fixtures.js';
import { ServeProcesses, type ServeProcess } from '../support/serve-processes.js';

const SECRET_VALUE = 'sk-shared-7d1f0c';
const PASSPHRASE = 'one key for every cairn process';
const PG_WARNING = /PostgreSQL without CAIRN_SECRET_KEY \(or LETTA_ENCRYPTION_KEY\)/g;

describe.each(testDialects().filter((d) => d === 'postgres'))('secrets across Cairn processes [%s]', () => {
  let llm: FakeLlm;
  let drop: () => Promise<void>;
  const processes = new ServeProcesses('cairn-secrets-proc-');

  const start = (pgUri: string, keyEnv: Record<string, string>): Promise<ServeProcess> =>
    processes.start(llm.env({ LETTA_PG_URI: pgUri, MCP_DISABLE_STDIO: 'false', ...keyEnv }));

  let lettaKeyed: ServeProcess;
  let cairnKeyed: ServeProcess;
  let unkeyed: ServeProcess;
  let serverId: string;
  let getEnvId: string;

  beforeAll(async () => {
    llm = await startFakeLlm();
    const database = await createTestDatabase('postgres');
    drop = database.drop;
    // One after another: the first migrates the empty database.
    lettaKeyed = await start(database.pgUri!, { LETTA_ENCRYPTION_KEY: PASSPHRASE });
    cairnKeyed = await start(database.pgUri!, { CAIRN_SECRET_KEY: PASSPHRASE });
    unkeyed = await start(database.pgUri!, {});
    const server = await lettaKeyed.client.mcpServers.create({
      server_name: 'everything',
      config: {
        mcp_server_type: 'stdio',
        command: process.execPath,
        args: [EVERYTHING_SERVER, 'stdio'],
        env: { SHARED_SECRET: SECRET_VALUE },
      },
    });
    serverId = server.id!;
    getEnvId = (await lettaKeyed.client.mcpServers.tools.list(serverId)).find((t) => t.name === 'get-env')!.id!;
  }, 120_000);
  afterAll(async () => {
    await processes.stopAll();
    await drop?.();
    await llm?.close();
    await removeCli();
  });

  it("LETTA_ENCRYPTION_KEY and CAIRN_SECRET_KEY are one setting: each process opens the other's secrets", async () => {
    expect(await cairnKeyed.client.mcpServers.retrieve(serverId)).toMatchObject({ env: { SHARED_SECRET: '****' } });
    // The stdio server started by the CAIRN_SECRET_KEY process got the value the LETTA_ENCRYPTION_KEY process sealed.
    const env = await cairnKeyed.client.mcpServers.tools.run(getEnvId, { mcp_server_id: serverId });
    expect(env.status).toBe('success');
    expect(String(env.func_return)).toContain(SECRET_VALUE);
    // And the other way round: a value sealed anew by the CAIRN_SECRET_KEY process opens in the other one.
    await http('PATCH', `${cairnKeyed.url}/v1/mcp-servers/${serverId}`, {
      config: {
        mcp_server_type: 'stdio',
        command: process.execPath,
        args: [EVERYTHING_SERVER, 'stdio'],
        env: { SHARED_SECRET: `${SECRET_VALUE}-2` },
      },
    });
    const again = await lettaKeyed.client.mcpServers.tools.run(getEnvId, { mcp_server_id: serverId });
    expect(String(again.func_return)).toContain(`${SECRET_VALUE}-2`);
  }, 60_000);

  it('a process without a key warns once at start-up on PostgreSQL; the keyed ones do not', () => {
    expect(unkeyed.cli.stderr().match(PG_WARNING)).toHaveLength(1);
    expect(lettaKeyed.cli.stderr()).not.toMatch(PG_WARNING);
    expect(cairnKeyed.cli.stderr()).not.toMatch(PG_WARNING);
  });

  it('a process with the wrong key answers 503 naming the variables, never 500, and never shows the secret', async () => {
    for (const [method, path, body] of [
      ['GET', `/v1/mcp-servers/${serverId}`],
      ['GET', '/v1/mcp-servers/'],
      ['GET', '/v1/tools/mcp/servers'],
      ['POST', `/v1/mcp-servers/${serverId}/tools/${getEnvId}/run`, { args: {} }],
    ] as const) {
      const response = await http(method, `${unkeyed.url}${path}`, body);
      expect(response.status, `${method} ${path}`).toBe(503);
      expect(response.body.detail).toMatch(/^The secrets of MCP server everything cannot be read: /);
      expect(response.body.detail).toContain('CAIRN_SECRET_KEY');
      expect(response.body.detail).toContain('LETTA_ENCRYPTION_KEY');
    }
    // Routes that need no secret still work there.
    expect((await http('GET', `${unkeyed.url}/v1/tools/${getEnvId}`)).status).toBe(200);
    for (const { cli } of processes.started) expect(cli.stderr()).not.toContain(SECRET_VALUE);
  });

  it("an agent's MCP tool call on that process gets an error result naming the fix, and the turn completes", async () => {
    const agent = await lettaKeyed.client.agents.create({ model: 'openai/gpt-4o-mini', tool_ids: [getEnvId] });
    llm.script({ toolCalls: [{ name: 'get-env', arguments: {} }] }, { text: 'Could not read it.' });
    const response = await unkeyed.client.agents.messages.create(agent.id, {
      messages: [{ role: 'user', content: 'What is in the environment?' }],
    });
    const toolReturn = response.messages.find((m) => m.message_type === 'tool_return_message') as
      { status: string; tool_return: string } | undefined;
    expect(toolReturn).toMatchObject({ status: 'error' });
    expect(toolReturn!.tool_return).toMatch(/^Error executing function get-env: SecretError: .*CAIRN_SECRET_KEY/);
    expect(toolReturn!.tool_return).not.toContain(SECRET_VALUE);
    const reply = response.messages.find((m) => m.message_type === 'assistant_message') as
      { content: string } | undefined;
    expect(reply?.content).toBe('Could not read it.');
  }, 60_000);
});
