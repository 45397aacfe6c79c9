import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  errorResult,
  outputExceededResult,
  timeoutResult,
  type ToolRunner,
  type ToolRunRequest,
  type ToolRunResult,
} from './types.js';
import { WorkerPool } from './worker-pool.js';

export interface QuickJsRunnerOptions {
  poolSize?: number;
  warm?: number;
  /** Heap of one QuickJS runtime (default 64 MiB). */
  memoryLimitBytes?: number;
}

/**
 * The worker: each run gets a new QuickJS runtime (a JavaScript engine compiled to WebAssembly) whose only way out
 * is what is put in it, `console` and `process.env`. No file system, network, module loader or timers exist there.
 */
const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  let QuickJS;
  let transform;
  try {
    const core = require(workerData.corePath);
    const variant = require(workerData.variantPath);
    QuickJS = await core.newQuickJSWASMModuleFromVariant(variant.default ?? variant);
    transform = require(workerData.sucrasePath).transform;
  } catch (error) {
    parentPort.postMessage({ type: 'boot-failed', error: String(error && error.message || error) });
    return;
  }
  parentPort.on('message', ({ payload }) => parentPort.postMessage({ type: 'done', value: run(payload) }));
  parentPort.postMessage({ type: 'ready' });

  function run(p) {
    const out = { stdout: '', stderr: '', bytes: 0, exceeded: false };
    const runtime = QuickJS.newRuntime();
    runtime.setMemoryLimit(p.memoryLimitBytes);
    runtime.setMaxStackSize(1024 * 1024);
    const deadline = Date.now() + p.timeoutMs;
    runtime.setInterruptHandler(() => out.exceeded || Date.now() > deadline);
    const vm = runtime.newContext();
    try {
      const write = (stream) => (...args) => {
        if (out.exceeded) return;
        const text = args.map((a) => { const v = vm.dump(a); return typeof v === 'string' ? v : JSON.stringify(v); }).join(' ') + '\n';
        if (out.bytes + text.length > p.outputLimitBytes) {
          out[stream] += text.slice(0, Math.max(0, p.outputLimitBytes - out.bytes));
          out.exceeded = true;
          return;
        }
        out[stream] += text;
        out.bytes += text.length;
      };
      const consoleHandle = vm.newObject();
      for (const [name, stream] of [['log', 'stdout'], ['info', 'stdout'], ['debug', 'stdout'], ['warn', 'stderr'], ['error', 'stderr']]) {
        vm.newFunction(name, write(stream)).consume((fn) => vm.setProp(consoleHandle, name, fn));
      }
      vm.setProp(vm.global, 'console', consoleHandle);
      consoleHandle.dispose();
      let code = p.source;
      if (p.typescript) code = transform(code, { transforms: ['typescript'], disableESTransforms: true }).code;
      // Letta's TypeScript generator drops 'export' and calls the function with the arguments in schema order.
      code = code.replace(/\bexport\s+(default\s+)?/g, '');
      const script = 'globalThis.process = { env: JSON.parse(' + JSON.stringify(JSON.stringify(p.env)) + ') };\n' +
        code + '\n;globalThis.__cairn_result = (' + p.functionName + ')(...JSON.parse(' + JSON.stringify(JSON.stringify(p.args)) + '));';
      const evaluated = vm.evalCode(script, 'tool.js');
      if (evaluated.error) return failure(vm, evaluated.error, out);
      evaluated.value.dispose();
      let result = vm.getProp(vm.global, '__cairn_result');
      for (;;) {
        const state = vm.getPromiseState(result);
        if (state.type === 'fulfilled') {
          if (state.notAPromise) break;
          result.dispose();
          result = state.value;
          break;
        }
        if (state.type === 'rejected') {
          result.dispose();
          return failure(vm, state.error, out);
        }
        const jobs = runtime.executePendingJobs();
        if (jobs.error) {
          result.dispose();
          return failure(vm, jobs.error, out);
        }
        if (jobs.value === 0) {
          result.dispose();
          return { ok: false, exc: 'Error', msg: 'the promise returned by the tool never settled', ...out };
        }
      }
      const json = vm.evalCode('(v) => JSON.stringify(v === undefined ? null : v)');
      const encoded = vm.callFunction(json.value, vm.undefined, result);
      json.value.dispose();
      result.dispose();
      if (encoded.error) return failure(vm, encoded.error, out);
      const text = vm.getString(encoded.value);
      encoded.value.dispose();
      return { ok: true, results: JSON.parse(text), ...out };
    } catch (error) {
      return { ok: false, exc: 'SandboxError', msg: String(error && error.message || error), ...out };
    } finally {
      try { vm.dispose(); runtime.dispose(); } catch {}
    }
  }

  function failure(vm, handle, out) {
    const error = vm.dump(handle);
    handle.dispose();
    if (error && typeof error === 'object') {
      const interrupted = String(error.message || '').includes('interrupted');
      return { ok: false, exc: error.name || 'Error', msg: String(error.message ?? ''), interrupted, ...out };
    }
    return { ok: false, exc: 'Error', msg: String(error), ...out };
  }
})();
`;

interface RunValue {
  ok: boolean;
  results?: unknown;
  exc?: string;
  msg?: string;
  interrupted?: boolean;
  stdout: string;
  stderr: string;
  exceeded: boolean;
}

const require = createRequire(import.meta.url);

/** JavaScript and TypeScript tools in QuickJS, one fresh runtime per run, inside a pool of worker threads. */
export class QuickJsRunner implements ToolRunner {
  private readonly pool: WorkerPool;

  constructor(private readonly options: QuickJsRunnerOptions = {}) {
    this.pool = new WorkerPool({
      source: WORKER_SOURCE,
      workerData: {
        corePath: require.resolve('quickjs-emscripten-core'),
        variantPath: require.resolve('@jitl/quickjs-wasmfile-release-sync'),
        sucrasePath: require.resolve('sucrase'),
      },
      size: options.poolSize ?? 2,
      warm: options.warm ?? 1,
      resourceLimits: { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16 },
    });
  }

  async run(request: ToolRunRequest): Promise<ToolRunResult> {
    if (request.sourceType === 'python') {
      return errorResult(request, 'ValueError', 'the JavaScript sandbox does not run Python tools');
    }
    if (!/^[A-Za-z_$][\w$]*$/.test(request.functionName)) {
      return errorResult(request, 'SyntaxError', `'${request.functionName}' is not a JavaScript function name`);
    }
    const payload = {
      source: request.sourceCode,
      typescript: request.sourceType === 'typescript',
      functionName: request.functionName,
      args: orderedArguments(request),
      env: request.envVars,
      timeoutMs: request.timeoutMs,
      outputLimitBytes: request.outputLimitBytes,
      memoryLimitBytes: this.options.memoryLimitBytes ?? 64 * 1024 * 1024,
    };
    // Every run gets its own QuickJS runtime, so any worker may take any tool.
    const key = createHash('sha256').update('quickjs').digest('hex');
    // The interrupt handler stops a runaway tool at the deadline; the pool's own timer (a little later) is the
    // backstop for the engine not returning at all, and terminates the worker.
    const outcome = await this.pool.exec(key, payload, request.timeoutMs + 1000);
    if (outcome.kind === 'timeout') {
      return timeoutResult(request);
    }
    if (outcome.kind !== 'done') {
      return errorResult(
        request,
        'SandboxError',
        outcome.kind === 'crashed' ? outcome.error : 'the sandbox is shut down',
      );
    }
    const value = outcome.value as RunValue;
    const output = { stdout: value.stdout, stderr: value.stderr };
    if (value.exceeded) {
      return outputExceededResult(request, output);
    }
    if (value.interrupted) {
      return timeoutResult(request, output);
    }
    if (!value.ok) return errorResult(request, value.exc ?? 'Error', value.msg ?? '', output);
    return {
      status: 'success',
      funcReturn: value.results ?? null,
      stdout: value.stdout ? [value.stdout] : [],
      stderr: value.stderr ? [value.stderr] : [],
    };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** Letta's order for a TypeScript call: required parameters first, then the other properties, then anything else. */
export function orderedArguments(request: Pick<ToolRunRequest, 'args' | 'jsonSchema'>): unknown[] {
  const parameters = (request.jsonSchema?.parameters ?? {}) as { required?: unknown; properties?: unknown };
  const required = Array.isArray(parameters.required) ? parameters.required.map(String) : [];
  const properties = Object.keys((parameters.properties ?? {}) as Record<string, unknown>);
  const names: string[] = [];
  for (const name of [...required, ...properties, ...Object.keys(request.args)]) {
    if (name in request.args && !names.includes(name)) names.push(name);
  }
  return names.map((name) => request.args[name]);
}
