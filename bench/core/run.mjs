#!/usr/bin/env node
// Core server benchmark (docs/benchmarks.md, "Core").
//
//   npm run bench:core            (= npm run build && node bench/core/run.mjs)
//   node bench/core/run.mjs [--duration 10] [--connections 10] [--agents 10000] [--json out.json] [--cli dist/cli/main.js]
//
// The server is the built CLI (`dist/cli/main.js serve`) on the embedded default (SQLite in a fresh data dir),
// in its own process; this process only generates load (autocannon) and takes measurements.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    agents: { type: 'string', default: '10000' },
    json: { type: 'string' },
    cli: { type: 'string', default: new URL('../../dist/cli/main.js', import.meta.url).pathname },
  },
});
const duration = Number(args.duration);
const connections = Number(args.connections);
const agentCount = Number(args.agents);

const cli = args.cli;
const dataDir = mkdtempSync(join(tmpdir(), 'cairn-bench-core-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const results = {};
console.log(
  `${availableParallelism()} CPUs, node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

// Cold start, five times each: on a fresh data directory (migrations run) and on an existing one.
const fresh = [];
const existing = [];
for (let i = 0; i < 5; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-cold-'));
  for (const times of [fresh, existing]) {
    const started = await startServer(dir);
    times.push(started.ms);
    await stop(started.child);
  }
  rmSync(dir, { recursive: true, force: true });
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
results.coldStartMs = {
  freshMedian: median(fresh),
  freshRuns: fresh,
  existingMedian: median(existing),
  existingRuns: existing,
};
console.log(
  `cold start to first healthy response: fresh data dir median ${median(fresh).toFixed(0)} ms [${fresh.map((t) => t.toFixed(0)).join(', ')}], existing median ${median(existing).toFixed(0)} ms [${existing.map((t) => t.toFixed(0)).join(', ')}]`,
);

const { child: server } = await startServer(dataDir);
try {
  await new Promise((resolve) => setTimeout(resolve, 2000));
  results.idleRssMb = rssMb(server.pid);
  console.log(`idle RSS ${results.idleRssMb.toFixed(1)} MB`);

  const agent = await api('POST', '/v1/agents/', {
    name: 'bench',
    memory_blocks: [
      { label: 'human', value: 'Name: Ada. Likes: compilers, tea.' },
      { label: 'persona', value: 'A helpful assistant.' },
    ],
  });
  const blockPath = `/v1/agents/${agent.id}/core-memory/blocks/human`;
  results.getBlock = await load('GET core-memory block by label', { url: base + blockPath });

  let n = 0;
  // Every PATCH writes a new value, so each one is a real write (and a new row version).
  const patching = (path) => ({
    url: base + path,
    requests: [
      {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: JSON.stringify({ value: `Name: Ada. Visit ${n++}.` }) }),
      },
    ],
  });
  results.patchBlock = await load('PATCH core-memory block by label', patching(blockPath));
  results.patchBlockById = await load(
    'PATCH /v1/blocks/{id}',
    patching(`/v1/blocks/${(await api('GET', blockPath)).id}`),
  );

  const seedStart = performance.now();
  await seedAgents(agentCount - 1);
  results.seedAgentsPerSecond = (agentCount - 1) / ((performance.now() - seedStart) / 1000);
  console.log(`seeded ${agentCount} agents through the API at ${results.seedAgentsPerSecond.toFixed(0)}/s`);
  results.agentCount = await api('GET', '/v1/agents/count');
  results.listAgents = await load(`GET /v1/agents/ (default limit 50, ${results.agentCount} agents)`, {
    url: `${base}/v1/agents/`,
  });
  results.listAgentsSequential = await sequential(
    `GET /v1/agents/ sequential, ${results.agentCount} agents`,
    `${base}/v1/agents/`,
    500,
  );
  results.listAgentsLegacy = await load('GET /v1/agents/ (legacy client: all relationships)', {
    url: `${base}/v1/agents/`,
    headers: { 'user-agent': 'python-requests/2.31' },
  });
  results.listAgentsLastPage = await sequential(
    'GET /v1/agents/?after=<second oldest>&order=asc',
    `${base}/v1/agents/?order=asc&after=${(await api('GET', '/v1/agents/?order=asc&limit=2'))[1].id}`,
    200,
  );
  results.loadedRssMb = rssMb(server.pid);
  console.log(`RSS after the load ${results.loadedRssMb.toFixed(1)} MB`);
} finally {
  await stop(server);
  rmSync(dataDir, { recursive: true, force: true });
}
results.machine = { cpus: availableParallelism(), node: process.version, loadAverage: loadavg() };
if (args.json) writeFileSync(args.json, `${JSON.stringify(results, null, 2)}\n`);

async function startServer(dir) {
  const started = performance.now();
  const child = spawn(process.execPath, [cli, 'serve', '--port', String(port), '--data-dir', dir], {
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const response = await fetch(`${base}/v1/health`);
      if (response.ok) break;
    } catch {
      // not yet listening
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { child, ms: performance.now() - started };
}

async function stop(child) {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function rssMb(pid) {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  return kb / 1024;
}

async function api(method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function load(title, options) {
  // A short warm-up so that JIT and SQLite page cache are in their steady state.
  await autocannon({ ...options, connections, duration: 2 });
  const result = await autocannon({ ...options, connections, duration });
  const summary = {
    requestsPerSecond: result.requests.average,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p97_5: result.latency.p97_5,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    non2xx: result.non2xx,
    errors: result.errors,
    connections,
    durationSeconds: duration,
  };
  console.log(
    `${title}: ${summary.requestsPerSecond.toFixed(0)} req/s, p50 ${summary.latencyMs.p50} ms, p97.5 ${summary.latencyMs.p97_5} ms, p99 ${summary.latencyMs.p99} ms, non-2xx ${summary.non2xx}, errors ${summary.errors}`,
  );
  if (summary.non2xx || summary.errors) throw new Error(`${title}: failed requests`);
  return summary;
}

/** One request at a time, timing each: exact percentiles (autocannon reports p90 and p97.5, not p95). */
async function sequential(title, url, count) {
  for (let i = 0; i < 20; i++) await (await fetch(url)).arrayBuffer();
  const times = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    times.push(performance.now() - start);
    if (!response.ok) throw new Error(`${title}: ${response.status}`);
  }
  times.sort((a, b) => a - b);
  const at = (p) => Number(times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))].toFixed(2));
  const summary = {
    requests: count,
    latencyMs: { p50: at(50), p95: at(95), p99: at(99), max: Number(times.at(-1).toFixed(2)) },
  };
  console.log(
    `${title}: p50 ${summary.latencyMs.p50} ms, p95 ${summary.latencyMs.p95} ms, p99 ${summary.latencyMs.p99} ms`,
  );
  return summary;
}

/** Realistic agents (two memory blocks, the default tools, tags) created through the API, 16 at a time. */
async function seedAgents(count) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await api('POST', '/v1/agents/', {
        name: `agent ${i}`,
        tags: [`team:${i % 20}`],
        memory_blocks: [
          { label: 'human', value: `User ${i}` },
          { label: 'persona', value: 'A helpful assistant.' },
        ],
      });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port: free } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return free;
}
