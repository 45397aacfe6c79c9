import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/connection.js';
import { useBuiltCairn } from '../support/build.js';

const PASSWORD = 'agent-file-cli-password';
const live = useBuiltCairn(PASSWORD);
const dir = mkdtempSync(join(tmpdir(), 'cairn-af-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cairn(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [live.built.cli, ...args],
      {
        env: { PATH: process.env.PATH ?? '', LETTA_BASE_URL: live.server.baseURL, LETTA_API_KEY: PASSWORD },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('cairn export / cairn import', () => {
  it('exports an agent to stdout and imports the file as a new agent, with progress on stderr', async () => {
    const client = createClient({ baseURL: live.server.baseURL, token: PASSWORD }, { actor: 'api:test' });
    const agent = await client.agents.create({
      name: 'cli-agent',
      memory_blocks: [{ label: 'project', value: 'A CLI tool' }],
      secrets: { TOKEN: 'never-exported' },
    });

    const exported = await cairn(['export', agent.id]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/^exported cli-agent: 1 messages, 1 blocks, \d+ tools\n$/);
    expect(exported.stdout).not.toContain('never-exported');
    const file = JSON.parse(exported.stdout) as { agents: { name: string }[]; blocks: { value: string }[] };
    expect(file.agents[0]!.name).toBe('cli-agent');
    expect(file.blocks[0]!.value).toBe('A CLI tool');
    const path = join(dir, 'a.af');
    writeFileSync(path, exported.stdout);

    const imported = await cairn(['import', path, '--secret', 'TOKEN=restored']);
    expect(imported.code).toBe(0);
    expect(imported.stderr).toBe('imported 1 agent\n');
    const [newId] = imported.stdout.trim().split('\n');
    expect(newId).toMatch(/^agent-[0-9a-f-]{36}$/);
    expect(newId).not.toBe(agent.id);
    const copy = await client.agents.retrieve(newId!, { include: ['agent.blocks'] });
    expect(copy.name).toBe('cli-agent_copy');
    expect(copy.blocks!.map((b) => b.value)).toEqual(['A CLI tool']);

    const kept = await cairn(['import', path, '--no-copy-suffix', '--strip-messages', '--json']);
    const { agent_ids } = JSON.parse(kept.stdout) as { agent_ids: string[] };
    expect((await client.agents.retrieve(agent_ids[0]!)).name).toBe('cli-agent');

    await client.agents.passages.create(agent.id, { text: 'remember the milk' });
    const withPassages = await cairn(['export', agent.id, '--include-passages', '--scrub-messages']);
    const carried = JSON.parse(withPassages.stdout) as {
      agents: { passages: { text: string }[]; messages: unknown[] }[];
    };
    expect(carried.agents[0]!.passages.map((p) => p.text)).toEqual(['remember the milk']);
    expect(carried.agents[0]!.messages).toEqual([]);

    writeFileSync(join(dir, 'broken.af'), readFileSync(path, 'utf8').slice(0, 100));
    const broken = await cairn(['import', join(dir, 'broken.af')]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^cairn: HTTP 400: Corrupted agent file format\.\n$/);
    const missing = await cairn(['export', 'agent-00000000-0000-4000-8000-000000000000']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
  });
});
