import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));

let built: Promise<string> | undefined;

/**
 * Compiles the `cairn` executable into a private directory (never `dist/`, which other runs rebuild and delete).
 * It lives under the project's node_modules so that its package imports resolve as they do from `dist/`.
 */
export function buildCli(): Promise<string> {
  return (built ??= (async () => {
    const cache = join(root, 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    const outdir = mkdtempSync(join(cache, 'cairn-cli-'));
    const outfile = join(outdir, 'main.js');
    await build({
      entryPoints: [join(root, 'src/cli/main.ts')],
      outfile,
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'error',
    });
    return outfile;
  })());
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface CliProcess {
  child: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  exited: Promise<number | string>;
}

/** Settings a developer's shell may carry that would change what the CLI does. */
const INHERITED = [
  'LETTA_PG_URI',
  'LETTA_SERVER_PASSWORD',
  'SECURE',
  'LETTA_SERVER_SECURE',
  'PORT',
  'HOST',
  'CAIRN_HOME',
  'CAIRN_ALLOW_INSECURE_REMOTE',
];

export async function spawnCli(args: string[], env: Record<string, string> = {}): Promise<CliProcess> {
  const cli = await buildCli();
  const base = { ...process.env };
  for (const name of INHERITED) delete base[name];
  const child = spawn(process.execPath, [cli, ...args], {
    env: { ...base, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.resume();
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { child, stderr: () => stderr, exited };
}

/** Polls `/v1/health` until it answers, or the process exits, or the deadline passes. */
export async function waitForHealth(port: number, cli: CliProcess, timeoutMs = 15_000): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void cli.exited.then(() => (exited = true));
  while (Date.now() < deadline && !exited) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/v1/health`);
      if (response.ok) return await response.json();
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`cairn did not become healthy on port ${port}: ${cli.stderr()}`);
}

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

export async function removeCli(): Promise<void> {
  if (!built) return;
  rmSync(dirname(await built), { recursive: true, force: true });
  built = undefined;
}
