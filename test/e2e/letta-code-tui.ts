/**
 * Letta Code's interactive TUI on a pseudo-terminal, for the commands that exist only there (`/mcp`, `/export`): the
 * CLI runs under `script` from util-linux and is driven by keystrokes, and the test reads what the screen shows.
 */
import { spawn } from 'node:child_process';
import { cliEnvironment, type Install } from './letta-code-install.js';

/** How long one screen may take to appear; generous, for a loaded machine: a miss fails with the screen's text. */
const SCREEN_TIMEOUT = 60_000;

/** Colours, cursor moves and OSC titles off, carriage returns as line breaks: what a reader of the screen sees. */
const screenText = (raw: string) =>
  raw
    .replace(/\x1b\][^\x07]*\x07/g, '') // eslint-disable-line no-control-regex
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '') // eslint-disable-line no-control-regex
    .replace(/\r/g, '\n');

export interface Tui {
  /** Resolves once `pattern` is on the screen (after everything seen so far was consumed by earlier waits). */
  waitFor(pattern: RegExp): Promise<string>;
  type(keys: string): void;
  screen(): string;
  stop(): Promise<void>;
}

/** The interactive CLI on a pseudo-terminal (`script -q -f -c`), 120×40, its output kept whole for the assertions. */
export function startTui(cli: Install, baseURL: string, home: string, cwd: string, agentId: string): Tui {
  const command = `stty cols 120 rows 40; exec '${cli.NODE24}' '${cli.LETTA_CODE_ENTRY}' --agent ${agentId}`;
  const child = spawn('script', ['-q', '-f', '-c', command, '/dev/null'], {
    cwd,
    env: { ...cliEnvironment(baseURL, home), TERM: 'xterm-256color' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let raw = '';
  let consumed = 0;
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    raw += chunk.toString();
    for (const check of waiters) check();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  return {
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const text = screenText(raw.slice(consumed));
          if (!pattern.test(text)) return;
          waiters.delete(check);
          clearTimeout(timer);
          consumed = raw.length;
          resolve(text);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${pattern} did not appear; the screen so far:\n${screenText(raw).slice(-4000)}`));
        }, SCREEN_TIMEOUT);
        waiters.add(check);
        check();
      });
    },
    type: (keys) => child.stdin.write(keys),
    screen: () => screenText(raw),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
      await exited;
    },
  };
}
