/**
 * kill -9 campaign: `--turns` turns against one agent (sync, streamed with tokens, async, and each of those with a
 * memory_insert tool call), archival inserts and block writes between them; before a random share of the turns
 * (`--kill-rate`) a timer SIGKILLs the server a random 0–`--max-delay-ms` after the turn starts. The fake LLM paces
 * its replies so the kill lands before, during or after the model call, tool execution or the stream. After each
 * kill the server restarts on the same data, and then:
 *   - every row the client saw acknowledged is there (messages of completed turns, passages, the last block value);
 *   - nothing is corrupt (SQLite: integrity_check and foreign_key_check; both: every message reads back through the
 *     API);
 *   - no run is left active, and every run of an interrupted turn is failed (on PostgreSQL after the stale-run
 *     sweep, as several processes may share the database there);
 *   - the next turn succeeds (the thread is free);
 * and throughout, no request the fake LLM receives has a tool call without its return or a return without its call.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { createTestDatabase, type TestDialect } from '../../test/support/cairn.js';
import { startFakeLlm, type FakeLlmRequest } from '../../test/support/fake-llm.js';
import { call, request, sleep, spawnCairn, Verdict, type CairnProcess } from './harness.js';

const { values: args } = parseArgs({
  options: {
    dialect: { type: 'string', default: 'sqlite' },
    turns: { type: 'string', default: '100' },
    'kill-rate': { type: 'string', default: '0.2' },
    'max-delay-ms': { type: 'string', default: '700' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
  },
});
const dialect = args.dialect as TestDialect;
const turns = Number(args.turns);
const killRate = Number(args['kill-rate']);
const maxDelayMs = Number(args['max-delay-ms']);
// A small deterministic generator, so a failing campaign reruns with its `--seed`.
let state = Number(args.seed) >>> 0 || 1;
const random = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
};
const verdict = new Verdict();

/** Every assistant tool call is answered by a tool message before the next non-tool message, and no return dangles. */
export function orphanToolCalls(body: { messages?: Record<string, any>[] }): string[] {
  const problems: string[] = [];
  const messages = body.messages ?? [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role === 'assistant' && Array.isArray(m.tool_calls)) {
      const answered = new Set<string>();
      for (let j = i + 1; j < messages.length && messages[j]!.role === 'tool'; j++)
        answered.add(messages[j]!.tool_call_id);
      for (const c of m.tool_calls) if (!answered.has(c.id)) problems.push(`call ${c.id} without a return`);
    }
    if (m.role === 'tool') {
      let j = i - 1;
      while (j >= 0 && messages[j]!.role === 'tool') j--;
      const calls = messages[j]?.tool_calls as { id: string }[] | undefined;
      if (!calls?.some((c) => c.id === m.tool_call_id)) problems.push(`return ${m.tool_call_id} without its call`);
    }
  }
  return problems;
}

const llm = await startFakeLlm();
const lastRole = (r: FakeLlmRequest) => (r.body.messages as { role: string }[] | undefined)?.at(-1)?.role;
const lastText = (r: FakeLlmRequest) => JSON.stringify((r.body.messages as unknown[] | undefined)?.at(-1) ?? '');
let factNo = 0;
llm.setDefault((r) => {
  const delayMs = Math.floor(random() * 150);
  if (lastRole(r) !== 'tool' && lastText(r).includes('[tool]'))
    return {
      delayMs,
      toolCalls: [{ name: 'memory_insert', arguments: { label: 'human', new_str: `fact ${++factNo}` } }],
    };
  return { delayMs, chunkDelayMs: 15, text: 'Understood, noted for later. Anything else you want me to remember?' };
});

const database = await createTestDatabase(dialect);
const serverOptions = { dataDir: database.dataDir, pgUri: database.pgUri, env: llm.env() };
let server: CairnProcess = await spawnCairn(serverOptions);
const agent = await call(server.baseURL, 'POST', '/agents/', {
  name: 'kill9',
  model: 'openai/gpt-4o-mini',
  memory_blocks: [{ label: 'human', value: 'Name: Ada', limit: 100_000 }],
});

const committedMessages = new Set<string>();
const committedPassages = new Set<string>();
let lastBlockValue: string | undefined;
const interruptedRuns = new Set<string>();
let kills = 0;
let interruptedTurns = 0;

type Shape = 'sync' | 'stream' | 'async';
/** One turn; resolves with the ids of the messages it reported, and records its run id as soon as it is known. */
async function turn(shape: Shape, withTool: boolean, i: number, onRun: (id: string) => void): Promise<string[]> {
  const input = { messages: [{ role: 'user', content: `${withTool ? '[tool] ' : ''}Turn ${i}: remember this.` }] };
  const base = server.baseURL;
  if (shape === 'sync') {
    const r = await request(base, 'POST', `/agents/${agent.id}/messages`, input);
    if (r.status !== 200) throw new Error(`sync → ${r.status} ${r.text.slice(0, 200)}`);
    const body = r.json();
    if (body.stop_reason?.stop_reason !== 'end_turn') throw new Error(`sync: ${r.text.slice(0, 300)}`);
    return body.messages.map((m: { id: string }) => m.id);
  }
  if (shape === 'stream') {
    const response = await fetch(`${base}/v1/agents/${agent.id}/messages/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...input, stream_tokens: true }),
    });
    if (response.status !== 200) throw new Error(`stream → ${response.status}`);
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body!) {
      text += decoder.decode(chunk as Uint8Array, { stream: true });
      const run = /"run_id":"(run-[^"]+)"/.exec(text);
      if (run) onRun(run[1]!);
    }
    if (!text.includes('"stop_reason":"end_turn"') || !text.trimEnd().endsWith('data: [DONE]'))
      throw new Error(`stream ended early: ${text.slice(-200)}`);
    const ids = new Set<string>();
    for (const line of text.split('\n')) {
      if (!line.startsWith('data: {')) continue;
      const chunk = JSON.parse(line.slice(6));
      if (typeof chunk.id === 'string' && /^message-/.test(chunk.id)) ids.add(chunk.id);
    }
    return [...ids];
  }
  const run = await call(base, 'POST', `/agents/${agent.id}/messages/async`, input);
  onRun(run.id);
  for (;;) {
    const status = (await call(base, 'GET', `/runs/${run.id}`)).status;
    if (status === 'completed') break;
    if (status !== 'created' && status !== 'running') throw new Error(`async run ${status}`);
    await sleep(30);
  }
  const messages = await call(base, 'GET', `/runs/${run.id}/messages?limit=100`);
  return messages.map((m: { id: string }) => m.id);
}

async function allMessageIds(): Promise<Set<string>> {
  const ids = new Set<string>();
  let after: string | undefined;
  for (;;) {
    const page = await call(
      server.baseURL,
      'GET',
      `/agents/${agent.id}/messages?limit=100&order=asc${after ? `&after=${after}` : ''}`,
    );
    for (const m of page) ids.add(m.id);
    if (page.length < 100) return ids;
    after = page.at(-1).id;
  }
}

async function checkAfterRestart(): Promise<void> {
  if (dialect === 'sqlite') {
    const db = new Database(join(database.dataDir, 'cairn.db'), { readonly: true });
    try {
      const integrity = db.pragma('integrity_check', { simple: true });
      verdict.check(integrity === 'ok', `integrity_check: ${String(integrity)}`);
      const foreign = db.pragma('foreign_key_check') as unknown[];
      verdict.check(foreign.length === 0, `foreign_key_check: ${JSON.stringify(foreign).slice(0, 300)}`);
    } finally {
      db.close();
    }
  }
  const stored = await allMessageIds();
  const lost = [...committedMessages].filter((id) => !stored.has(id));
  verdict.check(lost.length === 0, `${lost.length} acknowledged messages lost: ${lost.slice(0, 5).join(', ')}`);
  const passages = await call(server.baseURL, 'GET', `/agents/${agent.id}/archival-memory?limit=1000`);
  const passageIds = new Set(passages.map((p: { id: string }) => p.id));
  const lostPassages = [...committedPassages].filter((id) => !passageIds.has(id));
  verdict.check(lostPassages.length === 0, `${lostPassages.length} acknowledged passages lost`);
  if (lastBlockValue !== undefined) {
    const block = await call(server.baseURL, 'GET', `/agents/${agent.id}/core-memory/blocks/human`);
    verdict.check(block.value.includes(lastBlockValue), `block write lost: ${lastBlockValue}`);
  }
  // SQLite fails a dead process's runs at start-up; PostgreSQL once they miss heartbeats for the stale period.
  const deadline = Date.now() + (dialect === 'sqlite' ? 5_000 : 90_000);
  let active: { id: string }[];
  for (;;) {
    active = await call(server.baseURL, 'GET', `/runs/active?agent_id=${agent.id}`);
    if (active.length === 0 || Date.now() > deadline) break;
    await sleep(1_000);
  }
  verdict.check(active.length === 0, `runs still active after restart: ${active.map((r) => r.id).join(', ')}`);
  for (const id of interruptedRuns) {
    const run = await call(server.baseURL, 'GET', `/runs/${id}`);
    verdict.check(
      run.status === 'failed' || run.status === 'completed',
      `interrupted run ${id} is ${run.status}, not failed`,
    );
  }
  interruptedRuns.clear();
  const next = await request(server.baseURL, 'POST', `/agents/${agent.id}/messages`, {
    messages: [{ role: 'user', content: 'After the restart: still there?' }],
  });
  verdict.check(
    next.status === 200 && next.json().stop_reason?.stop_reason === 'end_turn',
    `the turn after a restart failed: ${next.status} ${next.text.slice(0, 300)}`,
  );
  if (next.status === 200) for (const m of next.json().messages) committedMessages.add(m.id);
}

const shapes: Shape[] = ['sync', 'stream', 'async'];
const started = Date.now();
for (let i = 0; i < turns; i++) {
  const shape = shapes[i % 3]!;
  const withTool = Math.floor(i / 3) % 2 === 1;
  const kill = random() < killRate;
  let runId: string | undefined;
  const pending = turn(shape, withTool, i, (id) => (runId = id));
  if (kill) {
    await sleep(Math.floor(random() * maxDelayMs));
    server.child.kill('SIGKILL');
    kills++;
  }
  try {
    for (const id of await pending) committedMessages.add(id);
  } catch (error) {
    if (!kill) verdict.check(false, `turn ${i} (${shape}${withTool ? '+tool' : ''}) failed: ${String(error)}`);
    interruptedTurns++;
    if (runId) interruptedRuns.add(runId);
  }
  if (kill) {
    await server.exited;
    server = await spawnCairn(serverOptions);
    await checkAfterRestart();
    continue;
  }
  if (i % 4 === 0) {
    const passage = await call(server.baseURL, 'POST', `/agents/${agent.id}/archival-memory`, {
      text: `Passage after turn ${i}`,
    });
    for (const p of Array.isArray(passage) ? passage : [passage]) committedPassages.add(p.id);
  }
  if (i % 5 === 0) {
    lastBlockValue = `Name: Ada (block write ${i})`;
    await call(server.baseURL, 'PATCH', `/agents/${agent.id}/core-memory/blocks/human`, { value: lastBlockValue });
  }
}
// A last kill between turns, then the full check once more.
server.child.kill('SIGKILL');
await server.exited;
server = await spawnCairn(serverOptions);
await checkAfterRestart();
for (const [n, r] of llm.calls.entries()) {
  const problems = orphanToolCalls(r.body);
  verdict.check(problems.length === 0, `model call ${n} carried orphans: ${problems.join('; ')}`);
}
await server.stop();
await llm.close();
await database.drop();
verdict.finish({
  dialect,
  seed: Number(args.seed),
  turns,
  kills: kills + 1,
  interruptedTurns,
  committedMessages: committedMessages.size,
  committedPassages: committedPassages.size,
  modelCalls: llm.calls.length,
  seconds: Math.round((Date.now() - started) / 1000),
});
