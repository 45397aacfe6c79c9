/**
 * PostgreSQL restarted under load: a PostgreSQL cluster of the campaign's own (scripts/test-postgres.sh with a
 * private TMPDIR, never the shared test server) is stopped `--rounds` times while turns (sync and streamed) and
 * archival searches run against one Cairn process, kept down for `--down-s`, then started again. While it is down
 * every answer must be a 503 (a streamed turn may instead end with an error stop reason if it had begun) and none
 * may hang past the pool timeout; once it is back, requests must succeed again within `--recover-s`, without
 * restarting Cairn. Nothing acknowledged before a stop may be missing after it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createTestDatabase } from '../../test/support/cairn.js';
import { startFakeLlm } from '../../test/support/fake-llm.js';
import { call, request, sleep, spawnCairn, Verdict } from './harness.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'down-s': { type: 'string', default: '6' },
    'recover-s': { type: 'string', default: '20' },
    'pg-tmpdir': { type: 'string', default: '/tmp/cairn-reliability-pg' },
  },
});
const verdict = new Verdict();
const root = process.env.CAIRN_BENCH_ROOT ?? '';
const pgTmp = args['pg-tmpdir']!;
mkdirSync(pgTmp, { recursive: true });
const script = (command: string) =>
  execFileSync(`${root}scripts/test-postgres.sh`, [command], {
    env: { ...process.env, TMPDIR: pgTmp },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
const clusterUri = script('start').split('\n').at(-1)!;
const dataDir = /^DATA_DIR=(.*)$/m.exec(readFileSync(`${pgTmp}/cairn-test-pg/state`, 'utf8'))![1]!;
const pgCtl = (...rest: string[]) =>
  execFileSync('runuser', ['-u', 'postgres', '--', '/usr/lib/postgresql/15/bin/pg_ctl', '-D', dataDir, ...rest], {
    stdio: 'ignore',
    cwd: '/',
  });

process.env.CAIRN_TEST_PG_URI = clusterUri;
const database = await createTestDatabase('postgres');
const llm = await startFakeLlm();
llm.setDefault({ text: 'Fine, noted.', chunkDelayMs: 5 });
const server = await spawnCairn({
  dataDir: database.dataDir,
  pgUri: database.pgUri,
  env: llm.env({ LETTA_PG_POOL_TIMEOUT: '2' }),
});
const base = server.baseURL;
const agent = await call(base, 'POST', '/agents/', { name: 'pg-restart', model: 'openai/gpt-4o-mini' });
const acknowledged: string[] = [];

type Outcome = { status: number; ok: boolean; errorStop: boolean; ms: number; op: string };
const operations: Record<string, () => Promise<Omit<Outcome, 'ms' | 'op'>>> = {
  turn: async () => {
    const r = await request(base, 'POST', `/agents/${agent.id}/messages`, { input: 'hello' });
    return { status: r.status, ok: r.status === 200, errorStop: false };
  },
  stream: async () => {
    const r = await request(base, 'POST', `/agents/${agent.id}/messages/stream`, {
      input: 'hello',
      stream_tokens: true,
    });
    const stop = /"message_type":"stop_reason","stop_reason":"([a-z_]+)"/.exec(r.text)?.[1];
    return {
      status: r.status,
      ok: r.status === 200 && stop === 'end_turn',
      errorStop: r.status === 200 && stop !== 'end_turn',
    };
  },
  search: async () => {
    const r = await request(base, 'GET', `/agents/${agent.id}/archival-memory/search?query=tide`);
    return { status: r.status, ok: r.status === 200, errorStop: false };
  },
  insert: async () => {
    const text = `passage ${acknowledged.length}`;
    const r = await request(base, 'POST', `/agents/${agent.id}/archival-memory`, { text });
    if (r.status === 200) for (const p of [r.json()].flat()) acknowledged.push(p.id);
    return { status: r.status, ok: r.status === 200, errorStop: false };
  },
};
async function attempt(op: string): Promise<Outcome> {
  const started = performance.now();
  try {
    return { ...(await operations[op]!()), ms: performance.now() - started, op };
  } catch (error) {
    return { status: -1, ok: false, errorStop: false, ms: performance.now() - started, op: `${op}: ${String(error)}` };
  }
}
const ops = Object.keys(operations);

const rounds: { down: Record<string, number>; slowestDownMs: number; recoveredMs: number }[] = [];
for (let round = 0; round < Number(args.rounds); round++) {
  for (const op of ops) {
    const r = await attempt(op);
    verdict.check(r.ok, `round ${round}: ${r.op} failed before the stop (${r.status})`);
  }
  pgCtl('-m', 'fast', '-w', 'stop');
  const down: Record<string, number> = {};
  let slowest = 0;
  const downUntil = Date.now() + Number(args['down-s']) * 1000;
  for (let i = 0; Date.now() < downUntil; i++) {
    const r = await attempt(ops[i % ops.length]!);
    const key = r.errorStop ? 'error-stop' : String(r.status);
    down[key] = (down[key] ?? 0) + 1;
    slowest = Math.max(slowest, r.ms);
  }
  const wrong = Object.keys(down).filter((k) => k !== '503' && k !== 'error-stop');
  verdict.check(
    wrong.length === 0,
    `round ${round}: answers while PostgreSQL was down: ${JSON.stringify(down)}; server log: ${server.stderr().slice(-600)}`,
  );
  // The pool timeout is 2 s; a request may meet it twice (a connection, then a retry inside the store).
  verdict.check(slowest < 10_000, `round ${round}: a request took ${Math.round(slowest)} ms while PostgreSQL was down`);
  pgCtl('-w', '-t', '60', '-l', `${dataDir}/../server.log`, 'start');
  const restarted = performance.now();
  let recovered = false;
  let last: Outcome[] = [];
  while (performance.now() - restarted < Number(args['recover-s']) * 1000) {
    // One after another: the two turns share the agent, and a second concurrent turn is a 409.
    const results: Outcome[] = [];
    for (const op of ops) results.push(await attempt(op));
    last = results;
    if (results.every((r) => r.ok)) {
      recovered = true;
      break;
    }
    await sleep(250);
  }
  const recoveredMs = Math.round(performance.now() - restarted);
  verdict.check(
    recovered,
    `round ${round}: not recovered ${args['recover-s']} s after PostgreSQL came back: ${last.map((r) => `${r.op} ${r.status}`).join(', ')}; server log: ${server.stderr().slice(-1500)}`,
  );
  rounds.push({ down, slowestDownMs: Math.round(slowest), recoveredMs });
  console.log(
    `round ${round}: while down ${JSON.stringify(down)}, slowest ${Math.round(slowest)} ms; recovered in ${recoveredMs} ms`,
  );
}
const passages = await call(base, 'GET', `/agents/${agent.id}/archival-memory?limit=1000`);
const stored = new Set(passages.map((p: { id: string }) => p.id));
verdict.check(
  acknowledged.every((id) => stored.has(id)),
  `acknowledged passages lost: ${acknowledged.filter((id) => !stored.has(id)).length}`,
);
verdict.check(server.child.exitCode === null, 'Cairn exited');
await server.stop();
await llm.close();
await database.drop();
script('stop');
verdict.finish({ rounds, acknowledgedPassages: acknowledged.length });
