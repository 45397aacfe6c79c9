#!/usr/bin/env node
// Claude Code hooks speed benchmark (docs/benchmarks/2026-11-lab-notebook.md, "Claude Code hooks").
//
//   npm run build && node bench/hooks/run.mjs [--runs 100] [--passages 500] [--messages 1000]
//
// Measures what Claude Code waits for: hook process start to exit (spawn → close), with the server up and warm,
// for user-prompt-submit (archival + recall search + block diff, output printed), session-start and stop. The
// server runs in this process (embedded SQLite, local embedding model); each hook is a fresh `node dist/hooks.js`.
// Memory is seeded through the REST API: archival passages and captured conversation history from LoCoMo turns
// (CC BY-NC 4.0, read in place; nothing is written to the repo), or synthetic sentences when it is absent.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { percentile } from '../lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    data: {
      type: 'string',
      default: process.env.LOCOMO_PATH ?? new URL('../../../shared/bench-data/locomo10.json', import.meta.url).pathname,
    },
    runs: { type: 'string', default: '100' },
    passages: { type: 'string', default: '500' },
    messages: { type: 'string', default: '1000' },
  },
});
const RUNS = Number(args.runs);

const { createCairn } = await import('../../dist/server.js');
const { loadConfig } = await import('../../dist/config.js');
const { createLogger } = await import('../../dist/logger.js');
const hooksScript = new URL('../../dist/hooks.js', import.meta.url).pathname;

let turns;
let questions;
if (existsSync(args.data)) {
  const samples = JSON.parse(readFileSync(args.data, 'utf8'));
  turns = samples.flatMap((s) =>
    Object.entries(s.conversation)
      .filter(([k]) => /^session_\d+$/.test(k))
      .flatMap(([, session]) => session.map((t) => `${t.speaker}: ${t.text}`)),
  );
  questions = samples.flatMap((s) => s.qa.filter((q) => q.category <= 4).map((q) => q.question));
} else {
  const topics = ['deploy', 'database', 'migration', 'cache', 'billing', 'queue', 'auth', 'search', 'logging', 'tests'];
  turns = Array.from(
    { length: 5000 },
    (_, i) => `Note ${i}: the ${topics[i % 10]} service uses option ${i % 37} and was changed on day ${i % 28}.`,
  );
  questions = Array.from(
    { length: 500 },
    (_, i) => `What did we decide about the ${topics[i % 10]} service option ${i % 37}?`,
  );
}

const root = mkdtempSync(join(tmpdir(), 'cairn-bench-hooks-'));
const config = loadConfig({ port: 0, host: '127.0.0.1', dataDir: join(root, 'data') }, {});
const cairn = await createCairn(config, createLogger('warn'));
await cairn.app.listen({ host: '127.0.0.1', port: 0 });
const baseURL = `http://127.0.0.1:${cairn.app.server.address().port}`;

async function call(method, path, body) {
  const response = await fetch(`${baseURL}/v1${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : undefined;
}

const project = join(root, 'benchproject');
const env = {
  PATH: process.env.PATH,
  LETTA_BASE_URL: baseURL,
  CAIRN_HOOKS_STATE_DIR: join(root, 'state'),
  CLAUDE_PROJECT_DIR: project,
};
function hook(event, payload) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [hooksScript, event], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ ms: performance.now() - started, code, chars: out.length }));
    child.stdin.end(JSON.stringify(payload));
  });
}
const summary = (name, rows) => {
  const ms = rows.map((r) => r.ms);
  const line = `${name.padEnd(20)} n=${String(rows.length).padStart(3)}  p50 ${percentile(ms, 50).toFixed(0).padStart(4)} ms  p95 ${percentile(ms, 95).toFixed(0).padStart(4)} ms  p99 ${percentile(ms, 99).toFixed(0).padStart(4)} ms  max ${Math.max(
    ...ms,
  )
    .toFixed(0)
    .padStart(4)} ms`;
  const extra =
    rows[0]?.chars !== undefined
      ? `  avg output ${(rows.reduce((n, r) => n + r.chars, 0) / rows.length).toFixed(0)} chars, ${rows.filter((r) => r.chars > 0).length}/${rows.length} injected`
      : '';
  console.log(line + extra);
};

// ---- seed: the project agent (created by the first session-start), archival passages, recorded history -----
const first = await hook('session-start', {
  session_id: 'seed',
  cwd: project,
  hook_event_name: 'SessionStart',
  source: 'startup',
});
if (first.code !== 0) throw new Error('session-start failed');
const [agent] = await call('GET', `/agents/?tags=project:benchproject&limit=1`);
process.stderr.write(`seeding ${args.passages} passages and ${args.messages} messages…\n`);
for (let i = 0; i < Number(args.passages); i++)
  await call('POST', `/agents/${agent.id}/archival-memory`, { text: turns[(i * 7) % turns.length] });
for (let i = 0; i < Number(args.messages); i += 100) {
  const batch = Array.from({ length: Math.min(100, Number(args.messages) - i) }, (_, j) => ({
    role: j % 2 ? 'assistant' : 'user',
    content: turns[(i + j) % turns.length],
    otid: `seed-${i + j}`,
  }));
  await call('POST', `/agents/${agent.id}/messages/capture`, { messages: batch });
}
// Wait for background embedding, so searches are hybrid as in steady state.
for (;;) {
  const status = await call('GET', `/agents/${agent.id}/archival-memory/embedding-status`).catch(() => undefined);
  if (!status || status.pending === 0 || status.pending === undefined) break;
  await new Promise((r) => setTimeout(r, 500));
}

// ---- measure ----------------------------------------------------------------------------------------------
const baseline = [];
for (let i = 0; i < 20; i++) {
  const started = performance.now();
  await new Promise((resolve) => spawn(process.execPath, ['-e', ''], { stdio: 'ignore' }).on('close', resolve));
  baseline.push({ ms: performance.now() - started });
}
for (let i = 0; i < 5; i++)
  await hook('user-prompt-submit', {
    session_id: 'warm',
    cwd: project,
    hook_event_name: 'UserPromptSubmit',
    prompt: questions[i],
  });

const prompts = [];
for (let i = 0; i < RUNS; i++)
  prompts.push(
    await hook('user-prompt-submit', {
      session_id: `s${i % 10}`,
      cwd: project,
      hook_event_name: 'UserPromptSubmit',
      prompt: questions[(i * 13) % questions.length],
    }),
  );
// The same prompts with hybrid (embedding) archival search instead of the default lexical one.
env.CAIRN_HOOKS_SEARCH_MODE = 'hybrid';
const hybrid = [];
for (let i = 0; i < RUNS; i++)
  hybrid.push(
    await hook('user-prompt-submit', {
      session_id: `s${i % 10}`,
      cwd: project,
      hook_event_name: 'UserPromptSubmit',
      prompt: questions[(i * 13) % questions.length],
    }),
  );
delete env.CAIRN_HOOKS_SEARCH_MODE;
const trivial = [];
for (let i = 0; i < 30; i++)
  trivial.push(
    await hook('user-prompt-submit', {
      session_id: 's0',
      cwd: project,
      hook_event_name: 'UserPromptSubmit',
      prompt: 'ok',
    }),
  );
const starts = [];
for (let i = 0; i < 30; i++)
  starts.push(
    await hook('session-start', {
      session_id: `start-${i}`,
      cwd: project,
      hook_event_name: 'SessionStart',
      source: 'startup',
    }),
  );
const stops = [];
for (let i = 0; i < 30; i++) {
  const transcript = join(root, `t${i}.jsonl`);
  const lines = Array.from({ length: 10 }, (_, j) =>
    JSON.stringify({
      type: j % 2 ? 'assistant' : 'user',
      uuid: `stop-${i}-${j}`,
      timestamp: new Date().toISOString(),
      message: { role: j % 2 ? 'assistant' : 'user', content: turns[(i * 10 + j) % turns.length] },
    }),
  );
  writeFileSync(transcript, `${lines.join('\n')}\n`);
  stops.push(
    await hook('stop', {
      session_id: `stop-${i}`,
      cwd: project,
      transcript_path: transcript,
      hook_event_name: 'Stop',
      stop_hook_active: false,
    }),
  );
}

console.log(
  `\nClaude Code hooks, ${args.passages} passages + ${args.messages} messages in memory, Node ${process.version}, SQLite`,
);
summary('node -e "" (floor)', baseline);
summary('user-prompt-submit', prompts);
summary('  hybrid search', hybrid);
summary('  trivial prompt', trivial);
summary('session-start', starts);
summary('stop (10 lines)', stops);
if (prompts.some((r) => r.code !== 0)) console.log('WARNING: a hook exited non-zero');
// Inside the hook (from its log): time from input parsed to output ready, i.e. the network part.
const log = readFileSync(join(root, 'state', 'hooks.log'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));
const inside = log
  .filter((e) => e.event === 'user-prompt-submit' && e.msg === 'ok' && e.chars > 0)
  .map((e) => ({ ms: e.ms }));
summary('  requests (lexical)', inside.slice(-2 * RUNS, -RUNS));
summary('  requests (hybrid)', inside.slice(-RUNS));

await cairn.close();
rmSync(root, { recursive: true, force: true });
