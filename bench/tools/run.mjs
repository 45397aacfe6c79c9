#!/usr/bin/env node
// Tool sandbox benchmark (docs/benchmarks.md, "Tool sandboxes").
//
//   npm run bench:tools           (= npm run build && node bench/tools/run.mjs)
//   node bench/tools/run.mjs [--calls 200] [--subprocess-calls 50] [--python /usr/bin/python3] [--json out.json]
//
// Runs the built runners (dist/tools/runners) in this process, as the server would: a trivial tool, called one at a
// time, timed from run() to its result.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { percentile } from '../lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '200' },
    'subprocess-calls': { type: 'string', default: '50' },
    python: { type: 'string', default: process.getuid?.() === 0 ? '/usr/bin/python3' : 'python3' },
    json: { type: 'string' },
    dist: { type: 'string', default: new URL('../../dist/tools/runners/index.js', import.meta.url).pathname },
  },
});
const { PyodideRunner, QuickJsRunner, SubprocessRunner } = await import(args.dist);
const calls = Number(args.calls);

console.log(
  `${availableParallelism()} CPUs (${cpus()[0]?.model}), node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

const python = (
  source = 'def add(a: int, b: int):\n    """Add.\n\n    Args:\n        a (int): A.\n        b (int): B.\n    """\n    return a + b\n',
) => ({
  sourceCode: source,
  sourceType: 'python',
  functionName: 'add',
  args: { a: 1, b: 2 },
  envVars: {},
  agentState: null,
  pipRequirements: [],
  timeoutMs: 30_000,
  outputLimitBytes: 1 << 20,
});

async function timeCalls(runner, request, n) {
  const samples = [];
  for (let i = 0; i < n; i += 1) {
    const started = performance.now();
    const result = await runner.run(request);
    samples.push(performance.now() - started);
    if (result.status !== 'success') throw new Error(`benchmark tool failed: ${JSON.stringify(result)}`);
  }
  return summary(samples);
}

function summary(samples) {
  const round = (v) => Math.round(v * 100) / 100;
  return {
    n: samples.length,
    p50: round(percentile(samples, 50)),
    p95: round(percentile(samples, 95)),
    p99: round(percentile(samples, 99)),
  };
}

const results = {};

// Cold: a runner with nothing booted; the first call includes booting the interpreter.
{
  const started = performance.now();
  const runner = new PyodideRunner({ poolSize: 2, warm: 0 });
  await runner.run(python());
  results.pyodideColdFirstCallMs = Math.round(performance.now() - started);
  results.pyodideWarm = await timeCalls(runner, python(), calls);
  // A tool never seen before, on a pool with a booted spare: no boot in the timing, but a fresh interpreter.
  const spare = new PyodideRunner({ poolSize: 2, warm: 1 });
  await spare.run(python('def add(a, b):\n    """Add."""\n    return a + b\n'));
  await new Promise((resolve) => setTimeout(resolve, 15_000));
  const firstOfNewTool = performance.now();
  await spare.run(python('def add(a, b):\n    """Add, again."""\n    return b + a\n'));
  results.pyodideNewToolOnWarmSpareMs = Math.round(performance.now() - firstOfNewTool);
  await Promise.all([runner.close(), spare.close()]);
}

{
  const runner = new QuickJsRunner({ poolSize: 2, warm: 1 });
  const request = {
    ...python('export function add(a: number, b: number) { return a + b; }'),
    sourceType: 'typescript',
    jsonSchema: { parameters: { properties: { a: {}, b: {} }, required: ['a', 'b'] } },
  };
  await runner.run(request);
  results.quickjsWarm = await timeCalls(runner, request, calls);
  await runner.close();
}

{
  const dataDir = mkdtempSync(join(tmpdir(), 'cairn-bench-tools-'));
  const runner = new SubprocessRunner({
    python: args.python,
    venvRoot: join(dataDir, 'venvs'),
    hiddenPaths: [dataDir],
  });
  results.subprocessIsolation = await runner.isolationMode();
  await runner.run(python());
  results.subprocess = await timeCalls(runner, python(), Number(args['subprocess-calls']));
  await runner.close();
  rmSync(dataDir, { recursive: true, force: true });
}

console.log(JSON.stringify(results, null, 2));
if (args.json) writeFileSync(args.json, JSON.stringify(results, null, 2) + '\n');
