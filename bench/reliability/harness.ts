/**
 * What the reliability campaigns share: Cairn as a real child process (the private build run.mjs makes), started and
 * killed at will over one data directory or database, plus small HTTP helpers. The fake LLM and the test databases
 * come from the test harness.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort } from '../../test/support/cli.js';

export interface CairnProcess {
  baseURL: string;
  child: ChildProcess;
  /** Everything the process wrote to stderr (its warn/error log lines). */
  stderr(): string;
  exited: Promise<number | string>;
  /** Resident set size in KiB, read from /proc. */
  rssKiB(): number;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export function distDir(): string {
  const dist = process.env.CAIRN_BENCH_DIST;
  if (!dist) throw new Error('CAIRN_BENCH_DIST is not set: run through bench/reliability/run.mjs');
  return dist;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `cairn serve` on a fresh port over `dataDir` (and `pgUri`), healthy before it returns. */
export async function spawnCairn(options: {
  dataDir: string;
  pgUri?: string;
  env?: Record<string, string>;
}): Promise<CairnProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [`${distDir()}/cli/main.js`, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', options.dataDir],
    {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LOG_LEVEL: 'warn',
        ...(options.pgUri ? { LETTA_PG_URI: options.pgUri } : {}),
        ...options.env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.length > 1_000_000) stderr = stderr.slice(-500_000);
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const baseURL = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`cairn exited at start: ${stderr}`);
    if (
      await fetch(`${baseURL}/v1/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 600) throw new Error(`cairn did not start in 60 s: ${stderr}`);
    await sleep(100);
  }
  return {
    baseURL,
    child,
    stderr: () => stderr,
    exited,
    rssKiB: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    },
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface Answer {
  status: number;
  text: string;
  json(): any;
}

/** A JSON request that never throws on a status (only on a transport failure). */
export async function request(
  baseURL: string,
  method: string,
  path: string,
  body?: unknown,
  options: { signal?: AbortSignal } = {},
): Promise<Answer> {
  const response = await fetch(`${baseURL}/v1${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: options.signal,
  });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) };
}

/** Like `request`, but a non-2xx answer throws with its body. */
export async function call(baseURL: string, method: string, path: string, body?: unknown): Promise<any> {
  const answer = await request(baseURL, method, path, body);
  if (answer.status >= 300) throw new Error(`${method} ${path} → ${answer.status}: ${answer.text.slice(0, 300)}`);
  return answer.text ? answer.json() : undefined;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Violations collected over a campaign; `finish` prints them and sets the exit code. */
export class Verdict {
  readonly violations: string[] = [];
  check(ok: boolean, what: string): void {
    if (!ok) {
      this.violations.push(what);
      console.error(`VIOLATION: ${what}`);
    }
  }
  finish(summary: Record<string, unknown>): never {
    console.log(JSON.stringify({ ...summary, violations: this.violations }, null, 2));
    process.exit(this.violations.length === 0 ? 0 : 1);
  }
}
