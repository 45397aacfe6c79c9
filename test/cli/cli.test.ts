import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { useBuiltCairn } from '../support/build.js';

const PASSWORD = 'cli-test-password';
const live = useBuiltCairn(PASSWORD);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The built `cairn` executable, with Letta's environment names for the server and token. */
function cairn(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [live.built.cli, ...args],
      { env: { PATH: process.env.PATH ?? '', LETTA_BASE_URL: live.server.baseURL, LETTA_API_KEY: PASSWORD, ...env } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function json(args: string[]): Promise<any> {
  const run = await cairn([...args, '--json']);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout);
}

describe('cairn agents / blocks / passages', () => {
  let agentId: string;

  it('agents: create, list (table and JSON), show, edit, search', async () => {
    const created = await json([
      'agents',
      'create',
      '--name',
      'cli-agent',
      '--description',
      'made from the CLI',
      '--tag',
      'cli',
      '--block',
      'human=Name: Ada',
      '--block',
      'persona=Helpful',
    ]);
    agentId = created.id;
    expect(created.name).toBe('cli-agent');
    const listed = await json(['agents', 'list', '--tag', 'cli']);
    expect(listed.map((a: any) => a.id)).toEqual([agentId]);
    const tableRun = await cairn(['agents', 'list']);
    expect(tableRun.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+TAGS\s+MODEL\s+DESCRIPTION$/);
    expect(tableRun.stdout).toContain('cli-agent');
    const shown = await cairn(['agents', 'show', agentId]);
    expect(shown.stdout).toContain('[human] (9 chars)\nName: Ada');
    expect((await json(['agents', 'edit', agentId, '--description', 'edited'])).description).toBe('edited');
    expect((await json(['agents', 'search', 'cli-ag'])).map((a: any) => a.id)).toEqual([agentId]);
  });

  it('blocks: list, show by label, edit by append/replace, create attached, search', async () => {
    const listed = await json(['blocks', 'list', '--agent', agentId]);
    expect(listed.map((b: any) => b.label).sort()).toEqual(['human', 'persona']);
    expect((await json(['blocks', 'show', 'human', '--agent', agentId])).value).toBe('Name: Ada');
    await json(['blocks', 'edit', 'human', '--agent', agentId, '--append', 'Likes: engines']);
    const replaced = await json([
      'blocks',
      'edit',
      'human',
      '--agent',
      agentId,
      '--replace',
      'engines',
      '--with',
      'looms',
    ]);
    expect(replaced.value).toBe('Name: Ada\nLikes: looms');
    const created = await json([
      'blocks',
      'create',
      '--label',
      'project',
      '--value',
      'Cairn',
      '--limit',
      '200',
      '--agent',
      agentId,
    ]);
    expect(created).toMatchObject({ label: 'project', limit: 200 });
    expect((await json(['blocks', 'show', created.id])).value).toBe('Cairn');
    expect((await json(['blocks', 'edit', created.id, '--value', 'Cairn v2'])).value).toBe('Cairn v2');
    expect((await json(['blocks', 'search', 'looms'])).map((b: any) => b.label)).toEqual(['human']);
    const text = await cairn(['blocks', 'list', '--agent', agentId]);
    expect(text.stdout).toMatch(/LABEL\s+CHARS/);
  });

  it('passages: create, list, search, show, edit, delete', async () => {
    const created = await json([
      'passages',
      'create',
      'The build runs on esbuild',
      '--agent',
      agentId,
      '--tag',
      'build',
    ]);
    expect(created.id).toMatch(/^passage-/);
    await json(['passages', 'create', 'Tests use vitest', '--agent', agentId]);
    expect((await json(['passages', 'list', '--agent', agentId])).map((p: any) => p.text)).toEqual([
      'The build runs on esbuild',
      'Tests use vitest',
    ]);
    const hits = await json(['passages', 'search', 'esbuild build', '--agent', agentId, '--tag', 'build']);
    expect(hits.map((h: any) => h.id)).toEqual([created.id]);
    expect((await json(['passages', 'show', created.id, '--agent', agentId])).text).toBe('The build runs on esbuild');
    const edited = await json(['passages', 'edit', created.id, 'The build runs on esbuild 0.28', '--agent', agentId]);
    expect(edited).toMatchObject({ text: 'The build runs on esbuild 0.28', tags: ['build'] });
    const listed = await json(['passages', 'list', '--agent', agentId, '--search', 'esbuild']);
    expect(listed.map((p: any) => p.id)).toEqual([edited.id]);
    await json(['passages', 'delete', edited.id, '--agent', agentId]);
    // LETTA_AGENT_ID stands in for --agent.
    const viaEnv = await cairn(['passages', 'list', '--json'], { LETTA_AGENT_ID: agentId });
    expect(JSON.parse(viaEnv.stdout).map((p: any) => p.text)).toEqual(['Tests use vitest']);
  });
});

describe('cairn CLI errors', () => {
  it('exit non-zero with a one-line reason', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['agents', 'show', 'agent-00000000-0000-4000-8000-000000000000'], {}, /^cairn: HTTP 404: .*not found/i],
      [['agents', 'list'], { LETTA_API_KEY: 'wrong' }, /^cairn: HTTP 401: Unauthorized$/],
      [['agents', 'list'], { LETTA_BASE_URL: 'http://127.0.0.1:9' }, /^cairn: cannot reach the server/],
      [['agents', 'list', '--base-url', 'not a url'], {}, /^cairn: invalid base URL/],
      [['agents', 'list', '--limit', 'zero'], {}, /^cairn: --limit must be a positive integer/],
      [['passages', 'list'], {}, /^cairn: --agent is required/],
      [['blocks', 'edit', 'human'], {}, /^cairn: nothing to change/],
      [['mcp', '--tools', 'bogus'], {}, /^cairn: unknown tool profile 'bogus'/],
    ];
    for (const [args, env, reason] of cases) {
      const run = await cairn(args, env);
      expect(run.code, args.join(' ')).not.toBe(0);
      expect(run.stdout, args.join(' ')).toBe('');
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(run.stderr.trim(), args.join(' ')).toMatch(reason);
    }
  });

  it('every command has --help', async () => {
    for (const args of [
      [],
      ['mcp'],
      ['hooks'],
      ['hooks', 'install'],
      ['hooks', 'doctor'],
      ['hooks', 'stop'],
      ['agents'],
      ['agents', 'list'],
      ['blocks', 'edit'],
      ['passages', 'search'],
    ]) {
      const run = await cairn([...args, '--help']);
      expect(run.code, args.join(' ')).toBe(0);
      expect(run.stdout, args.join(' ')).toMatch(/^Usage: cairn/);
    }
  });
});
