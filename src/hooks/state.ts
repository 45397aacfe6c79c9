import { appendFileSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Everything the hooks remember between processes, under one per-user directory: the session map (agent,
 * conversation, transcript offset, what was injected), the agent cache, the circuit breaker and the log.
 */
export class HookState {
  constructor(readonly dir: string) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): HookState {
    return new HookState(env.CAIRN_HOOKS_STATE_DIR || join(env.CAIRN_HOME || join(homedir(), '.cairn'), 'hooks'));
  }

  private path(name: string): string {
    return join(this.dir, name);
  }

  read<T>(name: string): T | undefined {
    try {
      return JSON.parse(readFileSync(this.path(name), 'utf8')) as T;
    } catch {
      return undefined;
    }
  }

  /** Write-then-rename, so a hook killed mid-write never leaves a torn file for the next one. */
  write(name: string, value: unknown): void {
    mkdirSync(this.dir, { recursive: true });
    const target = this.path(name);
    const tmp = `${target}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(value));
    renameSync(tmp, target);
  }

  session(sessionId: string): SessionState {
    return this.read<SessionState>(sessionFile(sessionId)) ?? {};
  }

  saveSession(sessionId: string, state: SessionState): void {
    this.write(sessionFile(sessionId), state);
  }

  forget(sessionId: unknown): void {
    this.write('agents.json', {});
    if (typeof sessionId === 'string' && sessionId)
      this.saveSession(sessionId, {
        ...this.session(sessionId),
        agentId: undefined,
        conversationId: undefined,
        injected: undefined,
      });
  }

  log(event: string, message: string, extra: Record<string, unknown> = {}): void {
    try {
      mkdirSync(this.dir, { recursive: true });
      const file = this.path('hooks.log');
      // Bounded: past 1 MB the log rotates to one `.old` generation.
      if ((statSafe(file)?.size ?? 0) > 1_000_000) renameSync(file, `${file}.old`);
      appendFileSync(
        file,
        `${JSON.stringify({ time: new Date().toISOString(), pid: process.pid, event, msg: message, ...extra })}\n`,
      );
    } catch {
      // Logging must never be the reason a hook fails.
    }
  }

  /** The circuit breaker: after a network failure the hooks skip the server until this time passes. */
  breakerOpen(now = Date.now()): boolean {
    const until = this.read<{ until: number }>('breaker.json')?.until ?? 0;
    return now < until;
  }

  tripBreaker(ms: number): void {
    this.write('breaker.json', { until: Date.now() + ms });
  }

  resetBreaker(): void {
    if (this.read<{ until: number }>('breaker.json')?.until) this.write('breaker.json', { until: 0 });
  }
}

export interface SessionState {
  agentId?: string;
  conversationId?: string | null;
  transcriptPath?: string;
  /** Byte offset in the transcript up to which messages were recorded. */
  offset?: number;
  /** label → digest of the block value last injected into this session. */
  injected?: Record<string, string>;
}

function sessionFile(sessionId: string): string {
  return `session-${sessionId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100)}.json`;
}

function statSafe(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
