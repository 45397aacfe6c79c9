/**
 * Soak: steady mixed load on one Cairn process for `--minutes`, sampling its RSS and each operation's latency
 * percentiles per minute into a CSV, then a summary (first vs last minutes). The mix, run by `--workers` loops back to
 * back: sync turns, streamed turns (stream_tokens), async turns polled to completion, turns with a tool call
 * (conversation_search), archival inserts and searches, core-block writes, and `cairn hooks user-prompt-submit`
 * processes. The fake LLM answers instantly, so the load is Cairn's own; agents keep a small context window so
 * compaction runs as in long-lived use. Violations: any failed operation, or the server exiting.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, appendFileSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startFakeLlm, type FakeLlmRequest } from '../../test/support/fake-llm.js';
import { call, distDir, percentile, request, sleep, spawnCairn, Verdict } from './harness.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    workers: { type: 'string', default: '2' },
    // Between a worker's operations: a steady load, not a saturating one (the machine is shared).
    'pause-ms': { type: 'string', default: '100' },
    agents: { type: 'string', default: '4' }, // at least --workers
    out: { type: 'string', default: 'bench-out/soak' },
  },
});
const minutes = Number(args.minutes);
const pauseMs = Number(args['pause-ms']);
const out = args.out!;
mkdirSync(out, { recursive: true });
const verdict = new Verdict();

const llm = await startFakeLlm();
const lastRole = (r: FakeLlmRequest) => (r.body.messages as { role: string }[] | undefined)?.at(-1)?.role;
const userText = (r: FakeLlmRequest) => JSON.stringify((r.body.messages as unknown[] | undefined)?.at(-1) ?? '');
llm.setDefault((r) =>
  lastRole(r) !== 'tool' && userText(r).includes('[tool]')
    ? { toolCalls: [{ name: 'conversation_search', arguments: { query: 'lighthouse keeper' } }] }
    : { text: `Noted. The lighthouse keeper logs the weather at dawn and the tide at dusk (${Date.now()}).` },
);
const dataDir = mkdtempSync(join(tmpdir(), 'cairn-soak-'));
const server = await spawnCairn({ dataDir, env: llm.env() });
const base = server.baseURL;

const agents: string[] = [];
for (let i = 0; i < Number(args.agents); i++) {
  const agent = await call(base, 'POST', '/agents/', {
    name: `soak-${i}`,
    model: 'openai/gpt-4o-mini',
    context_window_limit: 12_000,
    memory_blocks: [
      { label: 'human', value: 'Name: Ada', limit: 5_000 },
      { label: 'persona', value: 'A careful agent.' },
    ],
  });
  agents.push(agent.id);
}

const project = join(dataDir, 'project');
mkdirSync(project, { recursive: true });
const hookEnv = {
  PATH: process.env.PATH!,
  LETTA_BASE_URL: base,
  CAIRN_HOOKS_STATE_DIR: join(dataDir, 'hook-state'),
  CLAUDE_PROJECT_DIR: project,
};
function hook(event: string, payload: unknown): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${distDir()}/hooks.js`, event], {
      env: hookEnv,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.on('close', (code) => resolve(code ?? -1));
    child.stdin.end(JSON.stringify(payload));
  });
}
await hook('session-start', { session_id: 'soak', cwd: project, hook_event_name: 'SessionStart', source: 'startup' });

let counter = 0;
const turnBody = (text: string) => ({ messages: [{ role: 'user', content: text }] });
const ok = (status: number, what: string) => {
  if (status >= 300) throw new Error(`${what} → ${status}`);
};

// Each worker has an agent of its own: one agent runs one turn at a time (a second is Letta's 409).
const operations: Record<string, (agent: string) => Promise<void>> = {
  'turn-sync': async (agent) => {
    const r = await request(base, 'POST', `/agents/${agent}/messages`, turnBody(`Hello ${counter}`));
    ok(r.status, 'turn-sync');
    if (r.json().stop_reason?.stop_reason !== 'end_turn') throw new Error(`turn-sync: ${r.text.slice(0, 300)}`);
  },
  'turn-stream': async (agent) => {
    const r = await request(base, 'POST', `/agents/${agent}/messages/stream`, {
      ...turnBody(`Stream ${counter}`),
      stream_tokens: true,
    });
    ok(r.status, 'turn-stream');
    if (!r.text.includes('"stop_reason":"end_turn"') || !r.text.trimEnd().endsWith('data: [DONE]'))
      throw new Error(`turn-stream: ${r.text.slice(-300)}`);
  },
  'turn-tool': async (agent) => {
    const r = await request(base, 'POST', `/agents/${agent}/messages`, turnBody(`[tool] search ${counter}`));
    ok(r.status, 'turn-tool');
    if (!r.text.includes('tool_return_message')) throw new Error(`turn-tool: ${r.text.slice(0, 300)}`);
  },
  'turn-async': async (agent) => {
    const run = await call(base, 'POST', `/agents/${agent}/messages/async`, turnBody(`Async ${counter}`));
    for (let i = 0; i < 600; i++) {
      const status = (await call(base, 'GET', `/runs/${run.id}`)).status;
      if (status === 'completed') return;
      if (status !== 'created' && status !== 'running') throw new Error(`turn-async: run ${status}`);
      await sleep(50);
    }
    throw new Error('turn-async: not done in 30 s');
  },
  'archival-insert': async (agent) => {
    const r = await request(base, 'POST', `/agents/${agent}/archival-memory`, {
      text: `Observation ${counter}: the tide came in at ${counter % 24}:00 and the gulls followed the ferry.`,
    });
    ok(r.status, 'archival-insert');
  },
  'archival-search': async (agent) => {
    const r = await request(
      base,
      'GET',
      `/agents/${agent}/archival-memory/search?query=${encodeURIComponent('tide ferry gulls')}&top_k=10`,
    );
    ok(r.status, 'archival-search');
  },
  'block-write': async (agent) => {
    const r = await request(base, 'PATCH', `/agents/${agent}/core-memory/blocks/human`, {
      value: `Name: Ada. Last seen ${new Date().toISOString()} (${counter}).`,
    });
    ok(r.status, 'block-write');
  },
  hook: async () => {
    const code = await hook('user-prompt-submit', {
      session_id: 'soak',
      cwd: project,
      hook_event_name: 'UserPromptSubmit',
      prompt: `What did we note about the tide? (${counter})`,
    });
    if (code !== 0) throw new Error(`hook exited ${code}`);
  },
};
const names = Object.keys(operations);
// Hooks are whole processes (≈100 ms of CPU each): one in eight operations keeps them from dominating the mix.
const schedule = [...names.filter((n) => n !== 'hook'), ...names.filter((n) => n !== 'hook'), 'hook'];

const csv = join(out, 'soak.csv');
writeFileSync(
  csv,
  `minute,rss_mib,load1,${names.flatMap((n) => [`${n}_n`, `${n}_p50`, `${n}_p95`, `${n}_p99`]).join(',')},errors\n`,
);
let window: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
let windowErrors = 0;
let totalOps = 0;
const errors: string[] = [];
const rows: { minute: number; rss: number; p50: Record<string, number>; p99: Record<string, number> }[] = [];
const started = Date.now();
const endAt = started + minutes * 60_000;

async function worker(offset: number) {
  let i = offset * 3;
  while (Date.now() < endAt && server.child.exitCode === null) {
    const name = schedule[i++ % schedule.length]!;
    const t0 = performance.now();
    try {
      counter++;
      await operations[name]!(agents[offset % agents.length]!);
      window[name]!.push(performance.now() - t0);
      totalOps++;
    } catch (error) {
      windowErrors++;
      if (errors.length < 50) errors.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
    await sleep(pauseMs);
  }
}

function sample(minute: number) {
  const rss = server.rssKiB() / 1024;
  const cells = names.flatMap((n) => {
    const v = window[n]!;
    return [v.length, percentile(v, 50), percentile(v, 95), percentile(v, 99)].map((x) =>
      Number.isFinite(x) ? Math.round(x) : '',
    );
  });
  appendFileSync(csv, `${minute},${rss.toFixed(1)},${loadavg()[0]!.toFixed(2)},${cells.join(',')},${windowErrors}\n`);
  rows.push({
    minute,
    rss,
    p50: Object.fromEntries(names.map((n) => [n, percentile(window[n]!, 50)])),
    p99: Object.fromEntries(names.map((n) => [n, percentile(window[n]!, 99)])),
  });
  console.log(
    `minute ${minute}: rss ${rss.toFixed(0)} MiB, load ${loadavg()[0]!.toFixed(2)}, ops ${names.map((n) => `${n}=${window[n]!.length}`).join(' ')}, errors ${windowErrors}`,
  );
  window = Object.fromEntries(names.map((n) => [n, []]));
  windowErrors = 0;
}

let minute = 0;
const sampler = setInterval(() => sample(++minute), 60_000);
await Promise.all(Array.from({ length: Number(args.workers) }, (_, w) => worker(w)));
clearInterval(sampler);
if (Date.now() - started > minute * 60_000 + 5_000) sample(++minute);
verdict.check(server.child.exitCode === null, `server exited: ${server.stderr().slice(-2000)}`);
verdict.check(errors.length === 0, `${errors.length} failed operations: ${errors.slice(0, 10).join(' | ')}`);
await server.stop();
await llm.close();

// Flatness: the median of the last five minutes against the median of minutes 2–6 (minute 1 warms up).
const head = rows.slice(1, 6);
const tail = rows.slice(-5);
const med = (v: number[]) => percentile(v, 50);
const summary = {
  minutes,
  operations: totalOps,
  rssMiB: {
    early: med(head.map((r) => r.rss)),
    late: med(tail.map((r) => r.rss)),
    max: Math.max(...rows.map((r) => r.rss)),
  },
  p50ms: Object.fromEntries(
    names.map((n) => [n, { early: med(head.map((r) => r.p50[n]!)), late: med(tail.map((r) => r.p50[n]!)) }]),
  ),
  p99ms: Object.fromEntries(
    names.map((n) => [n, { early: med(head.map((r) => r.p99[n]!)), late: med(tail.map((r) => r.p99[n]!)) }]),
  ),
  csv,
};
writeFileSync(join(out, 'summary.json'), JSON.stringify({ ...summary, errors }, null, 2));
verdict.finish(summary);
