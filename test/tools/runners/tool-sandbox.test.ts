import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layerToolEnv, pythonSandboxFromEnv, toolErrorText, ToolSandbox } from '../../../src/tools/runners/index.js';
import { pythonRequest } from './support.js';

describe('tool sandbox', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cairn-data-'));
  const sandbox = new ToolSandbox({
    python: 'subprocess',
    subprocess: { python: process.getuid?.() === 0 ? '/usr/bin/python3' : 'python3', venvRoot: join(dataDir, 'venvs') },
  });
  afterAll(async () => {
    await sandbox.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('sends Python to the configured runner and JavaScript to QuickJS', async () => {
    expect(await sandbox.run(pythonRequest())).toMatchObject({ status: 'success', funcReturn: 'ok' });
    const js = await sandbox.run({
      ...pythonRequest(),
      sourceType: 'javascript',
      sourceCode: 'function hostile(action) { return action.toUpperCase(); }',
    });
    expect(js).toMatchObject({ status: 'success', funcReturn: 'NOTHING' });
  }, 60_000);

  it('reads CAIRN_TOOL_SANDBOX strictly', () => {
    expect(pythonSandboxFromEnv(undefined)).toBe('pyodide');
    expect(pythonSandboxFromEnv('pyodide')).toBe('pyodide');
    expect(pythonSandboxFromEnv('subprocess')).toBe('subprocess');
    expect(() => pythonSandboxFromEnv('docker')).toThrow(/CAIRN_TOOL_SANDBOX must be/);
  });

  it("layers environment variables as Letta does, without the server's own", () => {
    const env = layerToolEnv({
      sandboxEnv: { A: 'sandbox', B: 'sandbox', GONE: null },
      agentEnv: { B: 'agent', C: 'agent' },
      runtimeEnv: { C: 'runtime' },
      agentId: 'agent-1',
      toolId: 'tool-1',
    });
    expect(env).toEqual({ A: 'sandbox', B: 'agent', C: 'runtime', LETTA_AGENT_ID: 'agent-1', LETTA_TOOL_ID: 'tool-1' });
    expect(env.PATH).toBeUndefined();
  });

  it("caps Letta's error text at 1000 characters", () => {
    expect(toolErrorText('f', 'ValueError', 'x'.repeat(2000))).toHaveLength(1000);
  });
});
