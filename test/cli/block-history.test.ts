import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/connection.js';
import { useBuiltCairn } from '../support/build.js';

const PASSWORD = 'history-cli-password';
const live = useBuiltCairn(PASSWORD);

function cairn(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [live.built.cli, ...args],
      { env: { PATH: process.env.PATH ?? '', LETTA_BASE_URL: live.server.baseURL, LETTA_API_KEY: PASSWORD } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('cairn blocks history', () => {
  it('lists who changed a block (the CLI, the hooks) newest first, and restores a version', async () => {
    // What the Claude Code hooks send: their client names itself, and the history says so.
    const hooks = createClient({ baseURL: live.server.baseURL, token: PASSWORD }, { actor: 'hook:claude-code' });
    const agent = await hooks.agents.create({ memory_blocks: [{ label: 'project', value: 'A CLI tool' }] });
    const edit = await cairn(['blocks', 'edit', 'project', '--agent', agent.id, '--append', 'Written in Rust']);
    expect(edit.code).toBe(0);

    const shown = await cairn(['blocks', 'history', 'project', '--agent', agent.id]);
    expect(shown.code).toBe(0);
    const lines = shown.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^VERSION\s+WHEN\s+BY\s+CHARS\s+VALUE$/);
    expect(lines[1]).toMatch(/^2\s+\S+\s+api \(cli\)\s+26\/100000\s+A CLI tool Written in Rust$/);
    expect(lines[2]).toMatch(/^1\s+\S+\s+hook \(claude-code\)\s+10\/100000\s+A CLI tool$/);

    const restore = await cairn(['blocks', 'history', 'project', '--agent', agent.id, '--restore', '1', '--json']);
    expect(restore.code).toBe(0);
    expect(JSON.parse(restore.stdout).value).toBe('A CLI tool');
    const block = await hooks.agents.blocks.retrieve('project', { agent_id: agent.id });
    const entries = JSON.parse((await cairn(['blocks', 'history', block.id, '--json', '--limit', '1'])).stdout);
    expect(entries).toMatchObject([{ version: 3, restored_from: 1, actor: { kind: 'api', name: 'cli' } }]);

    const missing = await cairn(['blocks', 'history', block.id, '--restore', '9']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^cairn: HTTP 404: Block '.*' has no version 9\n$/);
  });
});
