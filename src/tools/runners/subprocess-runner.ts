import { execFile, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { chown, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PYTHON_HARNESS } from './python-harness.js';
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

const run = promisify(execFile);

export interface SubprocessRunnerOptions {
  /** The interpreter (and the base of every tool venv). Under root it must be readable by `nobody`. */
  python?: string;
  /** Where per-requirements virtual environments are kept, e.g. `<data dir>/tool-venvs`. */
  venvRoot: string;
  /** Folders that look empty inside the sandbox (give it the data dir). */
  hiddenPaths?: string[];
  /** RLIMIT_AS of the tool process (default 1 GiB). */
  memoryLimitBytes?: number;
  /** RLIMIT_NPROC: processes the tool's user may have, so a fork bomb stops at the cap (default 64). */
  maxProcesses?: number;
  /** Extra `pip install` arguments (an index, find-links); wheels only are ever accepted. */
  pipArgs?: string[];
  /** How long building one venv may take (default 5 min). */
  installTimeoutMs?: number;
  /** 'auto' uses Linux namespaces when `unshare` works here; 'none' runs the interpreter directly. */
  isolation?: 'auto' | 'none';
}

/** How a run is contained, chosen once per runner from what the machine allows. */
export type Isolation = 'root-namespaces' | 'user-namespaces' | 'none';

const NOBODY = 65534;
const HIDDEN_FILES = ['/etc/passwd', '/etc/shadow', '/etc/group', '/etc/gshadow'];

/**
 * Runs in the sandbox's namespaces before the tool: hide paths, then drop to the limits (and, under root, to
 * `nobody`) and exec Python. Arguments: run dir, venv (or ""), the hidden paths, `--`, then the command to exec.
 */
const CONTAIN_SCRIPT = String.raw`
set -e
run="$1"; venv="$2"; shift 2
# The venv may live under a hidden folder: mount it into the run dir first.
if [ -n "$venv" ]; then mkdir "$run/.venv"; mount --bind "$venv" "$run/.venv"; fi
while [ "$1" != "--" ]; do
  if [ -d "$1" ]; then mount -t tmpfs -o size=64k,mode=0755 cairn-hidden "$1"; fi
  if [ -f "$1" ]; then mount --bind /dev/null "$1"; fi
  shift
done
shift
cd "$run"
exec "$@"
`;

/** The Python entry: the request comes on stdin, the result leaves on fd 3, so nothing the tool prints can fake it. */
const ENTRY = `${PYTHON_HARNESS}
import os as _cairn_os
_cairn_result = cairn_run_tool(_cairn_sys.stdin.read())
with _cairn_os.fdopen(3, "w") as _cairn_out:
    _cairn_out.write(_cairn_result)
`;

/**
 * Opt-in (`CAIRN_TOOL_SANDBOX=subprocess`): Letta's local sandbox, a real python3 process per run, with a venv per
 * requirement set. Where Linux namespaces are available the process has no network, its own PID namespace (the
 * whole tree dies with it), the data dir and the user database hidden, and resource limits that stop a fork bomb.
 */
export class SubprocessRunner implements ToolRunner {
  private isolation: Promise<Isolation> | null = null;
  private readonly venvs = new Map<string, Promise<string>>();
  private readonly children = new Set<number>();

  constructor(private readonly options: SubprocessRunnerOptions) {}

  /** What this machine allows (probed once). */
  isolationMode(): Promise<Isolation> {
    this.isolation ??= detectIsolation(this.options.isolation ?? 'auto');
    return this.isolation;
  }

  async run(request: ToolRunRequest): Promise<ToolRunResult> {
    if (request.sourceType !== 'python') {
      return errorResult(request, 'ValueError', `the subprocess sandbox runs Python tools, not ${request.sourceType}`);
    }
    let venv: string | null = null;
    if (request.pipRequirements.length > 0) {
      try {
        venv = await this.venvFor(request.pipRequirements);
      } catch (error) {
        return errorResult(request, 'ModuleNotFoundError', (error as Error).message);
      }
    }
    const isolation = await this.isolationMode();
    const runDir = await mkdtemp(join(tmpdir(), 'cairn-tool-'));
    try {
      if (isolation === 'root-namespaces') await chown(runDir, NOBODY, NOBODY);
      return await this.spawnTool(request, venv, runDir, isolation);
    } finally {
      await rm(runDir, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    for (const pid of this.children) killGroup(pid);
    this.children.clear();
  }

  private spawnTool(
    request: ToolRunRequest,
    venv: string | null,
    runDir: string,
    isolation: Isolation,
  ): Promise<ToolRunResult> {
    const base = this.options.python ?? 'python3';
    const python = venv === null ? base : join(isolation === 'none' ? venv : join(runDir, '.venv'), 'bin', 'python');
    const limits = [
      'prlimit',
      `--nproc=${this.options.maxProcesses ?? 64}`,
      `--as=${this.options.memoryLimitBytes ?? 1024 * 1024 * 1024}`,
      `--fsize=${64 * 1024 * 1024}`,
      '--core=0',
      '--',
    ];
    const drop =
      isolation === 'root-namespaces'
        ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--']
        : [];
    const pythonArgs = [python, '-I', '-c', ENTRY];
    const hidden = [...(this.options.hiddenPaths ?? []), ...HIDDEN_FILES];
    const namespaces = ['--mount', '--net', '--pid', '--ipc', '--uts', '--fork', '--kill-child'];
    const [command, args] =
      isolation === 'none'
        ? [python, pythonArgs.slice(1)]
        : [
            'unshare',
            [
              ...(isolation === 'user-namespaces' ? ['--user', '--map-root-user'] : []),
              ...namespaces,
              '--',
              'sh',
              '-c',
              CONTAIN_SCRIPT,
              'cairn-sandbox',
              runDir,
              venv ?? '',
              ...hidden,
              '--',
              ...limits,
              ...drop,
              ...pythonArgs,
            ],
          ];
    const env = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: runDir,
      LANG: 'C.UTF-8',
      ...request.envVars,
    };
    return new Promise((resolve) => {
      const child = spawn(command as string, args as string[], {
        cwd: runDir,
        env,
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      });
      const pid = child.pid;
      if (pid !== undefined) this.children.add(pid);
      let stdout = '';
      let stderr = '';
      let resultText = '';
      let bytes = 0;
      let stopped: 'timeout' | 'output' | null = null;
      const stop = (why: 'timeout' | 'output') => {
        stopped ??= why;
        if (pid !== undefined) killGroup(pid);
      };
      const timer = setTimeout(() => stop('timeout'), request.timeoutMs);
      const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
        if (stopped) return;
        const text = chunk.toString('utf8');
        const room = request.outputLimitBytes - bytes;
        const kept = text.length > room ? text.slice(0, Math.max(0, room)) : text;
        if (stream === 'stdout') stdout += kept;
        else stderr += kept;
        bytes += text.length;
        if (bytes > request.outputLimitBytes) stop('output');
      };
      child.stdout.on('data', collect('stdout'));
      child.stderr.on('data', collect('stderr'));
      const resultStream = child.stdio[3] as NodeJS.ReadableStream;
      resultStream.on('data', (chunk: Buffer) => {
        if (resultText.length < 64 * 1024 * 1024) resultText += chunk.toString('utf8');
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(
        JSON.stringify({
          source: request.sourceCode,
          function_name: request.functionName,
          args: request.args,
          env,
          agent_state: request.agentState,
        }),
      );
      child.on('error', (error) => {
        clearTimeout(timer);
        resolve(errorResult(request, 'SandboxError', `could not start the tool process: ${error.message}`));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (pid !== undefined) this.children.delete(pid);
        const output = { stdout, stderr };
        if (stopped === 'timeout') {
          resolve(timeoutResult(request, output));
        } else if (stopped === 'output') {
          resolve(outputExceededResult(request, output));
        } else if (!resultText) {
          // No result means the process died before the harness could answer: a crash, a kill, or a limit.
          const last = stderr.trim().split('\n').at(-1) ?? '';
          const match = /(\w+(?:Error|Exception)): (.+?)$/.exec(last);
          resolve(
            match
              ? errorResult(request, match[1] as string, match[2] as string, output)
              : errorResult(request, 'SandboxError', `the tool process exited with code ${code} and no result`, output),
          );
        } else {
          resolve(resultFromHarness(request, resultText, stdout, stderr));
        }
      });
    });
  }

  /** The venv for a set of requirements, built once (wheels only: no package's build script ever runs). */
  private venvFor(requirements: PipRequirement[]): Promise<string> {
    const specs = requirements.map((r) => (r.version ? `${r.name}==${r.version.replace(/^==/, '')}` : r.name)).sort();
    const python = this.options.python ?? 'python3';
    const hash = createHash('sha256')
      .update(JSON.stringify([python, specs]))
      .digest('hex')
      .slice(0, 32);
    let venv = this.venvs.get(hash);
    if (!venv) {
      venv = this.buildVenv(join(this.options.venvRoot, hash), python, specs);
      this.venvs.set(hash, venv);
      venv.catch(() => this.venvs.delete(hash));
    }
    return venv;
  }

  private async buildVenv(path: string, python: string, specs: string[]): Promise<string> {
    const ready = join(path, '.cairn-ready');
    if (await exists(ready)) return path;
    await mkdir(this.options.venvRoot, { recursive: true });
    const building = `${path}.building-${randomUUID()}`;
    const timeout = this.options.installTimeoutMs ?? 5 * 60_000;
    try {
      await run(python, ['-m', 'venv', building], { timeout });
      await run(
        join(building, 'bin', 'python'),
        [
          '-m',
          'pip',
          'install',
          '--disable-pip-version-check',
          '--no-input',
          '--only-binary=:all:',
          ...(this.options.pipArgs ?? []),
          ...specs,
        ],
        { timeout, maxBuffer: 16 * 1024 * 1024 },
      );
      await writeFile(join(building, '.cairn-ready'), specs.join('\n'));
      await rename(building, path).catch(async (error: NodeJS.ErrnoException) => {
        // Another process built the same venv first: theirs is as good as ours.
        if (!(await exists(ready))) throw error;
        await rm(building, { recursive: true, force: true });
      });
      return path;
    } catch (error) {
      await rm(building, { recursive: true, force: true });
      const detail = (error as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join(' ') ?? String(error);
      throw new Error(`could not install pip requirement(s) ${specs.join(', ')}: ${detail}`, { cause: error });
    }
  }
}

async function detectIsolation(wanted: 'auto' | 'none'): Promise<Isolation> {
  if (wanted === 'none' || process.platform !== 'linux') return 'none';
  const probe = ['--mount', '--net', '--pid', '--ipc', '--uts', '--fork', '--kill-child', '--', 'sh', '-c', 'exit 0'];
  const root = process.getuid?.() === 0;
  const attempts: [Isolation, string[]][] = root
    ? [['root-namespaces', probe]]
    : [['user-namespaces', ['--user', '--map-root-user', ...probe]]];
  for (const [mode, args] of attempts) {
    try {
      await run('unshare', args, { timeout: 10_000 });
      await run('prlimit', ['--version'], { timeout: 10_000 });
      if (mode === 'root-namespaces') await run('setpriv', ['--version'], { timeout: 10_000 });
      return mode;
    } catch {
      // Not allowed here (no unshare, no namespaces, a seccomp profile): try the next, else run uncontained.
    }
  }
  return 'none';
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
