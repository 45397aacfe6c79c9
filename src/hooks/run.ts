import Letta from '@letta-ai/letta-client';
import { createClient, resolveConnection } from '../client/connection.js';
import { nodeHttpFetch } from '../lib/node-http-fetch.js';
import { Budget } from './budget.js';
import { BUDGET_MS, HOOK_EVENTS, runEvent, type HookEvent } from './handlers.js';
import { HookState } from './state.js';

/** Largest hook input read; Claude Code's payloads are a few KB (Stop carries the last assistant message). */
const MAX_STDIN_BYTES = 2 * 1024 * 1024;
const STDIN_DEADLINE_MS = 1_500;
/**
 * How long past its budget the watchdog lets a hook run: the budget's abort has already failed every request
 * by then, so this is only for a hook stuck elsewhere (what is left of it is logging and exiting).
 */
const WATCHDOG_GRACE_MS = 150;

export function isHookEvent(value: string): value is HookEvent {
  return (HOOK_EVENTS as readonly string[]).includes(value);
}

/** stdin with a deadline and a size cap: an open pipe nobody writes to must not hang the hook. */
export function readStdin(deadlineMs = STDIN_DEADLINE_MS, maxBytes = MAX_STDIN_BYTES): Promise<string> {
  if (process.stdin.isTTY) return Promise.resolve('');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = () => {
      clearTimeout(timer);
      process.stdin.removeAllListeners('data');
      process.stdin.pause();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const timer = setTimeout(finish, deadlineMs);
    process.stdin.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        chunks.length = 0;
        return finish();
      }
      chunks.push(chunk);
    });
    process.stdin.on('end', finish);
    process.stdin.on('error', finish);
  });
}

/** Failures that say the server is unreachable or unwell, as opposed to a request it refused. */
export function isNetworkFailure(error: unknown): boolean {
  if (error instanceof Letta.APIConnectionError) return true;
  return error instanceof Letta.APIError && typeof error.status === 'number' && error.status >= 500;
}

export interface HookProcessResult {
  stdout: string | undefined;
}

/**
 * One hook invocation, never failing: every error is logged to the state directory and swallowed, because a
 * non-zero exit or stray output from a hook reaches Claude as "hook error". After a network failure the breaker
 * keeps later hooks off the network for a while (CAIRN_HOOKS_BREAKER_SECONDS, default 60).
 */
export async function runHook(
  event: HookEvent,
  rawInput: string,
  env: NodeJS.ProcessEnv = process.env,
  budget = new Budget(BUDGET_MS[event]),
): Promise<HookProcessResult> {
  const state = HookState.fromEnv(env);
  const started = Date.now();
  try {
    if (['off', 'false', '0'].includes((env.LETTA_HOOKS ?? '').toLowerCase())) return { stdout: undefined };
    let input: unknown;
    try {
      input = JSON.parse(rawInput);
    } catch {
      state.log(event, 'ignored: stdin is not JSON', { bytes: rawInput.length });
      return { stdout: undefined };
    }
    if (!input || typeof input !== 'object' || Array.isArray(input)) return { stdout: undefined };
    // Subagents have their own transcripts and contexts; memory is for the main session only.
    if ((input as { agent_id?: unknown }).agent_id !== undefined) return { stdout: undefined };
    if (state.breakerOpen()) {
      state.log(event, 'skipped: circuit breaker open');
      return { stdout: undefined };
    }
    const client = createClient(resolveConnection({}, env), {
      timeoutMs: Math.max(1, budget.remainingMs()),
      maxRetries: 0,
      fetch: budget.bound(nodeHttpFetch),
      actor: 'hook:claude-code',
    });
    try {
      const stdout = await runEvent({ event, input, state, client, env });
      state.resetBreaker();
      state.log(event, 'ok', { ms: Date.now() - started, chars: stdout?.length ?? 0 });
      return { stdout };
    } catch (error) {
      // A budget spent without a single answer means a hung or unreachable server. One that answered, only too
      // slowly, does not trip the breaker: on a loaded machine the slowness is the machine's (Node's start-up alone
      // can take half the budget), and the breaker would drop the next minute of memory for it.
      if ((budget.spent && !budget.serverAnswered) || isNetworkFailure(error))
        state.tripBreaker(Number(env.CAIRN_HOOKS_BREAKER_SECONDS ?? 60) * 1000);
      // A remembered agent (or conversation) was deleted on the server: forget the mapping, the next hook re-resolves.
      if (error instanceof Letta.NotFoundError) state.forget((input as { session_id?: unknown }).session_id);
      const message = error instanceof Error ? error.message : String(error);
      state.log(event, 'failed', {
        ms: Date.now() - started,
        error: budget.spent ? `timed out: the hook's ${budget.totalMs} ms budget was spent (${message})` : message,
      });
      return { stdout: undefined };
    }
  } catch (error) {
    state.log(event, 'crashed', { error: String(error) });
    return { stdout: undefined };
  }
}

/**
 * The process entry: read stdin, run, print, exit 0, all within the event's budget counted from process start,
 * with a watchdog in case anything outlives it. Flags written by `cairn hooks install`: `--base-url <url>` (the
 * server), `--enable` (turns on an optional hook).
 */
export async function hookMain(event: string, flags: string[] = []): Promise<void> {
  const env = { ...process.env };
  const baseUrlAt = flags.indexOf('--base-url');
  if (baseUrlAt >= 0 && flags[baseUrlAt + 1]) env.LETTA_BASE_URL = flags[baseUrlAt + 1];
  if (flags.includes('--enable') && event === 'post-tool-use') env.CAIRN_HOOKS_POST_TOOL_USE = 'on';
  if (!isHookEvent(event)) {
    HookState.fromEnv().log(event, `unknown hook event; expected one of ${HOOK_EVENTS.join(', ')}`);
    process.exit(0);
  }
  const budget = new Budget(BUDGET_MS[event]);
  setTimeout(() => process.exit(0), budget.remainingMs() + WATCHDOG_GRACE_MS).unref();
  const input = await readStdin(Math.min(STDIN_DEADLINE_MS, budget.remainingMs()));
  const { stdout } = await runHook(event, input, env, budget);
  // Exit as soon as stdout is flushed: idle keep-alive sockets must not hold the process (and Claude) open.
  if (stdout) process.stdout.write(stdout.endsWith('\n') ? stdout : `${stdout}\n`, () => process.exit(0));
  else process.exit(0);
}
