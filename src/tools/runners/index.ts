import { PyodideRunner, type PyodideRunnerOptions } from './pyodide-runner.js';
import { QuickJsRunner, type QuickJsRunnerOptions } from './quickjs-runner.js';
import { SubprocessRunner, type SubprocessRunnerOptions } from './subprocess-runner.js';
import type { ToolRunner, ToolRunRequest, ToolRunResult } from './types.js';

export { PyodideRunner, type PyodideRunnerOptions } from './pyodide-runner.js';
export { QuickJsRunner, orderedArguments, type QuickJsRunnerOptions } from './quickjs-runner.js';
export { SubprocessRunner, type Isolation, type SubprocessRunnerOptions } from './subprocess-runner.js';
export {
  errorResult,
  layerToolEnv,
  toolErrorText,
  type PipRequirement,
  type ToolEnvLayers,
  type ToolRunner,
  type ToolRunRequest,
  type ToolRunResult,
  type ToolSourceType,
} from './types.js';

export type PythonSandbox = 'pyodide' | 'subprocess';

export interface ToolSandboxOptions {
  /** `CAIRN_TOOL_SANDBOX`: 'pyodide' (the default) or 'subprocess'. */
  python?: PythonSandbox;
  pyodide?: PyodideRunnerOptions;
  /** Needed when `python` is 'subprocess'. */
  subprocess?: SubprocessRunnerOptions;
  quickjs?: QuickJsRunnerOptions;
}

/** Reads `CAIRN_TOOL_SANDBOX`; anything but the two names is a configuration error, not a silent default. */
export function pythonSandboxFromEnv(value: string | undefined): PythonSandbox {
  if (value === undefined || value === '' || value === 'pyodide') return 'pyodide';
  if (value === 'subprocess') return 'subprocess';
  throw new Error(`CAIRN_TOOL_SANDBOX must be 'pyodide' or 'subprocess', not '${value}'`);
}

/** The one runner the server holds: Python to Pyodide or a subprocess, JavaScript and TypeScript to QuickJS. */
export class ToolSandbox implements ToolRunner {
  private python: ToolRunner | null = null;
  private javascript: ToolRunner | null = null;

  constructor(private readonly options: ToolSandboxOptions = {}) {}

  run(request: ToolRunRequest): Promise<ToolRunResult> {
    return request.sourceType === 'python' ? this.pythonRunner().run(request) : this.javascriptRunner().run(request);
  }

  async close(): Promise<void> {
    await Promise.all([this.python?.close(), this.javascript?.close()]);
  }

  // Each runner starts on first use: a server with no custom tools boots no interpreter.
  private pythonRunner(): ToolRunner {
    if (!this.python) {
      if (this.options.python === 'subprocess') {
        if (!this.options.subprocess) throw new Error('the subprocess sandbox needs its options (venvRoot)');
        this.python = new SubprocessRunner(this.options.subprocess);
      } else this.python = new PyodideRunner(this.options.pyodide);
    }
    return this.python;
  }

  private javascriptRunner(): ToolRunner {
    this.javascript ??= new QuickJsRunner(this.options.quickjs);
    return this.javascript;
  }
}
