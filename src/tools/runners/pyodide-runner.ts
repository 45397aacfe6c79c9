import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PYODIDE_LOCKDOWN, PYTHON_HARNESS } from './python-harness.js';
import {
  errorResult,
  outputExceededResult,
  timeoutResult,
  resultFromHarness,
  type PipRequirement,
  type ToolRunner,
  type ToolRunRequest,
  type ToolRunResult,
} from './types.js';
import { WorkerPool, type WorkerOutcome } from './worker-pool.js';

export interface PyodideRunnerOptions {
  /** Interpreters alive at once (default 2: this is CPU work, and a core is a core). */
  poolSize?: number;
  /** Interpreters booted ahead of the first call (default 1). */
  warm?: number;
  /** WebAssembly memory an interpreter may grow to; past it Python raises MemoryError (default 256 MiB). */
  memoryLimitBytes?: number;
  /** Folders of wheel files; a pure-Python wheel (`*-py3-none-any.whl`) found there satisfies a pip requirement. */
  wheelDirs?: string[];
}

/** The worker: boots Pyodide with no host file system mounted, closes every path out of it, then runs tools. */
const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { createRequire } = require('node:module');
const hostRequire = createRequire(workerData.pyodideDir + '/');

// Emscripten opens a real WebSocket for a Python socket, and os.system runs a host shell: both go first.
const blocked = () => { throw new Error('not available in the tool sandbox'); };
const wsPath = hostRequire.resolve('ws');
hostRequire(wsPath);
require.cache[wsPath].exports = function WebSocket() { blocked(); };
const childProcess = require('node:child_process');
for (const name of Object.keys(childProcess)) if (typeof childProcess[name] === 'function') childProcess[name] = blocked;
require('node:module').syncBuiltinESMExports();

// Memory past the cap is refused at the one place WebAssembly memory grows, so malloc fails and Python raises MemoryError.
const grow = WebAssembly.Memory.prototype.grow;
WebAssembly.Memory.prototype.grow = function (pages) {
  if (this.buffer.byteLength + pages * 65536 > workerData.memoryLimitBytes) throw new RangeError('memory cap');
  return grow.call(this, pages);
};

let out = { stdout: '', stderr: '', bytes: 0, limit: 0, exceeded: false };
const interrupt = new Int32Array(new SharedArrayBuffer(4));
const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
// Raw writes, not line-buffered ones: a flood without newlines is counted as it is written.
function write(stream, bytes) {
  if (out.exceeded) return bytes.length;
  const room = out.limit - out.bytes;
  if (bytes.length > room) {
    out[stream] += decoders[stream].decode(bytes.subarray(0, Math.max(0, room)));
    out.exceeded = true;
    // SIGINT: Python raises KeyboardInterrupt at its next check, so the flood stops now, not at the timeout.
    interrupt[0] = 2;
    return bytes.length;
  }
  out[stream] += decoders[stream].decode(bytes, { stream: true });
  out.bytes += bytes.length;
  return bytes.length;
}

function lockDownRealm(pyodide) {
  // If Python ever reached a JS object, it still could not make code from a string, reach the host through the
  // module system or the file system, or walk stack frames up to the global object.
  const noConstructor = { value: undefined, writable: false, configurable: false };
  for (const fn of [function () {}, async function () {}, function* () {}, async function* () {}]) {
    Object.defineProperty(Object.getPrototypeOf(fn), 'constructor', noConstructor);
  }
  Object.defineProperty(Error, 'prepareStackTrace', { value: undefined, writable: false, configurable: false });
  Object.defineProperty(Error, 'captureStackTrace', { value: undefined, writable: false, configurable: false });
  const FS = pyodide.FS;
  for (const name of Object.keys(FS.filesystems)) if (name !== 'MEMFS') delete FS.filesystems[name];
  FS.mount = blocked;
  for (const name of ['mountNodeFS', 'mountNativeFS', 'loadPackage', 'loadPackagesFromImports', 'registerJsModule', 'pyimport']) {
    try { pyodide[name] = blocked; } catch {}
  }
  for (const name of ['eval', 'Function', 'process', 'require', 'fetch', 'WebSocket', 'Worker', 'module', 'importScripts']) {
    try { delete globalThis[name]; } catch {}
    try { globalThis[name] = undefined; } catch {}
  }
}

(async () => {
  let pyodide;
  try {
    const { loadPyodide } = await import(workerData.pyodideModuleUrl);
    pyodide = await loadPyodide({
      indexURL: workerData.pyodideDir + '/',
      jsglobals: Object.create(null),
      env: {},
      checkAPIVersion: true,
    });
    pyodide.setStdout({ write: (bytes) => write('stdout', bytes), isatty: false });
    pyodide.setStderr({ write: (bytes) => write('stderr', bytes), isatty: false });
    pyodide.setInterruptBuffer(interrupt);
    pyodide.runPython(workerData.harness);
    pyodide.runPython(workerData.lockdown);
  } catch (error) {
    parentPort.postMessage({ type: 'boot-failed', error: String(error && error.message || error) });
    return;
  }
  const runTool = pyodide.globals.get('cairn_run_tool');
  const FS = pyodide.FS;
  const installed = new Set();
  lockDownRealm(pyodide);
  parentPort.on('message', (message) => {
    const { request, wheels, outputLimitBytes } = message.payload;
    out = { stdout: '', stderr: '', bytes: 0, limit: outputLimitBytes, exceeded: false };
    decoders.stdout = new TextDecoder();
    decoders.stderr = new TextDecoder();
    interrupt[0] = 0;
    let harnessJson;
    let fatal = false;
    try {
      const wheelFiles = [];
      for (const [index, wheel] of wheels.entries()) {
        if (installed.has(wheel.name)) continue;
        const path = '/tmp/cairn-wheel-' + index + '.whl';
        FS.writeFile(path, wheel.bytes);
        wheelFiles.push(path);
        installed.add(wheel.name);
      }
      harnessJson = runTool(JSON.stringify({ ...JSON.parse(request), wheel_files: wheelFiles }));
    } catch (error) {
      harnessJson = JSON.stringify({ ok: false, exc: 'SandboxError', msg: String(error && error.message || error) });
      // An error escaping the harness means the interpreter itself broke: this worker must not run anything else.
      fatal = true;
    }
    parentPort.postMessage({
      type: 'done',
      value: { harnessJson, stdout: out.stdout, stderr: out.stderr, outputExceeded: out.exceeded, fatal },
    });
  });
  parentPort.postMessage({ type: 'ready' });
})();
`;

interface WorkerValue {
  fatal: boolean;
  harnessJson: string;
  stdout: string;
  stderr: string;
  outputExceeded: boolean;
}

/**
 * Python tools in Pyodide (CPython compiled to WebAssembly) inside worker threads: an in-memory file system only,
 * no network, no process spawning, no way from Python into the JavaScript realm, a WebAssembly memory cap, a
 * wall-clock timeout (the worker is terminated and replaced), and an output cap.
 */
export class PyodideRunner implements ToolRunner {
  private readonly pool: WorkerPool;
  private readonly wheelDirs: string[];

  constructor(options: PyodideRunnerOptions = {}) {
    this.wheelDirs = options.wheelDirs ?? [];
    const pyodideDir = pyodidePackageDir();
    this.pool = new WorkerPool({
      source: WORKER_SOURCE,
      workerData: {
        pyodideDir,
        pyodideModuleUrl: new URL(`file://${join(pyodideDir, 'pyodide.mjs')}`).href,
        harness: PYTHON_HARNESS,
        lockdown: PYODIDE_LOCKDOWN,
        memoryLimitBytes: options.memoryLimitBytes ?? 256 * 1024 * 1024,
      },
      size: options.poolSize ?? 2,
      warm: options.warm ?? 1,
      // The JS heap only holds Pyodide's glue; Python's objects live in the WebAssembly memory capped above.
      resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32 },
    });
  }

  /** Interpreters alive now. */
  get workerCount(): number {
    return this.pool.workerCount;
  }

  async run(request: ToolRunRequest): Promise<ToolRunResult> {
    if (request.sourceType !== 'python') {
      return errorResult(request, 'ValueError', `the Pyodide sandbox runs Python tools, not ${request.sourceType}`);
    }
    let wheels: { name: string; bytes: Uint8Array }[];
    try {
      wheels = await this.findWheels(request.pipRequirements);
    } catch (error) {
      return errorResult(request, 'ModuleNotFoundError', (error as Error).message);
    }
    const key = isolationKey(request);
    const payload = {
      request: JSON.stringify({
        source: request.sourceCode,
        function_name: request.functionName,
        args: request.args,
        env: request.envVars,
        agent_state: request.agentState,
      }),
      wheels,
      outputLimitBytes: request.outputLimitBytes,
    };
    const outcome = await this.pool.exec(key, payload, request.timeoutMs, (value) => (value as WorkerValue).fatal);
    return this.toResult(request, outcome);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private toResult(request: ToolRunRequest, outcome: WorkerOutcome): ToolRunResult {
    switch (outcome.kind) {
      case 'timeout':
        return timeoutResult(request);
      case 'crashed':
        return errorResult(request, 'SandboxError', `the sandbox stopped: ${outcome.error}`);
      case 'closed':
        return errorResult(request, 'SandboxError', 'the sandbox is shut down');
      case 'done': {
        const value = outcome.value as WorkerValue;
        if (value.outputExceeded) {
          return outputExceededResult(request, value);
        }
        return resultFromHarness(request, value.harnessJson, value.stdout, value.stderr);
      }
    }
  }

  private async findWheels(requirements: PipRequirement[]): Promise<{ name: string; bytes: Uint8Array }[]> {
    const wheels: { name: string; bytes: Uint8Array }[] = [];
    for (const requirement of requirements) {
      const path = await this.findWheel(requirement);
      if (!path) {
        const wanted = requirement.version ? `${requirement.name}==${requirement.version}` : requirement.name;
        throw new Error(
          `pip requirement '${wanted}' is not available offline to the Pyodide sandbox ` +
            '(only pure-Python wheels in the configured wheel folders can be loaded)',
        );
      }
      wheels.push({ name: path, bytes: new Uint8Array(await readFile(path)) });
    }
    return wheels;
  }

  private async findWheel(requirement: PipRequirement): Promise<string | null> {
    const wanted = normalizeDistribution(requirement.name);
    for (const dir of this.wheelDirs) {
      let files: string[];
      try {
        files = await readdir(dir);
      } catch {
        continue;
      }
      const match = files
        .filter((file) => /-py3-none-any\.whl$|-py2\.py3-none-any\.whl$/.test(file))
        .map((file) => ({ file, parts: file.split('-') }))
        .filter(({ parts }) => normalizeDistribution(parts[0] ?? '') === wanted)
        .filter(({ parts }) => !requirement.version || parts[1] === requirement.version.replace(/^==/, ''))
        .sort((a, b) => (b.parts[1] ?? '').localeCompare(a.parts[1] ?? '', undefined, { numeric: true }))[0];
      if (match) return join(dir, match.file);
    }
    return null;
  }
}

function normalizeDistribution(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '_');
}

/** Runs that may share an interpreter: the same code with the same requirements and the same secrets. */
function isolationKey(request: ToolRunRequest): string {
  return createHash('sha256')
    .update(JSON.stringify([request.sourceCode, request.functionName, request.pipRequirements, request.envVars]))
    .digest('hex');
}

function pyodidePackageDir(): string {
  return dirname(createRequire(import.meta.url).resolve('pyodide/package.json'));
}
