import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PyodideRunner } from '../../../src/tools/runners/pyodide-runner.js';
import { expectServingWhileFourSpin, pythonRequest } from './support.js';

const SLOW = 240_000;

describe('Pyodide runner', () => {
  let runner: PyodideRunner;
  let dataDir: string;
  let wheelDir: string;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'cairn-data-'));
    writeFileSync(join(dataDir, 'cairn.db'), 'the server database');
    wheelDir = mkdtempSync(join(tmpdir(), 'cairn-wheels-'));
    // A pure-Python wheel made here, as an offline pip requirement.
    const build = mkdtempSync(join(tmpdir(), 'cairn-wheel-src-'));
    mkdirSync(join(build, 'tinyhello'));
    writeFileSync(join(build, 'tinyhello', '__init__.py'), 'def hello(name):\n    return f"hello {name}"\n');
    execFileSync('python3', [
      '-c',
      [
        'import sys, zipfile, os',
        'src, out = sys.argv[1], sys.argv[2]',
        'with zipfile.ZipFile(out, "w") as z:',
        '    z.write(os.path.join(src, "tinyhello", "__init__.py"), "tinyhello/__init__.py")',
        '    z.writestr("tinyhello-1.0.dist-info/METADATA", "Metadata-Version: 2.1\\nName: tinyhello\\nVersion: 1.0\\n")',
        '    z.writestr("tinyhello-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")',
        '    z.writestr("tinyhello-1.0.dist-info/RECORD", "")',
      ].join('\n'),
      build,
      join(wheelDir, 'tinyhello-1.0-py3-none-any.whl'),
    ]);
    rmSync(build, { recursive: true, force: true });
    runner = new PyodideRunner({ poolSize: 2, warm: 2, wheelDirs: [wheelDir] });
  });

  afterAll(async () => {
    await runner.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(wheelDir, { recursive: true, force: true });
  });

  it(
    'runs a tool the way Letta does: kwargs, agent_state view, env, stdout, JSON return',
    async () => {
      const source = [
        'def remember(fact: str, times: int, agent_state: "AgentState") -> dict:',
        '    """Remember a fact.',
        '',
        '    Args:',
        '        fact (str): The fact.',
        '        times (int): How often.',
        '    """',
        '    import os',
        '    print("remembering", fact)',
        '    human = agent_state.memory.get_block("human").value',
        '    return {"fact": fact * times, "agent": agent_state.id, "human": human, "env": os.environ.get("LETTA_AGENT_ID")}',
      ].join('\n');
      const result = await runner.run(
        pythonRequest({
          sourceCode: source,
          functionName: 'remember',
          // Letta coerces string arguments by annotation: "2" becomes 2 for an int parameter.
          args: { fact: 'ab', times: '2' },
          envVars: { LETTA_AGENT_ID: 'agent-123' },
          agentState: { id: 'agent-123', memory: { blocks: [{ label: 'human', value: 'Ann' }] } },
        }),
      );
      expect(result).toEqual({
        status: 'success',
        funcReturn: { fact: 'abab', agent: 'agent-123', human: 'Ann', env: 'agent-123' },
        stdout: ['remembering ab\n'],
        stderr: [],
      });
    },
    SLOW,
  );

  it(
    "reports an exception in Letta's words, with the traceback on stderr",
    async () => {
      const source =
        'def boom(x: int):\n    """Boom.\n\n    Args:\n        x (int): X.\n    """\n    raise ValueError(f"bad {x}")\n';
      const result = await runner.run(pythonRequest({ sourceCode: source, functionName: 'boom', args: { x: 3 } }));
      expect(result.status).toBe('error');
      expect(result.funcReturn).toBe('Error executing function boom: ValueError: bad 3');
      expect(result.stderr.join('')).toMatch(/Traceback[\s\S]*ValueError: bad 3/);
    },
    SLOW,
  );

  it(
    'loads an offline pure-Python wheel for a pip requirement, and names a missing one',
    async () => {
      const source =
        'def greet(name: str):\n    """Greet.\n\n    Args:\n        name (str): Who.\n    """\n    import tinyhello\n    return tinyhello.hello(name)\n';
      const ok = await runner.run(
        pythonRequest({
          sourceCode: source,
          functionName: 'greet',
          args: { name: 'Bo' },
          pipRequirements: [{ name: 'tinyhello' }],
        }),
      );
      expect(ok).toMatchObject({ status: 'success', funcReturn: 'hello Bo' });
      const missing = await runner.run(
        pythonRequest({
          sourceCode: source,
          functionName: 'greet',
          args: { name: 'Bo' },
          pipRequirements: [{ name: 'numpy', version: '2.0.0' }],
        }),
      );
      expect(missing.status).toBe('error');
      expect(missing.funcReturn).toMatch(
        /ModuleNotFoundError: pip requirement 'numpy==2.0.0' is not available offline/,
      );
    },
    SLOW,
  );

  it(
    'contains hostile tools, each with an error result within its timeout, and keeps serving',
    async () => {
      const expectations: [Record<string, unknown>, RegExp][] = [
        [{ action: 'read_file', path: '/etc/passwd' }, /FileNotFoundError/],
        [{ action: 'list_dir', path: dataDir }, /FileNotFoundError/],
        [{ action: 'socket' }, /PermissionError: socket/],
        [{ action: 'loop' }, /TimeoutError: the tool did not finish within 3 s/],
        // MemoryError at the 256 MiB cap; on a heavily loaded machine zeroing that much can outlast the timeout.
        [{ action: 'allocate' }, /MemoryError|TimeoutError/],
        [{ action: 'print_100mb' }, /OutputLimitExceeded/],
        [{ action: 'never_return' }, /TimeoutError/],
      ];
      for (const [args, message] of expectations) {
        const started = performance.now();
        const result = await runner.run(pythonRequest({ args, timeoutMs: 3_000 }));
        expect(result.status, JSON.stringify(args)).toBe('error');
        expect(String(result.funcReturn), JSON.stringify(args)).toMatch(message);
        // Within the timeout, plus at most one interpreter boot (the clock starts when the tool does).
        expect(performance.now() - started).toBeLessThan(3_000 + 30_000);
      }
      const after = await runner.run(pythonRequest({ args: { action: 'nothing' } }));
      expect(after).toMatchObject({ status: 'success', funcReturn: 'ok' });
    },
    SLOW,
  );

  it(
    'closes every way from Python into the JavaScript realm and the host',
    async () => {
      const attempts: [string, RegExp][] = [
        ['import_js', /ImportError: module 'js' is not available/],
        ['import_pyodide_js', /ImportError: module 'pyodide_js' is not available/],
        ['to_js', /ImportError: module 'pyodide.ffi' is not available/],
        ['gc_walk', /PermissionError: gc.get_objects/],
        ['create_builtin', /ImportError: module '_pyodide_core' is not available/],
        ['system', /PermissionError: os.system/],
        ['subprocess', /PermissionError|OSError|not supported/],
      ];
      for (const [action, message] of attempts) {
        const result = await runner.run(pythonRequest({ args: { action } }));
        expect(result.status, action).toBe('error');
        expect(result.funcReturn, action).toMatch(message);
      }
    },
    SLOW,
  );

  it(
    'gives a tool only the environment it is given, and a fresh interpreter to a different tool',
    async () => {
      const env = await runner.run(pythonRequest({ args: { action: 'env' }, envVars: { ONLY: 'this' } }));
      expect(env.funcReturn).toEqual({ ONLY: 'this' });
      // A tool that poisons its interpreter cannot reach a tool with another source.
      const poison =
        'def poison():\n    """Poison."""\n    import json\n    json.dumps = lambda *a, **k: "stolen"\n    return 1\n';
      await runner.run(pythonRequest({ sourceCode: poison, functionName: 'poison', args: {} }));
      const victim = 'def victim():\n    """Victim."""\n    import json\n    return json.dumps({"a": 1})\n';
      const result = await runner.run(pythonRequest({ sourceCode: victim, functionName: 'victim', args: {} }));
      expect(result.funcReturn).toBe('{"a": 1}');
    },
    SLOW,
  );

  it(
    'replaces a crashed worker',
    async () => {
      // A timeout terminates the worker; the next run gets a working interpreter.
      const timedOut = await runner.run(pythonRequest({ args: { action: 'loop' }, timeoutMs: 500 }));
      expect(timedOut.funcReturn).toMatch(/TimeoutError/);
      expect(runner.workerCount).toBeLessThanOrEqual(2);
      const result = await runner.run(pythonRequest({ args: { action: 'nothing' } }));
      expect(result.funcReturn).toBe('ok');
    },
    SLOW,
  );

  it(
    'never blocks the event loop while 4 tools spin',
    () => expectServingWhileFourSpin('pyodide', runner, pythonRequest({ args: { action: 'loop' }, timeoutMs: 3_000 })),
    SLOW,
  );
});
