import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBuiltCairn } from '../support/build.js';
import { tempDir } from '../support/cli.js';

const PASSWORD = 'install-test-password';
const live = useBuiltCairn(PASSWORD);
let root: string;
beforeAll(() => {
  root = tempDir('cairn-install-');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cairn(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [live.built.cli, ...args],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: join(root, 'home'),
          LETTA_BASE_URL: live.server.baseURL,
          LETTA_API_KEY: PASSWORD,
          ...env,
        },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

describe('cairn hooks install', () => {
  it('project scope: merges into .claude/settings.json and .mcp.json, keeps other entries, and is idempotent', async () => {
    const project = join(root, 'proj');
    mkdirSync(join(project, '.claude'), { recursive: true });
    const theirs = { type: 'command', command: 'echo other-tool', timeout: 3 };
    writeFileSync(
      join(project, '.claude/settings.json'),
      JSON.stringify({
        permissions: { allow: ['Bash(npm test)'] },
        hooks: { UserPromptSubmit: [{ hooks: [theirs] }], PreToolUse: [{ matcher: 'Bash', hooks: [theirs] }] },
      }),
    );
    writeFileSync(
      join(project, '.mcp.json'),
      JSON.stringify({ mcpServers: { other: { command: 'other-mcp', args: [] } } }),
    );

    const first = await cairn(['hooks', 'install', '--scope', 'project', '--project-dir', project]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^updated {2}.*settings\.json\nupdated {2}.*\.mcp\.json\n$/);

    const settings = readJson(join(project, '.claude/settings.json'));
    expect(settings.permissions).toEqual({ allow: ['Bash(npm test)'] });
    expect(settings.hooks.PreToolUse).toEqual([{ matcher: 'Bash', hooks: [theirs] }]);
    expect(settings.hooks.UserPromptSubmit[0]).toEqual({ hooks: [theirs] });
    const ours = (event: string) =>
      settings.hooks[event]
        .flatMap((g: any) => g.hooks.map((h: any) => ({ ...h, matcher: g.matcher })))
        .filter((h: any) => h.command.includes('hooks.js'));
    for (const [event, sub] of [
      ['SessionStart', 'session-start'],
      ['UserPromptSubmit', 'user-prompt-submit'],
      ['Stop', 'stop'],
      ['PreCompact', 'pre-compact'],
      ['SessionEnd', 'session-end'],
    ]) {
      const [hook] = ours(event!);
      expect(hook.command, event).toContain(` ${sub} --base-url ${live.server.baseURL}`);
      // Seconds, not milliseconds.
      expect(hook.timeout, event).toBeGreaterThanOrEqual(5);
      expect(hook.timeout, event).toBeLessThanOrEqual(30);
    }
    expect(ours('SessionStart')[0].matcher).toBe('startup|resume|clear|compact');
    expect(ours('Stop')[0].async).toBe(true);
    expect(settings.hooks.PostToolUse).toBeUndefined();

    const mcp = readJson(join(project, '.mcp.json'));
    expect(mcp.mcpServers.other).toEqual({ command: 'other-mcp', args: [] });
    expect(mcp.mcpServers.cairn).toEqual({
      type: 'http',
      url: `${live.server.baseURL}/mcp`,
      headers: { Authorization: 'Bearer ${LETTA_API_KEY}' },
    });
    // The token is referenced, never written.
    expect(readFileSync(join(project, '.mcp.json'), 'utf8')).not.toContain(PASSWORD);
    expect(readFileSync(join(project, '.claude/settings.json'), 'utf8')).not.toContain(PASSWORD);

    const before = readFileSync(join(project, '.claude/settings.json'), 'utf8');
    const second = await cairn(['hooks', 'install', '--scope', 'project', '--project-dir', project]);
    expect(second.stdout).toMatch(/^unchanged .*settings\.json\nunchanged .*\.mcp\.json\n$/);
    expect(readFileSync(join(project, '.claude/settings.json'), 'utf8')).toBe(before);

    // Opting into PostToolUse adds it, still without duplicating the others.
    await cairn(['hooks', 'install', '--scope', 'project', '--project-dir', project, '--post-tool-use']);
    const withEdits = readJson(join(project, '.claude/settings.json'));
    expect(withEdits.hooks.PostToolUse[0].hooks[0].command).toContain('post-tool-use --enable');
    expect(withEdits.hooks.SessionStart).toHaveLength(1);
    expect(withEdits.hooks.UserPromptSubmit).toHaveLength(2);
  });

  it('the installed command runs the hook as Claude Code would (through a shell)', async () => {
    const project = join(root, 'proj');
    const settings = readJson(join(project, '.claude/settings.json'));
    const command: string = settings.hooks.SessionStart[0].hooks[0].command;
    const out = await new Promise<string>((resolve) => {
      const child = spawn('/bin/sh', ['-c', command], {
        env: { PATH: process.env.PATH ?? '', LETTA_API_KEY: PASSWORD, CAIRN_HOOKS_STATE_DIR: join(root, 'state') },
      });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.on('close', () => resolve(stdout));
      child.stdin.end(
        JSON.stringify({ session_id: 'installed', cwd: project, hook_event_name: 'SessionStart', source: 'startup' }),
      );
    });
    expect(JSON.parse(out).hookSpecificOutput.hookEventName).toBe('SessionStart');
  });

  it('user scope: ~/.claude/settings.json and the mcpServers of ~/.claude.json', async () => {
    const home = join(root, 'home');
    mkdirSync(home, { recursive: true });
    writeFileSync(
      join(home, '.claude.json'),
      JSON.stringify({ numStartups: 7, projects: { '/x': { mcpServers: {} } } }),
    );
    const run = await cairn(['hooks', 'install', '--scope', 'user'], { LETTA_API_KEY: '', LETTA_PASSWORD: PASSWORD });
    expect(run.code).toBe(0);
    const settings = readJson(join(home, '.claude/settings.json'));
    expect(Object.keys(settings.hooks).sort()).toEqual([
      'PreCompact',
      'SessionEnd',
      'SessionStart',
      'Stop',
      'UserPromptSubmit',
    ]);
    const claude = readJson(join(home, '.claude.json'));
    expect(claude.numStartups).toBe(7);
    expect(claude.projects).toEqual({ '/x': { mcpServers: {} } });
    expect(claude.mcpServers.cairn.headers).toEqual({ Authorization: 'Bearer ${LETTA_PASSWORD}' });
  });

  it('refuses to touch a settings file that is not a JSON object, and rejects a bad scope', async () => {
    const project = join(root, 'broken');
    mkdirSync(join(project, '.claude'), { recursive: true });
    writeFileSync(join(project, '.claude/settings.json'), '{ not json');
    const run = await cairn(['hooks', 'install', '--project-dir', project]);
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(join(project, '.claude/settings.json'), 'utf8')).toBe('{ not json');
    const scope = await cairn(['hooks', 'install', '--scope', 'global']);
    expect(scope.stderr.trim()).toBe("cairn: --scope must be user or project, not 'global'");
  });
});

describe('cairn hooks doctor', () => {
  it('runs every hook against the server and reports reachability and latency', async () => {
    const run = await cairn(['hooks', 'doctor']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^server {4}http:\/\/127\.0\.0\.1:\d+ {2}reachable/);
    for (const event of ['session-start', 'user-prompt-submit', 'stop', 'pre-compact', 'session-end', 'post-tool-use'])
      expect(run.stdout).toMatch(new RegExp(`${event}\\s+exit 0\\s+\\d+ ms\\s+(ok|no output|\\d+ chars)`));
    expect(run.stdout).toMatch(/session-start\s+exit 0\s+\d+ ms\s+ok, \d+ chars of context/);
  });

  it('fails with a one-line reason when the server is down', async () => {
    const run = await cairn(['hooks', 'doctor'], { LETTA_BASE_URL: 'http://127.0.0.1:9' });
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim()).toMatch(/^cairn: cannot reach the server/);
  });
});
