/**
 * Letta Code's MCP screens against Cairn, with the real CLI. `/mcp` exists only in the interactive TUI, so the TUI runs
 * under a pseudo-terminal (letta-code-tui.ts) and is driven by keystrokes: it must list the registered server
 * and, on Enter, that server's tools, and nothing it asks for may fail. 0.32.x also has a headless `letta mcp`
 * subcommand (list, tools, search, call) over the per-agent routes `GET /v1/agents/{id}/mcp-servers…`, which each
 * turn's MCP reminder calls too; it must list, find and call a tool of the server.
 *
 * The install rule is the one in letta-code.test.ts: skipped without an install, a failure under CI=true.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, type TestCairn } from '../support/cairn.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';
import { EVERYTHING_SERVER } from '../support/mcp-fixtures.js';
import {
  cliEnvironment,
  describeInstall,
  enabled,
  ENV_FILE,
  failures,
  install,
  installs,
  versionAtLeast,
  type Install,
} from './letta-code-install.js';
import { startTui } from './letta-code-tui.js';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.js';

const CLI_TEST_TIMEOUT = 150_000;
const AGENT_NAME = 'mcp-screen-agent';

function runMcpCommand(cli: Install, baseURL: string, home: string, cwd: string, args: string[]) {
  const child = spawn(cli.NODE24!, [cli.LETTA_CODE_ENTRY!, 'mcp', ...args], {
    cwd,
    env: cliEnvironment(baseURL, home),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise<{ code: number | null; json: unknown; stderr: string }>((done) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code) => {
      clearTimeout(killer);
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = `not JSON: ${stdout}`;
      }
      done({ code, json, stderr });
    });
  });
}

describe.skipIf(!enabled)('Letta Code MCP screens', () => {
  it('is installed (scripts/install-letta-code.sh)', () => {
    expect(install, `${ENV_FILE} is missing: run scripts/install-letta-code.sh (CI=true requires it)`).toBeDefined();
  });

  describe.each(installs.map((i) => [describeInstall(i), i] as const))('%s', (_label, cli) => {
    let llm: FakeLlm;
    let t: TestCairn;
    let proxy: RecordingProxy;
    let home: string;
    let cwd: string;
    let agentId: string;
    let serverId: string;

    beforeAll(async () => {
      llm = await startFakeLlm();
      t = await startCairn('sqlite', {}, { ...llm.env(), MCP_DISABLE_STDIO: 'false' });
      proxy = await startRecordingProxy(t.baseURL);
      home = mkdtempSync(join(tmpdir(), 'cairn-lc-mcp-home-'));
      cwd = mkdtempSync(join(tmpdir(), 'cairn-lc-mcp-cwd-'));
      agentId = (await t.client.agents.create({ name: AGENT_NAME, model: 'openai/gpt-4o-mini' })).id;
      const server = await t.client.mcpServers.create({
        server_name: 'everything',
        config: { mcp_server_type: 'stdio', command: process.execPath, args: [EVERYTHING_SERVER, 'stdio'] },
      });
      serverId = server.id!;
    }, 60_000);
    afterAll(async () => {
      await proxy?.close();
      await t?.close();
      await llm?.close();
      for (const dir of [home, cwd]) if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it(
      '/mcp in the TUI lists the server and, on Enter, its tools, with no failed request',
      async () => {
        const from = proxy.exchanges.length;
        const tui = startTui(cli, proxy.url, home, cwd, agentId);
        try {
          await tui.waitFor(new RegExp(AGENT_NAME));
          tui.type('/mcp');
          await tui.waitFor(/\/mcp/);
          tui.type('\r');
          const servers = await tui.waitFor(/everything · stdio/);
          expect(servers).toMatch(/MCP servers|Manage MCP servers/);
          tui.type('\r');
          const tools = await tui.waitFor(/Echoes back the input string/);
          expect(tools).toMatch(/Tools for everything/);
          expect(tools).toMatch(/get-sum/);
          tui.type('\x1b');
          await tui.waitFor(/MCP servers|Manage MCP servers|dismissed/);
        } catch (error) {
          (error as Error).message += `\n--- HTTP transcript:\n${proxy.transcript()}`;
          throw error;
        } finally {
          await tui.stop();
        }
        const ex = proxy.exchanges.slice(from);
        expect(failures(ex)).toEqual([]);
        expect(
          ex.some((e) => e.method === 'GET' && /^\/v1\/mcp-servers\/?(\?|$)/.test(e.url) && e.status === 200),
        ).toBe(true);
        // 0.25.9 lists the registered tools by server id; 0.32 lists them live by server name.
        const toolList = versionAtLeast(cli.LETTA_CODE_VERSION!, '0.32.0')
          ? '/v1/tools/mcp/servers/everything/tools'
          : `/v1/mcp-servers/${serverId}/tools`;
        expect(ex.find((e) => e.method === 'GET' && e.url.startsWith(toolList))?.status).toBe(200);
      },
      CLI_TEST_TIMEOUT,
    );

    it.runIf(versionAtLeast(cli.LETTA_CODE_VERSION!, '0.32.0'))(
      '`letta mcp list|tools|search|call` works over the per-agent MCP routes',
      async () => {
        const from = proxy.exchanges.length;
        const run = (...args: string[]) => runMcpCommand(cli, proxy.url, home, cwd, [...args, '--agent', agentId]);

        const list = await run('list');
        expect(list, list.stderr).toMatchObject({ code: 0, json: [{ name: 'everything', transport: 'stdio' }] });

        const tools = await run('tools', 'everything');
        expect(tools.code, tools.stderr).toBe(0);
        expect(tools.json).toEqual(
          expect.arrayContaining([{ name: 'mcp__everything__echo', description: 'Echoes back the input string' }]),
        );

        const search = await run('search', 'echo');
        expect(search.code, search.stderr).toBe(0);
        expect((search.json as { tool: { name: string } }[])[0]!.tool.name).toBe('mcp__everything__echo');

        const call = await run('call', 'mcp__everything__echo', '--args', '{"message":"hello from letta mcp"}');
        expect(call, call.stderr).toMatchObject({
          code: 0,
          json: { content: [{ type: 'text', text: 'Echo: hello from letta mcp' }], isError: false },
        });

        const ex = proxy.exchanges.slice(from);
        expect(failures(ex)).toEqual([]);
        const asked = ex.map((e) => `${e.method} ${e.url.split('?')[0]}`);
        expect(asked).toEqual(
          expect.arrayContaining([
            `GET /v1/agents/${agentId}/mcp-servers`,
            `GET /v1/agents/${agentId}/mcp-servers/${serverId}/tools`,
            `POST /v1/agents/${agentId}/mcp-servers/tools/search`,
          ]),
        );
        const run_ = ex.find((e) => /\/mcp-servers\/[^/]+\/tools\/[^/]+\/run$/.test(e.url))!;
        expect(run_.url).toMatch(new RegExp(`^/v1/agents/${agentId}/mcp-servers/${serverId}/tools/tool-`));
      },
      CLI_TEST_TIMEOUT,
    );
  });
});
