#!/usr/bin/env node
// MCP stdio tool-call overhead benchmark (docs/benchmarks.md, "MCP tool calls"; issue 13 target: p95 ≤ 5 ms).
//
//   npm run build && node bench/mcp/run.mjs [--calls 2000] [--warmup 1000] [--work-ms 0,5] [--concurrency 8]
//
// One stdio MCP server process (test/support/mcp-fixture-server.mjs) is started once and kept warm, as Cairn keeps
// it. Its `timed` tool waits `work_ms` and reports, in microseconds, the time spent inside its handler. The
// overhead of a call is the caller's wall time minus that: JSON-RPC encoding, the two pipes, the server SDK's
// parsing and dispatch, and Cairn's manager (pool lookup, deadline, result conversion). The raw MCP SDK client on
// the same process is measured too, so the manager's own share shows.
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { percentile } from '../lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '1000' },
    'work-ms': { type: 'string', default: '0,5' },
    concurrency: { type: 'string', default: '8' },
  },
});
const CALLS = Number(args.calls);
const WARMUP = Number(args.warmup);
const CONCURRENCY = Number(args.concurrency);
const WORK = args['work-ms'].split(',').map(Number);

const { McpClientManager } = await import('../../dist/tools/mcp/manager.js');
const fixture = new URL('../../test/support/mcp-fixture-server.mjs', import.meta.url).pathname;
const config = { type: 'stdio', serverName: 'bench', command: process.execPath, args: [fixture, 'stdio'] };

const manager = new McpClientManager({
  settings: { timeouts: { connectMs: 30_000, listToolsMs: 30_000, callToolMs: 60_000 }, disableStdio: false },
  idleTimeoutMs: 0,
});
const raw = new Client({ name: 'bench', version: '1' });
await raw.connect(new StdioClientTransport({ command: process.execPath, args: [fixture, 'stdio'], stderr: 'pipe' }));

const viaManager = async (workMs) => {
  const result = await manager.callTool(config, 'timed', { work_ms: workMs });
  if (result.status !== 'success') throw new Error(result.funcReturn);
  return Number(result.funcReturn);
};
const viaSdk = async (workMs) => {
  const result = await raw.callTool({ name: 'timed', arguments: { work_ms: workMs } });
  return Number(result.content[0].text);
};

/** Overheads in ms of `count` calls, `parallel` at a time, and this process's CPU time per call in ms. */
async function measure(call, workMs, count, parallel) {
  const overheads = [];
  const cpuBefore = process.cpuUsage();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const start = process.hrtime.bigint();
      const serverMicros = await call(workMs);
      const wallMicros = Number(process.hrtime.bigint() - start) / 1000;
      overheads.push((wallMicros - serverMicros) / 1000);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  const cpu = process.cpuUsage(cpuBefore);
  return { overheads, cpuMs: (cpu.user + cpu.system) / 1000 / count };
}

const fmt = (v) => v.toFixed(3).padStart(7);
const rows = [];
const clients = [
  ['Cairn manager', viaManager],
  ['raw MCP SDK client', viaSdk],
];
// Both warm before either is measured: the SDK code they share is still being optimised for the first thousand calls.
for (const [, call] of clients) await measure(call, 0, WARMUP, 1);
for (const [label, call] of clients) {
  // Concurrent calls are measured with no work: the server's timer would add queueing to their wall time.
  for (const workMs of WORK)
    for (const parallel of workMs === 0 ? [1, CONCURRENCY] : [1]) {
      const { overheads, cpuMs } = await measure(call, workMs, CALLS, parallel);
      rows.push({
        label,
        workMs,
        parallel,
        p50: percentile(overheads, 50),
        p95: percentile(overheads, 95),
        p99: percentile(overheads, 99),
        cpuMs,
      });
    }
}
await manager.close();
await raw.close();

console.log(
  `MCP stdio tool-call overhead over the server's own time (ms), ${CALLS} calls per row, node ${process.version}`,
);
// Wall-clock tails on a shared machine are mostly scheduling; the caller's CPU time per call is not.
console.log('client                 work_ms  parallel      p50      p95      p99  client CPU/call');
for (const row of rows)
  console.log(
    `${row.label.padEnd(22)} ${String(row.workMs).padStart(7)} ${String(row.parallel).padStart(9)}  ${fmt(row.p50)}  ${fmt(row.p95)}  ${fmt(row.p99)}  ${fmt(row.cpuMs)}`,
  );
const worst = Math.max(...rows.filter((r) => r.label === 'Cairn manager' && r.parallel === 1).map((r) => r.p95));
console.log(
  `sequential p95 through the manager: ${worst.toFixed(3)} ms (target ≤ 5 ms): ${worst <= 5 ? 'met' : 'NOT met'}`,
);
