import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { createClient, DEFAULT_BASE_URL, resolveConnection } from '../../client/connection.js';
import { HOOK_EVENTS, type HookEvent } from '../../hooks/handlers.js';
import { install, type Scope } from '../../hooks/install.js';
import { hookMain } from '../../hooks/run.js';
import { action, progress, progressDone, withConnection } from '../common.js';

/** The bundled hooks next to this build (dist/hooks.js); Claude Code runs that file directly, without this CLI. */
export function bundledHooksPath(): string {
  return fileURLToPath(new URL('../../hooks.js', import.meta.url));
}

const TOKEN_VARS = ['LETTA_API_KEY', 'LETTA_PASSWORD', 'LETTA_API_TOKEN'];

export function registerHooks(program: Command): void {
  const hooks = program
    .command('hooks')
    .description('Claude Code memory hooks: install, check, or run one hook (reads the hook JSON on stdin)');

  withConnection(
    hooks
      .command('install')
      .description(
        "Merge Cairn's hooks and MCP server into Claude Code's settings (idempotent; other entries are kept)",
      )
      .option(
        '--scope <scope>',
        'user (~/.claude/settings.json, ~/.claude.json) or project (.claude/settings.json, .mcp.json)',
        'project',
      )
      .option('--project-dir <dir>', 'project root for --scope project (default: current directory)')
      .option('--no-mcp', 'do not register the MCP server')
      .option('--post-tool-use', 'also record file edits (PostToolUse; off by default)'),
  ).action(
    action(
      async (options: {
        scope: string;
        projectDir?: string;
        mcp: boolean;
        postToolUse?: boolean;
        baseUrl?: string;
      }) => {
        if (options.scope !== 'user' && options.scope !== 'project')
          throw new Error(`--scope must be user or project, not '${options.scope}'`);
        const hooksScript = bundledHooksPath();
        if (!existsSync(hooksScript)) throw new Error(`bundled hooks not found at ${hooksScript}; run npm run build`);
        const connection = resolveConnection(options);
        const report = install({
          scope: options.scope as Scope,
          projectDir: options.projectDir ?? process.cwd(),
          hooksScript,
          baseURL: connection.baseURL === DEFAULT_BASE_URL ? undefined : connection.baseURL,
          tokenEnvVar: TOKEN_VARS.find((name) => process.env[name]),
          mcpURL: `${connection.baseURL}/mcp`,
          mcp: options.mcp,
          postToolUse: options.postToolUse === true,
        });
        const files = [report.settingsFile, ...(report.mcpFile ? [report.mcpFile] : [])];
        for (const file of files)
          process.stdout.write(`${report.changed.includes(file) ? 'updated  ' : 'unchanged'} ${file}\n`);
      },
    ),
  );

  withConnection(
    hooks
      .command('doctor')
      .description('Run each hook with a sample payload against the server and report reachability and latency'),
  ).action(
    action(async (options: { baseUrl?: string }) => {
      const connection = resolveConnection(options);
      const client = createClient(connection, { timeoutMs: 3_000 });
      const t0 = performance.now();
      const health = await client.health();
      process.stdout.write(
        `server    ${connection.baseURL}  reachable (version ${health.version}, ${Math.round(performance.now() - t0)} ms)\n`,
      );
      const hooksScript = bundledHooksPath();
      if (!existsSync(hooksScript)) throw new Error(`bundled hooks not found at ${hooksScript}; run npm run build`);
      const results = await doctor(hooksScript, connection.baseURL);
      let failed = false;
      for (const r of results) {
        failed ||= r.exitCode !== 0 || r.output.startsWith('failed');
        process.stdout.write(`${r.event.padEnd(19)} exit ${r.exitCode}  ${String(r.ms).padStart(5)} ms  ${r.output}\n`);
      }
      if (failed) throw new Error('a hook failed; see above');
    }),
  );

  for (const event of HOOK_EVENTS) {
    withConnection(
      hooks
        .command(event)
        .description(`Run the ${event} hook (Claude Code hook JSON on stdin; always exits 0)`)
        .option('--enable', 'turn on an optional hook'),
    ).action(async (options: { baseUrl?: string; enable?: boolean }) => {
      await hookMain(event, [
        ...(options.baseUrl ? ['--base-url', options.baseUrl] : []),
        ...(options.enable ? ['--enable'] : []),
      ]);
    });
  }
}

interface DoctorResult {
  event: HookEvent;
  exitCode: number | null;
  ms: number;
  output: string;
}

/**
 * Runs every hook as Claude Code would (a child process, JSON on stdin) in a scratch project `cairn-doctor` with
 * its own state directory, so the real sessions, agent cache and circuit breaker are untouched.
 */
async function doctor(hooksScript: string, baseURL: string): Promise<DoctorResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-doctor-'));
  try {
    const cwd = join(dir, 'cairn-doctor');
    const transcript = join(dir, 'transcript.jsonl');
    const sessionId = `doctor-${Date.now()}`;
    writeFileSync(
      transcript,
      [
        {
          type: 'user',
          uuid: `${sessionId}-u`,
          timestamp: new Date().toISOString(),
          message: { role: 'user', content: 'cairn hooks doctor: sample prompt about deployment' },
        },
        {
          type: 'assistant',
          uuid: `${sessionId}-a`,
          timestamp: new Date().toISOString(),
          message: {
            role: 'assistant',
            content: [{ type: 'text', text: 'Sample answer recorded by cairn hooks doctor.' }],
          },
        },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n') + '\n',
    );
    const base = { session_id: sessionId, transcript_path: transcript, cwd };
    const payloads: Record<HookEvent, Record<string, unknown>> = {
      'session-start': { ...base, hook_event_name: 'SessionStart', source: 'startup' },
      'user-prompt-submit': {
        ...base,
        hook_event_name: 'UserPromptSubmit',
        prompt: 'How do we deploy this project to production?',
      },
      stop: { ...base, hook_event_name: 'Stop', stop_hook_active: false },
      'pre-compact': { ...base, hook_event_name: 'PreCompact', trigger: 'manual', custom_instructions: null },
      'session-end': { ...base, hook_event_name: 'SessionEnd', reason: 'other' },
      'post-tool-use': {
        ...base,
        hook_event_name: 'PostToolUse',
        tool_name: 'Edit',
        tool_input: { file_path: join(cwd, 'README.md'), old_string: 'a', new_string: 'b' },
        tool_use_id: `${sessionId}-t`,
      },
    };
    const results: DoctorResult[] = [];
    for (const event of HOOK_EVENTS) {
      progress(`running ${event}…`);
      const stateDir = join(dir, 'state');
      const env = { ...process.env, LETTA_BASE_URL: baseURL, CAIRN_HOOKS_STATE_DIR: stateDir, CLAUDE_PROJECT_DIR: cwd };
      const run = await runChild(
        hooksScript,
        event === 'post-tool-use' ? [event, '--enable'] : [event],
        JSON.stringify(payloads[event]),
        env,
      );
      // The hook's own verdict is in its log: it exits 0 and stays silent even when it failed.
      const verdict = lastLogEntry(stateDir, event);
      const status = verdict?.msg === 'ok' ? 'ok' : `failed: ${verdict?.error ?? verdict?.msg ?? 'no log entry'}`;
      results.push({ event, ...run, output: `${status}, ${run.output}` });
    }
    progressDone();
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function lastLogEntry(stateDir: string, event: string): { msg?: string; error?: string } | undefined {
  try {
    const lines = readFileSync(join(stateDir, 'hooks.log'), 'utf8').trim().split('\n');
    return lines
      .map((l) => JSON.parse(l) as { event?: string; msg?: string; error?: string })
      .reverse()
      .find((e) => e.event === event);
  } catch {
    return undefined;
  }
}

function runChild(
  script: string,
  args: string[],
  stdin: string,
  env: NodeJS.ProcessEnv,
): Promise<Omit<DoctorResult, 'event'>> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [script, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => {
      const ms = Math.round(performance.now() - started);
      resolve({ exitCode: code, ms, output: out.trim() ? `${out.trim().length} chars of context` : 'no output' });
    });
    child.stdin.end(stdin);
  });
}
