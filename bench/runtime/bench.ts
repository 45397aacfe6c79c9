/**
 * Runtime benchmarks (docs/benchmarks/2026-11-lab-notebook.md, "Runtime"). Run through bench/runtime/run.mjs, which bundles this file.
 *
 * overhead     Cairn's own time per agent step = turn wall time (as the HTTP client sees it) minus the time the LLM
 *              side spent (measured by the fake LLM itself: a request's arrival → the last byte of its reply),
 *              divided by the turn's steps. At 100 / 1,000 / 10,000 stored messages on the agent, seeded straight into
 *              the messages table (not in context: history, as after compaction), so only code that scales with the
 *              stored history shows up as growth. The in-context window is held at 40–60 messages between turns (as
 *              compaction keeps it), the same at every size. Three turn shapes: sync text (1 step), streamed text with
 *              stream_tokens (Letta Code's path, 1 step), sync memory_insert + reply (2 steps). Before the first
 *              size, `--server-warmup` turns of each shape on an agent of their own warm the server up; each shape
 *              then has its own `--warmup` turns before it is measured. `--repeat N` measures the whole matrix N
 *              times and adds a table pooling each cell's turns over the rounds.
 * idle         (only with --only idle) a sync-text turn after each of `--rounds` pauses of `--pause-s` seconds,
 *              against turns back to back.
 * concurrency  N agents (50) stream one turn each at the same moment; the fake LLM paces tokens (20 ms × ~50 tokens).
 *              Per stream: first ping, stop_reason, usage_statistics and [DONE] must arrive, the text must be whole;
 *              the largest gap between consecutive chunks is the stall measure.
 *
 * By default Cairn runs as its own process (a private build, as in production) and the client and the fake LLM share
 * this one; `--server inprocess` puts Cairn here too (needed for --query-stats). Wall times include
 * whatever else the machine is doing (the load average is printed); Cairn's CPU time is reported beside them.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { sql, type Kysely } from 'kysely';
import Letta from '@letta-ai/letta-client';
import { messageRow } from '../../src/domain/messages.js';
import { databaseConfigFor, openDatabase } from '../../src/store/database.js';
import type { Dialect } from '../../src/store/dialect/types.js';
import { createSearchIndexes } from '../../src/search/index.js';
import { createStores, type Stores } from '../../src/store/index.js';
import { createTestDatabase, startCairn, type TestDialect } from '../../test/support/cairn.js';
import { startFakeLlm, type FakeLlm } from '../../test/support/fake-llm.js';
import { parseSse } from '../../test/support/sse.js';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    // child (default): Cairn is its own process (the private build run.mjs makes), as in production, and its CPU time
    // is read from /proc; inprocess: Cairn shares this process with the client and the fake LLM.
    server: { type: 'string', default: 'child' },
    dialect: { type: 'string', default: 'sqlite' },
    sizes: { type: 'string', default: '100,1000,10000' },
    shapes: { type: 'string', default: 'sync-text,stream-text,sync-tool' },
    turns: { type: 'string', default: '150' },
    warmup: { type: 'string', default: '50' },
    // Turns of each shape a fresh server runs before the first size (JIT tiers, heap growth): its CPU per step (and
    // this process's) keeps falling for its first ~1,500 turns; with 150 per shape the first size measured that.
    'server-warmup': { type: 'string', default: '500' },
    agents: { type: 'string', default: '50' },
    // concurrency: rounds of N streams; idle: pauses. overhead: `repeat` passes over every size × shape, then pooled.
    rounds: { type: 'string', default: '3' },
    repeat: { type: 'string', default: '1' },
    'pause-s': { type: 'string', default: '11' },
    'token-ms': { type: 'string', default: '20' },
    tokens: { type: 'string', default: '50' },
    // Diagnostics: time every SQLite statement and print the costliest per measured turn (SQLite, --server inprocess).
    'query-stats': { type: 'boolean', default: false },
  },
});

/** SQL text → [executions, total ms], filled when --query-stats wraps better-sqlite3's statements. */
const queryStats = new Map<string, [number, number]>();
const inProcess = args.server === 'inprocess';
if (args['query-stats'] && !inProcess) throw new Error('--query-stats needs --server inprocess');
if (args['query-stats']) {
  const { default: Database } = await import('better-sqlite3');
  const prepare = Database.prototype.prepare;
  Database.prototype.prepare = function (this: unknown, sql: string) {
    const statement = prepare.call(this as never, sql) as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const method of ['all', 'get', 'run', 'iterate']) {
      const original = statement[method]!;
      statement[method] = function (this: unknown, ...a: unknown[]) {
        const started = performance.now();
        try {
          return original.apply(this, a);
        } finally {
          const entry = queryStats.get(sql) ?? [0, 0];
          entry[0]++;
          entry[1] += performance.now() - started;
          queryStats.set(sql, entry);
        }
      };
    }
    return statement as never;
  } as typeof prepare;
}

function printQueryStats(turns: number, label: string): void {
  if (!args['query-stats']) return;
  const top = [...queryStats].sort((a, b) => b[1][1] - a[1][1]).slice(0, 12);
  console.log(`\n  SQLite statements, ${label}, per measured turn (top 12 by time):`);
  for (const [sql, [n, ms]] of top)
    console.log(
      `  ${(ms / turns).toFixed(3).padStart(8)} ms ${(n / turns).toFixed(1).padStart(5)}× ${sql.replace(/\s+/g, ' ').slice(0, 160)}`,
    );
  queryStats.clear();
}

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const f1 = (n: number) => n.toFixed(1);
const now = () => performance.now();
/** This process's CPU time so far, in ms. */
const ownCpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

async function postJson(url: string, body: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

/** A running Cairn: its URL, an SDK client, stores on its database (for seeding), and its CPU time so far. */
interface Server {
  baseURL: string;
  client: Letta;
  stores: Stores;
  cpuMs(): number;
  /** PostgreSQL: the server process of one of the benchmark's own connections. */
  databaseBackendPid(): Promise<number>;
  /** After the bulk seed: see `settle`. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Does now what the database would do in the background about a bulk seed: PostgreSQL's autovacuum (VACUUM and
 * ANALYZE of the seeded rows, which otherwise ran during the first measured round and raised its Cairn and
 * PostgreSQL CPU per step), SQLite's WAL checkpoint. A deployment does not bulk-load thousands of messages right
 * before its turns.
 */
async function settle(dialect: Dialect): Promise<void> {
  if (dialect.name === 'postgres') await sql`VACUUM ANALYZE`.execute(dialect.db);
  else await sql`PRAGMA wal_checkpoint(PASSIVE)`.execute(dialect.db);
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** utime + stime of a process from /proc, in ms (clock ticks of 10 ms: exact only summed over many turns). */
function procCpuMs(pid: number): number {
  return readStat(String(pid))?.ms ?? 0;
}

/**
 * CPU time of the PostgreSQL server the benchmark's database runs on (on this machine), in ms: its postmaster (the
 * parent of `backendPid`, one of the benchmark's own connections), the postmaster's live children, and the children
 * it has reaped (the pool closes idle connections, and their backends exit). Other programs' processes are not
 * counted, whatever their name.
 */
function postgresCpu(backendPid: number): () => number {
  const postmaster = readStat(String(backendPid))?.ppid;
  if (postmaster === undefined) throw new Error(`no process ${backendPid}: is PostgreSQL on this machine?`);
  return () => {
    const main = readStat(String(postmaster));
    if (!main) return Number.NaN;
    let total = main.ms + main.reapedChildrenMs;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const stat = readStat(pid);
      if (stat?.ppid === postmaster) total += stat.ms;
    }
    return total;
  };
}

/** /proc/<pid>/stat: parent, own CPU and reaped children's CPU (clock ticks of 10 ms). */
function readStat(pid: string): { ppid: number; ms: number; reapedChildrenMs: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(') ') + 2).split(' ');
    return {
      ppid: Number(fields[1]),
      ms: (Number(fields[11]) + Number(fields[12])) * 10,
      reapedChildrenMs: (Number(fields[13]) + Number(fields[14])) * 10,
    };
  } catch {
    return undefined; // the process has ended
  }
}

async function backendPid(db: Kysely<any>): Promise<number> {
  return (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db)).rows[0]!.pid;
}

async function startServer(dialect: TestDialect, env: Record<string, string>): Promise<Server> {
  if (inProcess) {
    const t = await startCairn(dialect, {}, env);
    return {
      baseURL: t.baseURL,
      client: t.client,
      stores: t.cairn.stores,
      cpuMs: ownCpuMs,
      databaseBackendPid: () => backendPid(t.cairn.dialect.db),
      settle: () => settle(t.cairn.dialect),
      close: () => t.close(),
    };
  }
  const dist = process.env.CAIRN_BENCH_DIST;
  if (!dist) throw new Error('CAIRN_BENCH_DIST is not set: run through bench/runtime/run.mjs');
  const database = await createTestDatabase(dialect);
  const port = await freePort();
  // e.g. CAIRN_BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir /tmp/prof' profiles the server alone.
  const nodeArgs = process.env.CAIRN_BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      `${dist}/cli/main.js`,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--data-dir',
      database.dataDir,
    ],
    {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LOG_LEVEL: 'warn',
        ...(database.pgUri ? { LETTA_PG_URI: database.pgUri } : {}),
        ...env,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const baseURL = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`cairn exited with ${child.exitCode}`);
    if (
      await fetch(`${baseURL}/v1/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 300) throw new Error('cairn did not start in 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  // The bench's own connection to the same database (SQLite in WAL mode, or PostgreSQL) for seeding and trimming.
  const dialectHandle = await openDatabase(databaseConfigFor({ pgUri: database.pgUri, dataDir: database.dataDir }));
  return {
    baseURL,
    client: new Letta({ baseURL, apiKey: null, maxRetries: 0 }),
    stores: createStores(
      dialectHandle,
      createSearchIndexes({ engineIndexesVectors: dialectHandle.search.hasVectorIndex }),
    ),
    cpuMs: () => procCpuMs(child.pid!),
    databaseBackendPid: () => backendPid(dialectHandle.db),
    settle: () => settle(dialectHandle),
    close: async () => {
      await dialectHandle.close();
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await database.drop();
    },
  };
}

interface Setup {
  llm: FakeLlm;
  server: Server;
  close(): Promise<void>;
}

/** Cairn whose OpenAI provider calls the fake LLM directly; the fake times each call (its time counts as the LLM's). */
async function setup(dialect: TestDialect): Promise<Setup> {
  const llm = await startFakeLlm();
  const server = await startServer(dialect, { OPENAI_API_KEY: 'sk-fake-openai', OPENAI_BASE_URL: `${llm.url}/v1` });
  return {
    llm,
    server,
    close: async () => {
      await server.close();
      await llm.close();
    },
  };
}

async function createAgent(server: Server, name: string): Promise<string> {
  const agent = await server.client.agents.create({
    name,
    model: 'openai/gpt-4o-mini',
    memory_blocks: [
      { label: 'human', value: 'Name: Ada', limit: 100_000 },
      { label: 'persona', value: 'A helpful agent.' },
    ],
  });
  return agent.id;
}

/** Stored history: alternating user/assistant rows of ~200 characters, inserted in batches, not in context. */
async function seedHistory(server: Server, agentId: string, count: number): Promise<void> {
  const ctx = { agentId, conversationId: null, runId: null, stepId: null, model: null };
  const filler = 'The quick brown fox jumps over the lazy dog while the agent keeps notes about the day. ';
  for (let i = 0; i < count; i += 500) {
    const rows = Array.from({ length: Math.min(500, count - i) }, (_, j) => {
      const n = i + j;
      return messageRow(ctx, n % 2 === 0 ? 'user' : 'assistant', [{ type: 'text', text: `#${n} ${filler}${filler}` }]);
    });
    await server.stores.messages.insertMany(rows);
  }
}

/**
 * The agent's in-context ids cut back to ~`keep` (system message + the newest turns, cut at a user message so no tool
 * call loses its return), as compaction would, once they pass `keep` + 20; undefined while they have not. Held there,
 * the window stays the same at every size and the numbers measure stored history, not prompt size. Read on the
 * benchmark's own connection, between turns.
 */
async function trimmedIds(server: Server, agentId: string, keep: number): Promise<string[] | undefined> {
  const ids = JSON.parse((await server.stores.agents.findById(agentId))!.message_ids) as string[];
  if (ids.length <= keep + 20) return undefined;
  const tail = await server.stores.messages.findByIds(ids.slice(-keep));
  const firstUser = tail.findIndex((m) => m.role === 'user');
  return firstUser < 0 ? undefined : [ids[0]!, ...tail.slice(firstUser).map((m) => m.id)];
}

/**
 * Keeps the window trimmed (`trimmedIds`), written through Cairn's API as a client would: a write on the benchmark's
 * own SQLite connection would invalidate the server connection's page cache before every measured turn, which no
 * single-process deployment does. `aroundWrite` wraps that write (to measure it).
 */
async function trimContext(
  server: Server,
  agentId: string,
  keep: number,
  aroundWrite = (write: () => Promise<void>) => write(),
): Promise<void> {
  const ids = await trimmedIds(server, agentId, keep);
  if (ids) await aroundWrite(async () => void (await server.client.agents.update(agentId, { message_ids: ids })));
}

type Shape = 'sync-text' | 'stream-text' | 'sync-tool';

/** One turn; returns [wall ms, LLM-side ms, steps]. The tool shape's prompt carries `[tool]`, which the fake keys on. */
async function turn(s: Setup, agentId: string, shape: Shape, i: number): Promise<[number, number, number]> {
  const url = `${s.server.baseURL}/v1/agents/${agentId}/messages`;
  const steps = shape === 'sync-tool' ? 2 : 1;
  const messages = [
    { role: 'user', content: `${shape === 'sync-tool' ? '[tool] ' : ''}Message ${i}: how are you today?` },
  ];
  s.llm.requests.length = 0; // the fake's calls of this turn only, and memory flat over thousands of turns
  const started = now();
  const r = await postJson(
    url,
    shape === 'stream-text' ? { messages, streaming: true, stream_tokens: true } : { messages },
  );
  const wall = now() - started;
  if (r.status !== 200) throw new Error(`${shape} → ${r.status} ${r.text.slice(0, 300)}`);
  if (shape === 'stream-text') {
    if (!r.text.includes('"stop_reason":"end_turn"') || !r.text.trimEnd().endsWith('data: [DONE]'))
      throw new Error(`${shape}: ${r.text.slice(-300)}`);
  } else {
    const body = JSON.parse(r.text) as { messages: { message_type: string }[]; stop_reason?: { stop_reason?: string } };
    if (body.stop_reason?.stop_reason !== 'end_turn') throw new Error(`${shape}: ${r.text.slice(0, 400)}`);
    if (shape === 'sync-tool' && !body.messages.some((m) => m.message_type === 'tool_return_message'))
      throw new Error(`${shape}: no tool return: ${r.text.slice(0, 400)}`);
  }
  const llmCalls = s.llm.calls;
  if (llmCalls.length !== steps) throw new Error(`${shape}: expected ${steps} LLM calls, saw ${llmCalls.length}`);
  return [wall, llmCalls.reduce((sum, call) => sum + (call.ms ?? Number.NaN), 0), steps];
}

interface CellResult {
  samples: number[];
  llmSamples: number[];
  cairnCpu: number;
  dbCpu: number;
  ownCpu: number;
  stored: number;
}

/**
 * One shape's turns on one agent: `--warmup` turns, then `--turns` measured ones, the window trimmed before each
 * (`trimContext`). CPU figures are per step over the measured turns, the trims' share taken out.
 */
async function measureCell(s: Setup, agentId: string, shape: Shape, dbCpuMs: () => number): Promise<CellResult> {
  const turns = Number(args.turns);
  const warmup = Number(args.warmup);
  const samples: number[] = [];
  const llmSamples: number[] = [];
  let cpuAtStart = 0;
  let trimCpu = 0;
  let dbCpuAtStart = 0;
  let dbTrimCpu = 0;
  let ownCpuAtStart = 0;
  let steps = 0;
  for (let i = 0; i < warmup + turns; i++) {
    // The trim is a request of its own: what Cairn (and PostgreSQL) spend on it is taken out of the turns'.
    // Cairn's CPU is one cheap read, taken around the whole trim (in process, the check is this process's work
    // too); PostgreSQL's is a scan of /proc, taken only around the write (the check before it, one agent read
    // on the benchmark's own connection, stays in its figure).
    const before = s.server.cpuMs();
    await trimContext(s.server, agentId, 40, async (write) => {
      const dbBefore = dbCpuMs();
      await write();
      if (i > warmup) dbTrimCpu += dbCpuMs() - dbBefore;
    });
    if (i > warmup) trimCpu += s.server.cpuMs() - before;
    if (i === warmup) {
      queryStats.clear();
      cpuAtStart = s.server.cpuMs();
      dbCpuAtStart = dbCpuMs();
      ownCpuAtStart = ownCpuMs();
    }
    const [wall, llmMs, turnSteps] = await turn(s, agentId, shape, i);
    if (i >= warmup) {
      steps += turnSteps;
      samples.push((wall - llmMs) / turnSteps);
      llmSamples.push(llmMs / turnSteps);
    }
  }
  return {
    samples,
    llmSamples,
    cairnCpu: (s.server.cpuMs() - cpuAtStart - trimCpu) / steps,
    dbCpu: (dbCpuMs() - dbCpuAtStart - dbTrimCpu) / steps,
    ownCpu: (ownCpuMs() - ownCpuAtStart) / steps,
    stored: await s.server.stores.messages.count(agentId, { kind: 'all' }),
  };
}

async function overhead(dialect: TestDialect): Promise<void> {
  const sizes = args.sizes!.split(',').map(Number);
  const turns = Number(args.turns);
  const warmup = Number(args.warmup);
  const repeat = Number(args.repeat);
  const shapes = args.shapes!.split(',') as Shape[];
  for (const shape of shapes)
    if (!['sync-text', 'stream-text', 'sync-tool'].includes(shape)) throw new Error(`unknown turn shape '${shape}'`);
  console.log(
    `\n## overhead per step (${dialect}; ${turns} measured turns per shape and size after ${warmup} warm-up turns${repeat > 1 ? `, ${repeat} rounds` : ''})`,
  );
  // Cairn CPU: the server's CPU time over the measured turns divided by their steps (child mode: the Cairn process
  // alone, from /proc; inprocess: this whole process). Unlike wall time it barely moves when other programs compete
  // for the cores, so on a busy machine it is the steadier measure of Cairn's own cost.
  console.log(`\nserver: ${inProcess ? 'in this process' : 'own process (private build)'}`);
  // PostgreSQL: its server's CPU too (its processes on this machine, the trim's share subtracted like Cairn's).
  let dbCpuMs = () => 0;
  const dbColumn = dialect === 'postgres' ? ' PostgreSQL CPU per step, mean ms |' : '';
  const s = await setup(dialect);
  try {
    if (dialect === 'postgres') dbCpuMs = postgresCpu(await s.server.databaseBackendPid());
    let k = 0;
    s.llm.setDefault((request) => {
      // sync-tool: the call that ends with the marked user message asks for memory_insert; the next one answers.
      const last = request.body.messages.at(-1);
      const wantsTool = last?.role === 'user' && JSON.stringify(last.content).includes('[tool]');
      if (wantsTool)
        return {
          toolCalls: [
            { id: `call_${k++}`, name: 'memory_insert', arguments: { label: 'human', new_str: `fact ${k}` } },
          ],
        };
      return { text: 'I am fine, thank you for asking.' };
    });
    // The server's own warm-up (JIT), on an agent of its own: without it the first size measured carries it.
    const warmAgent = await createAgent(s.server, 'bench-overhead-warmup');
    for (const shape of shapes) {
      for (let i = 0; i < Number(args['server-warmup']); i++) {
        await trimContext(s.server, warmAgent, 40);
        await turn(s, warmAgent, shape, i);
      }
    }
    // One agent per size, its in-context window held at 40–60 messages (trimContext): only the stored history differs.
    const agents = new Map<number, string>();
    for (const size of sizes) {
      const agentId = await createAgent(s.server, `bench-overhead-${size}`);
      await seedHistory(s.server, agentId, size);
      agents.set(size, agentId);
    }
    await s.server.settle();
    // Rounds run the whole size × shape matrix one after another, so a slow stretch of the host lands in one
    // round's cells rather than in one cell of every round.
    const pooled = new Map<string, { samples: number[]; p95s: number[]; cairnCpus: number[] }>();
    for (let round = 1; round <= repeat; round++) {
      if (repeat > 1) console.log(`\nround ${round} of ${repeat} (load average ${load()})`);
      // The benchmark's own process (client and fake LLM; with trims, unlike the others) shares the cores too.
      console.log(
        `| stored messages | turn shape | steps | wall overhead p50 ms | p95 ms | p99 ms | max ms | LLM-side p50 ms | Cairn CPU per step, mean ms |${dbColumn} client + fake LLM CPU per step, mean ms |`,
      );
      console.log(`|---:|---|---:|---:|---:|---:|---:|---:|---:|${dbColumn ? '---:|' : ''}---:|`);
      for (const size of sizes) {
        for (const shape of shapes) {
          const cell = await measureCell(s, agents.get(size)!, shape, dbCpuMs);
          const { samples, llmSamples } = cell;
          const dbCpu = dialect === 'postgres' ? ` ${f1(cell.dbCpu)} |` : '';
          printQueryStats(turns, `${size} stored, ${shape}`);
          console.log(
            `| ${size.toLocaleString('en')} (now ${cell.stored.toLocaleString('en')}) | ${shape} | ${shape === 'sync-tool' ? 2 : 1} | ${f1(pct(samples, 50))} | ${f1(pct(samples, 95))} | ${f1(pct(samples, 99))} | ${f1(Math.max(...samples))} | ${f1(pct(llmSamples, 50))} | ${f1(cell.cairnCpu)} |${dbCpu} ${inProcess ? '(same process)' : f1(cell.ownCpu)} |`,
          );
          const key = `${size}|${shape}`;
          const all = pooled.get(key) ?? { samples: [], p95s: [], cairnCpus: [] };
          all.samples.push(...samples);
          all.p95s.push(pct(samples, 95));
          all.cairnCpus.push(cell.cairnCpu);
          pooled.set(key, all);
        }
      }
    }
    if (repeat > 1) {
      console.log(
        `\nall ${repeat} rounds: every measured turn of a cell pooled, and the range of the rounds' own figures`,
      );
      console.log(
        "| stored messages at start | turn shape | turns | pooled p50 ms | pooled p95 ms | pooled p99 ms | rounds' p95 min–max ms | rounds' Cairn CPU per step min–max ms |",
      );
      console.log('|---:|---|---:|---:|---:|---:|---|---|');
      const range = (values: number[]) => `${f1(Math.min(...values))}–${f1(Math.max(...values))}`;
      for (const size of sizes) {
        for (const shape of shapes) {
          const { samples, p95s, cairnCpus } = pooled.get(`${size}|${shape}`)!;
          console.log(
            `| ${size.toLocaleString('en')} | ${shape} | ${samples.length} | ${f1(pct(samples, 50))} | ${f1(pct(samples, 95))} | ${f1(pct(samples, 99))} | ${range(p95s)} | ${range(cairnCpus)} |`,
          );
        }
      }
    }
  } finally {
    await s.close();
  }
}

interface StreamStats {
  ok: boolean;
  problem?: string;
  firstChunkMs: number;
  maxGapMs: number;
  totalMs: number;
  chunks: number;
}

/** One streamed turn, read frame by frame as it arrives, with the arrival time of each data frame. */
async function timedStream(url: string, body: unknown, expectedText: string): Promise<StreamStats> {
  const started = now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 200 || !response.body)
    return {
      ok: false,
      problem: `status ${response.status}: ${await response.text()}`,
      firstChunkMs: NaN,
      maxGapMs: NaN,
      totalMs: NaN,
      chunks: 0,
    };
  const decoder = new TextDecoder();
  let buffer = '';
  const arrivals: number[] = [];
  const frames: { event: string | undefined; data: string }[] = [];
  for await (const piece of response.body as unknown as AsyncIterable<Uint8Array>) {
    const at = now();
    buffer += decoder.decode(piece, { stream: true });
    const cut = buffer.lastIndexOf('\n\n');
    if (cut < 0) continue;
    for (const frame of parseSse(buffer.slice(0, cut + 2))) {
      frames.push(frame);
      arrivals.push(at);
    }
    buffer = buffer.slice(cut + 2);
  }
  const totalMs = now() - started;
  const data = frames
    .filter((f) => f.event === undefined && f.data !== '[DONE]')
    .map((f) => JSON.parse(f.data) as Record<string, any>);
  const types = data.map((d) => d.message_type as string);
  const text = data
    .filter((d) => d.message_type === 'assistant_message')
    .map((d) => d.content as string)
    .join('');
  const problems = [
    types[0] !== 'ping' && 'no leading ping',
    !data.some((d) => d.message_type === 'stop_reason' && d.stop_reason === 'end_turn') && 'no end_turn stop_reason',
    types.at(-1) !== 'usage_statistics' && 'usage_statistics not last',
    frames.at(-1)?.data !== '[DONE]' && 'no [DONE]',
    frames.some((f) => f.event === 'error') && 'error event',
    text !== expectedText && `text mismatch (${text.length} of ${expectedText.length} chars)`,
  ].filter(Boolean);
  // Gaps between consecutive frames after the first content chunk (the wait before it is the LLM's first token).
  const firstContent = frames.findIndex((f) => f.event === undefined && f.data.includes('"assistant_message"'));
  let maxGapMs = 0;
  for (let i = Math.max(1, firstContent + 1); i < arrivals.length; i++)
    maxGapMs = Math.max(maxGapMs, arrivals[i]! - arrivals[i - 1]!);
  return {
    ok: problems.length === 0,
    problem: problems.join(', ') || undefined,
    firstChunkMs: (arrivals[firstContent] ?? NaN) - started,
    maxGapMs,
    totalMs,
    chunks: data.length,
  };
}

/**
 * An interactive user's turns come after pauses. Each of `--rounds` rounds runs ten sync-text turns back to back,
 * then one more after `--pause-s` seconds of silence; the pause is longer than pg-pool's default idle timeout (10 s),
 * after which a pool without kept connections opens a new one (and prepares its statements again).
 */
async function afterIdle(dialect: TestDialect): Promise<void> {
  const rounds = Number(args.rounds);
  const pauseMs = Number(args['pause-s']) * 1000;
  console.log(`\n## a turn after an idle pause (${dialect}; ${rounds} rounds, ${pauseMs / 1000} s pauses)`);
  const s = await setup(dialect);
  try {
    s.llm.setDefault(() => ({ text: 'I am fine, thank you for asking.' }));
    const agentId = await createAgent(s.server, 'bench-idle');
    const timedTurn = async (i: number) => {
      const [wall, llmMs] = await turn(s, agentId, 'sync-text', i);
      return wall - llmMs;
    };
    // The window held at 40–60 messages, as in the overhead benchmark.
    const trimmedTurn = async (i: number) => {
      await trimContext(s.server, agentId, 40);
      return timedTurn(i);
    };
    for (let i = 0; i < Number(args['server-warmup']); i++) await trimmedTurn(i);
    const busy: number[] = [];
    const afterPause: number[] = [];
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < 10; i++) busy.push(await trimmedTurn(i));
      await trimContext(s.server, agentId, 40);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      // No trim check here: in process it would read through the server's pool and open its connection first.
      afterPause.push(await timedTurn(round));
    }
    console.log('| turns | overhead p50 ms | max ms |\n|---|---:|---:|');
    console.log(`| back to back (${busy.length}) | ${f1(pct(busy, 50))} | ${f1(Math.max(...busy))} |`);
    console.log(
      `| after a ${pauseMs / 1000} s pause (${afterPause.length}) | ${f1(pct(afterPause, 50))} | ${f1(Math.max(...afterPause))} |`,
    );
  } finally {
    await s.close();
  }
}

async function concurrency(dialect: TestDialect): Promise<void> {
  const n = Number(args.agents);
  const rounds = Number(args.rounds);
  const tokenMs = Number(args['token-ms']);
  const tokens = Number(args.tokens);
  const text = Array.from({ length: tokens }, (_, i) => `word${i}`).join(' ');
  const ideal = (tokens - 1) * tokenMs;
  console.log(
    `\n## ${n} concurrent streams (${dialect}; ${tokens} tokens at ${tokenMs} ms each, ideal stream ≈ ${ideal} ms; ${rounds} rounds)`,
  );
  const s = await setup(dialect);
  try {
    s.llm.setDefault({ text, chunkDelayMs: tokenMs });
    const agents: string[] = [];
    for (let i = 0; i < n; i++) agents.push(await createAgent(s.server, `bench-stream-${i}`));
    console.log(`\nserver: ${inProcess ? 'in this process' : 'own process (private build)'}`);
    const all: StreamStats[] = [];
    console.log(
      '| round | complete | first token p50 / max ms | max gap p50 / p95 / max ms | stream total p50 / max ms | wall ms | Cairn CPU ms (cores busy) | client + fake LLM process CPU (cores busy) |',
    );
    console.log('|---:|---:|---|---|---|---:|---:|---:|');
    for (let round = 1; round <= rounds; round++) {
      const cpuAtStart = s.server.cpuMs();
      const ownCpuAtStart = ownCpuMs();
      const started = now();
      const stats = await Promise.all(
        agents.map((id, i) =>
          timedStream(
            `${s.server.baseURL}/v1/agents/${id}/messages/stream`,
            {
              messages: [{ role: 'user', content: `Round ${round}, agent ${i}: tell me something.` }],
              stream_tokens: true,
            },
            text,
          ),
        ),
      );
      const wall = now() - started;
      const cpu = s.server.cpuMs() - cpuAtStart;
      const ownMs = ownCpuMs() - ownCpuAtStart;
      all.push(...stats);
      const ok = stats.filter((x) => x.ok);
      for (const bad of stats.filter((x) => !x.ok)) console.log(`  FAILED stream: ${bad.problem}`);
      const gaps = ok.map((x) => x.maxGapMs);
      console.log(
        `| ${round} | ${ok.length}/${n} | ${f1(
          pct(
            ok.map((x) => x.firstChunkMs),
            50,
          ),
        )} / ${f1(Math.max(...ok.map((x) => x.firstChunkMs)))} | ${f1(pct(gaps, 50))} / ${f1(pct(gaps, 95))} / ${f1(Math.max(...gaps))} | ${f1(
          pct(
            ok.map((x) => x.totalMs),
            50,
          ),
        )} / ${f1(Math.max(...ok.map((x) => x.totalMs)))} | ${f1(wall)} | ${cpu.toFixed(0)} (${(cpu / wall).toFixed(2)}) | ${inProcess ? '(same process)' : `${ownMs.toFixed(0)} (${(ownMs / wall).toFixed(2)})`} |`,
      );
    }
    const failed = all.filter((x) => !x.ok).length;
    console.log(
      `\nstreams: ${all.length - failed}/${all.length} complete; largest inter-chunk gap ${f1(Math.max(...all.filter((x) => x.ok).map((x) => x.maxGapMs)))} ms (token pacing ${tokenMs} ms)`,
    );
    if (failed > 0) process.exitCode = 1;
  } finally {
    await s.close();
  }
}

const dialect = args.dialect as TestDialect;
console.log(`# Cairn runtime benchmark — ${new Date().toISOString()}`);
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, node ${process.version}, ${dialect}`,
);
// The machine is shared; the load average says how much of what follows is contention rather than Cairn.
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
console.log(`load average at start: ${load()}`);
process.on('beforeExit', () => console.log(`\nload average at end: ${load()}`));
if (!args.only || args.only === 'overhead') await overhead(dialect);
if (!args.only || args.only === 'concurrency') await concurrency(dialect);
if (args.only === 'idle') await afterIdle(dialect);
