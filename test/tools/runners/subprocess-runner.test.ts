import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubprocessRunner } from '../../../src/tools/runners/subprocess-runner.js';
import { expectServingWhileFourSpin, pythonRequest } from './support.js';

// Under root the tool runs as nobody, who cannot read a pyenv interpreter under /root: use the system one.
const PYTHON = process.getuid?.() === 0 ? '/usr/bin/python3' : 'python3';
const SLOW = 180_000;

describe('subprocess runner', () => {
  let dataDir: string;
  let runner: SubprocessRunner;
  let listener: Server;
  let port = 0;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cairn-data-'));
    writeFileSync(join(dataDir, 'cairn.db'), 'the server database');
    runner = new SubprocessRunner({
      python: PYTHON,
      venvRoot: join(dataDir, 'tool-venvs'),
      hiddenPaths: [dataDir],
      // This machine's offline package index; a deployment passes its own (or none: pip's configuration).
      pipArgs: process.env.CAIRN_TEST_PIP_INDEX ? ['--index-url', process.env.CAIRN_TEST_PIP_INDEX] : [],
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
    async (context) => {
      if (!process.env.CAIRN_TEST_PIP_INDEX) context.skip();
      const source =
        'def parse():\n    """Parse."""\n    import docstring_parser\n    return docstring_parser.parse("Short.").short_description\n';
      const request = pythonRequest({
        sourceCode: source,
        functionName: 'parse',
        args: {},
        pipRequirements: [{ name: 'docstring_parser' }],
      });
      expect(await runner.run(request)).toMatchObject({ status: 'success', funcReturn: 'Short.' });
      const started = performance.now();
      expect(await runner.run(request)).toMatchObject({ status: 'success', funcReturn: 'Short.' });
      // The second run found the venv by its requirements hash instead of installing again.
      expect(performance.now() - started).toBeLessThan(5_000);
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
