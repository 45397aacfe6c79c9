import { createServer, request as httpRequest, type Server } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { expect } from 'vitest';
import type { ToolRunner, ToolRunRequest } from '../../../src/tools/runners/types.js';

/** A Python tool whose `action` argument picks a hostile behaviour; one source, so warm interpreters are reused. */
export const HOSTILE_PYTHON = `
def hostile(action: str, path: str = "/etc/passwd"):
    """Misbehave on purpose.

    Args:
        action (str): What to try.
        path (str): A file or folder to read.
    """
    import os
    if action == "read_file":
        with open(path) as f:
            return f.read()
    if action == "list_dir":
        return os.listdir(path)
    if action == "socket":
        import socket
        s = socket.socket()
        s.settimeout(2)
        s.connect(("127.0.0.1", int(os.environ.get("PORT", "1"))))
        return "connected"
    if action == "loop":
        while True:
            pass
    if action == "allocate":
        hoard = []
        while True:
            hoard.append(bytearray(10**8))
    if action == "fork_bomb":
        while True:
            try:
                os.fork()
            except OSError:
                pass
    if action == "print_100mb":
        import sys
        chunk = "x" * (1024 * 1024)
        for _ in range(100):
            sys.stdout.write(chunk)
        return "printed"
    if action == "never_return":
        import time
        time.sleep(3600)
    if action == "env":
        return dict(os.environ)
    if action == "import_js":
        import js
        return str(js)
    if action == "import_pyodide_js":
        import pyodide_js
        return str(pyodide_js)
    if action == "to_js":
        from pyodide.ffi import to_js
        return str(to_js({}).constructor.constructor("return process")())
    if action == "gc_walk":
        import gc
        return len(gc.get_objects())
    if action == "create_builtin":
        import _imp
        import importlib.machinery
        return str(_imp.create_builtin(importlib.machinery.ModuleSpec("_pyodide_core", None)))
    if action == "system":
        return os.system("id")
    if action == "subprocess":
        import subprocess
        return subprocess.run(["id"], capture_output=True).returncode
    return "ok"
`;

export function pythonRequest(overrides: Partial<ToolRunRequest> = {}): ToolRunRequest {
  return {
    sourceCode: HOSTILE_PYTHON,
    sourceType: 'python',
    functionName: 'hostile',
    args: { action: 'nothing' },
    envVars: {},
    agentState: null,
    pipRequirements: [],
    timeoutMs: 5_000,
    outputLimitBytes: 1024 * 1024,
    ...overrides,
  };
}

export interface Responsiveness {
  /** Requests a plain HTTP server on this event loop answered per second while the tools ran. */
  requestsPerSecond: number;
  /** Event-loop delay over the same window, in ms. */
  p99DelayMs: number;
  maxDelayMs: number;
}

/**
 * Runs `work` while a local HTTP server on this process's event loop is hammered by sequential requests, and the
 * event-loop delay is sampled: a sandbox that blocked the loop would show as a stall in both.
 */
export async function measureWhile(work: () => Promise<unknown>): Promise<Responsiveness> {
  const server: Server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  let done = false;
  let answered = 0;
  const client = (async () => {
    while (!done) {
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('error', reject);
        req.end();
      });
      answered += 1;
    }
  })();
  histogram.enable();
  const started = performance.now();
  try {
    await work();
  } finally {
    done = true;
    histogram.disable();
  }
  const seconds = (performance.now() - started) / 1000;
  await client;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return {
    requestsPerSecond: answered / seconds,
    p99DelayMs: histogram.percentile(99) / 1e6,
    maxDelayMs: histogram.max / 1e6,
  };
}

/** Four tools spinning at once must leave the event loop serving: no stall, and HTTP answered throughout. */
export async function expectServingWhileFourSpin(
  label: string,
  runner: ToolRunner,
  spin: ToolRunRequest,
): Promise<void> {
  const stats = await measureWhile(() => Promise.all(Array.from({ length: 4 }, () => runner.run(spin))));
  // A blocked loop would show a stall as long as a tool's whole run (seconds), and almost no requests answered.
  expect(stats.maxDelayMs).toBeLessThan(1_000);
  expect(stats.requestsPerSecond).toBeGreaterThan(50);
  console.info(`${label}, 4 spinning tools: ${JSON.stringify(stats)}`);
}
