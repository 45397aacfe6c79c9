import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { McpStdioConfig } from '../../src/tools/mcp/config.js';

export const FIXTURE_SERVER = fileURLToPath(new URL('./mcp-fixture-server.mjs', import.meta.url));
export const EVERYTHING_SERVER = fileURLToPath(
  new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);

/** The fixture over stdio; `marker` (an extra, ignored argument) lets a test find the process among all others. */
export function stdioFixture(mode = 'normal', options: { marker?: string; env?: Record<string, string> } = {}) {
  return {
    type: 'stdio',
    serverName: `fixture-${mode}`,
    command: process.execPath,
    args: [FIXTURE_SERVER, 'stdio', mode, ...(options.marker ? [options.marker] : [])],
    env: options.env ?? null,
  } satisfies McpStdioConfig;
}

export interface HttpFixture {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** The fixture as its own process over streamable HTTP (`/mcp`) or SSE (`/sse`). */
export async function httpFixture(transport: 'streamable-http' | 'sse'): Promise<HttpFixture> {
  const child = spawn(process.execPath, [FIXTURE_SERVER, transport], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`fixture exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}${transport === 'sse' ? '/sse' : '/mcp'}`,
    child,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill();
      await once(child, 'exit');
    },
  };
}

/** An HTTP server that accepts every request and never answers it: a hung MCP server. */
export async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const held: http.ServerResponse[] = [];
  const server = http.createServer((_req, res) => {
    held.push(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback URL with nothing listening on it. */
export async function deadUrl(): Promise<string> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/mcp`;
}

/** Processes whose command line carries `marker` (read from `ps`, nothing is signalled). */
export function pidsWithMarker(marker: string): number[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(marker) && !line.includes('ps -eo'))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

/** Whether a process is still alive (signal 0 only checks). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}
