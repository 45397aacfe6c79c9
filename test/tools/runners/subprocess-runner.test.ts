import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubprocessRunner } from '../../../src/tools/runners/subprocess-runner.js';
import { expectServingWhileFourSpin, pythonRequest } from './support.js';

// Under root the tool runs as nobody, who cannot read a pyenv interpreter under /root: use the system one.
const PYTHON = process.getuid?.() === 0 ? '/usr/bin/python3' : 'python3';
const SLOW = 180_000;

/**
 * A pure-Python wheel made by hand (a wheel is a zip with a dist-info), so the venv test installs offline, with
 * `--no-index --find-links`, as a deployment without a package index does (pip also reads PIP_NO_INDEX and
 * PIP_FIND_LINKS from the environment the runner passes on).
 */
function buildTinyWheel(dir: string): void {
  const script = String.raw`
import base64, hashlib, sys, zipfile
files = {
    "cairn_tiny/__init__.py": "def shout(text):\n    return text.upper() + '!'\n",
    "cairn_tiny-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: cairn-tiny\nVersion: 1.0\n",
    "cairn_tiny-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: cairn-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
with zipfile.ZipFile(sys.argv[1] + "/cairn_tiny-1.0-py3-none-any.whl", "w") as wheel:
    for name, text in files.items():
        data = text.encode()
        wheel.writestr(name, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("cairn_tiny-1.0.dist-info/RECORD,,")
    wheel.writestr("cairn_tiny-1.0.dist-info/RECORD", "\n".join(record) + "\n")
`;
  execFileSync(PYTHON, ['-c', script, dir]);
}

describe('subprocess runner', () => {
  let dataDir: string;
  let wheels: string;
  let runner: SubprocessRunner;
  let listener: Server;
  let port = 0;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cairn-data-'));
    writeFileSync(join(dataDir, 'cairn.db'), 'the server database');
    wheels = mkdtempSync(join(tmpdir(), 'cairn-wheels-'));
    buildTinyWheel(wheels);
    runner = new SubprocessRunner({
      python: PYTHON,
      venvRoot: join(dataDir, 'tool-venvs'),
      hiddenPaths: [dataDir],
      pipArgs: ['--no-index', '--find-links', wheels],
    });
    // A socket that would answer, so a refused connection proves the sandbox, not an empty port.
    listener = createServer((socket) => socket.end('hello'));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as { port: number }).port;
  });

  afterAll(async () => {
    await runner.close();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(wheels, { recursive: true, force: true });
  });

  it(
    'runs a tool with Letta semantics in a real python3 process',
    async () => {
      const result = await runner.run(
        pythonRequest({
          sourceCode:
            'def who(agent_state, n: int):\n    """Who.\n\n    Args:\n        n (int): N.\n    """\n    import os\n    print("asked")\n    return [agent_state.id, n, os.environ["LETTA_AGENT_ID"]]\n',
          functionName: 'who',
          args: { n: '7' },
          envVars: { LETTA_AGENT_ID: 'agent-5' },
          agentState: { id: 'agent-5' },
        }),
      );
      expect(result).toEqual({
        status: 'success',
        funcReturn: ['agent-5', 7, 'agent-5'],
        stdout: ['asked\n'],
        stderr: [],
      });
    },
    SLOW,
  );

  it(
    'contains hostile tools within the timeout, and keeps serving',
    async (context) => {
      if ((await runner.isolationMode()) === 'none') context.skip();
      const expectations: [Record<string, unknown>, RegExp, number][] = [
        [{ action: 'list_dir', path: dataDir }, /^\[\]$/, 3_000],
        [{ action: 'read_file', path: join(dataDir, 'cairn.db') }, /FileNotFoundError/, 3_000],
        [{ action: 'read_file', path: '/etc/passwd' }, /^""$/, 3_000],
        [{ action: 'socket' }, /OSError: \[Errno 101\] Network is unreachable/, 3_000],
        [{ action: 'loop' }, /TimeoutError/, 3_000],
        [{ action: 'allocate' }, /MemoryError|TimeoutError/, 5_000],
        [{ action: 'fork_bomb' }, /TimeoutError/, 3_000],
        [{ action: 'print_100mb' }, /OutputLimitExceeded/, 5_000],
        [{ action: 'never_return' }, /TimeoutError/, 3_000],
      ];
      for (const [args, expected, timeoutMs] of expectations) {
        const started = performance.now();
        const result = await runner.run(pythonRequest({ args, timeoutMs, envVars: { PORT: String(port) } }));
        const text =
          typeof result.funcReturn === 'string' && result.status === 'error'
            ? result.funcReturn
            : JSON.stringify(result.funcReturn);
        expect(text, JSON.stringify(args)).toMatch(expected);
        expect(performance.now() - started, JSON.stringify(args)).toBeLessThan(timeoutMs + 3_000);
      }
      // The fork bomb's whole tree died with its PID namespace: nothing of it is left running.
      expect(await runner.run(pythonRequest())).toMatchObject({ status: 'success', funcReturn: 'ok' });
    },
    SLOW,
  );

  it(
    'builds a venv per requirement set once, and names a requirement that cannot be installed',
    async () => {
      const source = 'def shout():\n    """Shout."""\n    import cairn_tiny\n    return cairn_tiny.shout("hi")\n';
      const request = pythonRequest({
        sourceCode: source,
        functionName: 'shout',
        args: {},
        pipRequirements: [{ name: 'cairn-tiny' }],
      });
      expect(await runner.run(request)).toMatchObject({ status: 'success', funcReturn: 'HI!' });
      const venvRoot = join(dataDir, 'tool-venvs');
      const venvs = () => readdirSync(venvRoot).filter((name) => !name.includes('.building-'));
      expect(venvs()).toHaveLength(1);
      const readyAt = statSync(join(venvRoot, venvs()[0]!, '.cairn-ready')).mtimeMs;
      expect(await runner.run(request)).toMatchObject({ status: 'success', funcReturn: 'HI!' });
      // The second run found the venv by its requirements hash: no second venv, the first not rebuilt.
      expect(venvs()).toHaveLength(1);
      expect(statSync(join(venvRoot, venvs()[0]!, '.cairn-ready')).mtimeMs).toBe(readyAt);
      // Another requirement set is another venv.
      const pinned = await runner.run({ ...request, pipRequirements: [{ name: 'cairn-tiny', version: '1.0' }] });
      expect(pinned).toMatchObject({ status: 'success', funcReturn: 'HI!' });
      expect(venvs()).toHaveLength(2);
      const missing = await runner.run(pythonRequest({ pipRequirements: [{ name: 'cairn-no-such-package' }] }));
      expect(missing.funcReturn).toMatch(
        /ModuleNotFoundError: could not install pip requirement\(s\) cairn-no-such-package/,
      );
    },
    SLOW,
  );

  it(
    'never blocks the event loop while 4 tools spin',
    () =>
      expectServingWhileFourSpin('subprocess', runner, pythonRequest({ args: { action: 'loop' }, timeoutMs: 3_000 })),
    SLOW,
  );
});
