import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(import.meta.dirname, 'fixtures');

export interface HookResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the bundled hook as Claude Code does: a child process, the payload on stdin, nothing else. */
export function runHookProcess(
  script: string,
  args: string[],
  stdin: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<HookResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [script, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
    // A hook may exit before reading an oversized payload; that is its right, not a test failure.
    child.stdin.on('error', () => {});
    if (stdin === undefined) return; // leave stdin open: the hook must give up on its own
    child.stdin.end(stdin);
  });
}

type PayloadName =
  'SessionStart' | 'SessionStartResume' | 'UserPromptSubmit' | 'Stop' | 'PreCompact' | 'SessionEnd' | 'PostToolUse';

/** A recorded Claude Code payload with this test's session, transcript, directory and prompt filled in. */
export function payload(
  name: PayloadName,
  fill: { session: string; transcript: string; cwd: string; prompt?: string },
  extra: Record<string, unknown> = {},
): string {
  const all = JSON.parse(readFileSync(join(FIXTURES, 'payloads.json'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  const text = JSON.stringify(all[name])
    .replaceAll('SESSION', fill.session)
    .replaceAll('TRANSCRIPT', fill.transcript)
    .replaceAll('CWD', fill.cwd)
    .replaceAll('PROMPT', fill.prompt ?? '');
  return JSON.stringify({ ...JSON.parse(text), ...extra });
}
