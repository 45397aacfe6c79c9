import type { Command } from 'commander';
import type Letta from '@letta-ai/letta-client';
import { createClient, describeError, resolveConnection } from '../client/connection.js';

export interface ClientFlags {
  baseUrl?: string;
  json?: boolean;
}

/** `--base-url` on a client-side command; the token only ever comes from the environment (never argv, never logs). */
export function withConnection(command: Command): Command {
  return command.option(
    '--base-url <url>',
    'server URL (env LETTA_BASE_URL, default http://127.0.0.1:8283); token from LETTA_API_KEY / LETTA_PASSWORD',
  );
}

export function clientFrom(flags: ClientFlags): Letta {
  return createClient(resolveConnection(flags), { actor: 'api:cli' });
}

/** Runs a command body; any failure becomes one line on stderr and exit status 1. */
export function action<A extends unknown[]>(body: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await body(...args);
    } catch (error) {
      process.stderr.write(`cairn: ${describeError(error)}\n`);
      process.exitCode = 1;
    }
  };
}

/** Progress for long operations goes to stderr (stdout stays parseable), and only to a terminal. */
export function progress(message: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${message}`);
}

export function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
}
