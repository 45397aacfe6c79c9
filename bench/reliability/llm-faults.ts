/**
 * LLM provider faults: for every fault × turn shape (sync, streamed with tokens, async), one turn against a Cairn
 * process whose LLM timeouts are short (LETTA_LLM_REQUEST_TIMEOUT_SECONDS, LETTA_LLM_STREAM_TIMEOUT_SECONDS) and
 * whose retries are few. Each turn must end with one of Letta's error stop reasons (streamed and async; a sync send
 * with Letta's 502/504 and the LLM's error as detail), never end_turn, never a hung request, within the budget the timeouts and retries allow (plus slack for a loaded machine), with its run failed;
 * and the next, healthy turn on the same agent must succeed (the thread is free).
 */
import { parseArgs } from 'node:util';
import { createTestDatabase, type TestDialect } from '../../test/support/cairn.js';
import { startFakeLlm, type FakeReply } from '../../test/support/fake-llm.js';
import { call, request, sleep, spawnCairn, Verdict } from './harness.js';

const { values: args } = parseArgs({
  options: {
    dialect: { type: 'string', default: 'sqlite' },
    'request-timeout-s': { type: 'string', default: '2' },
    'stream-timeout-s': { type: 'string', default: '4' },
    retries: { type: 'string', default: '1' },
    'slack-s': { type: 'string', default: '15' },
    only: { type: 'string' },
  },
});
const requestTimeoutS = Number(args['request-timeout-s']);
const streamTimeoutS = Number(args['stream-timeout-s']);
const retries = Number(args.retries);
// The longest a turn may take: every attempt runs into the longer timeout, plus the backoff between them.
const budgetMs = ((retries + 1) * Math.max(requestTimeoutS, streamTimeoutS) + Number(args['slack-s'])) * 1000;
const ERROR_STOP_REASONS = new Set(['error', 'llm_api_error', 'invalid_llm_response', 'no_tool_call']);
// A synchronous send answers an LLM failure as an HTTP error, as Letta does: 504 for a timeout, 502 for the rest.
const SYNC_ERROR_STATUSES = new Set([502, 504]);
// Faults only a streamed provider call can meet: sync and async turns call the provider without streaming.
const STREAM_ONLY = new Set(['hang-mid-stream', 'drop-mid-stream', 'stream-error']);
const verdict = new Verdict();

export const FAULTS: Record<string, FakeReply> = {
  slow: { text: 'too late', delayMs: (Math.max(requestTimeoutS, streamTimeoutS) + 3) * 1000 },
  'hang-before-headers': { hang: 'before-headers' },
  'hang-mid-stream': { text: 'a long answer that never finishes '.repeat(4), hang: 'mid-stream' },
  'drop-mid-stream': { text: 'a long answer cut off by a reset '.repeat(4), drop: 'mid-stream' },
  'stream-error': { text: 'partial', streamError: 'server' },
  'server-errors': { error: 'server' },
  'garbage-json': { raw: { body: '{"hello":"world","choices":"none"}' } },
  'garbage-text': { raw: { body: '<html><body>502 Bad Gateway</body></html>', contentType: 'text/html' } },
  'garbage-sse': {
    raw: { body: 'data: {"choices":[{"delta":{"content":\n\ndata: nonsense\n\n', contentType: 'text/event-stream' },
  },
  'empty-body': { raw: { body: '' } },
};

const llm = await startFakeLlm();
const database = await createTestDatabase(args.dialect as TestDialect);
const server = await spawnCairn({
  dataDir: database.dataDir,
  pgUri: database.pgUri,
  env: llm.env({
    LETTA_LLM_REQUEST_TIMEOUT_SECONDS: String(requestTimeoutS),
    LETTA_LLM_STREAM_TIMEOUT_SECONDS: String(streamTimeoutS),
    CAIRN_LLM_MAX_RETRIES: String(retries),
    CAIRN_LLM_RETRY_BASE_MS: '100',
  }),
});
const base = server.baseURL;
const agent = await call(base, 'POST', '/agents/', { name: 'llm-faults', model: 'openai/gpt-4o-mini' });
const input = (text: string) => ({ messages: [{ role: 'user', content: text }] });

type Shape = 'sync' | 'stream' | 'async';
/** One turn; resolves with its stop reason and run id (undefined when the answer carried none). */
async function turn(
  shape: Shape,
  text: string,
): Promise<{ stopReason?: string; runId?: string; status: number; detail?: string }> {
  if (shape === 'sync') {
    const r = await request(base, 'POST', `/agents/${agent.id}/messages`, input(text));
    const body = r.status === 200 ? r.json() : undefined;
    return {
      status: r.status,
      stopReason: body?.stop_reason?.stop_reason,
      runId: body?.messages?.[0]?.run_id,
      detail: r.status === 200 ? undefined : r.text.slice(0, 300),
    };
  }
  if (shape === 'stream') {
    const r = await request(base, 'POST', `/agents/${agent.id}/messages/stream`, {
      ...input(text),
      stream_tokens: true,
    });
    const stop = /"message_type":"stop_reason","stop_reason":"([a-z_]+)"/.exec(r.text)?.[1];
    const runId = /"run_id":"(run-[^"]+)"/.exec(r.text)?.[1];
    if (r.status === 200 && !r.text.trimEnd().endsWith('data: [DONE]'))
      verdict.check(false, `stream without [DONE]: ${r.text.slice(-200)}`);
    return { status: r.status, stopReason: stop, runId };
  }
  const run = await call(base, 'POST', `/agents/${agent.id}/messages/async`, input(text));
  for (;;) {
    const current = await call(base, 'GET', `/runs/${run.id}`);
    if (current.status !== 'created' && current.status !== 'running')
      return { status: 200, stopReason: current.stop_reason, runId: run.id };
    await sleep(100);
  }
}

const results: { fault: string; shape: Shape; stopReason?: string; status: number; ms: number }[] = [];
const shapes: Shape[] = ['sync', 'stream', 'async'];
for (const [fault, reply] of Object.entries(FAULTS)) {
  if (args.only && !args.only.split(',').includes(fault)) continue;
  for (const shape of shapes) {
    if (STREAM_ONLY.has(fault) && shape !== 'stream') continue;
    llm.reset();
    llm.setDefault(reply);
    const started = performance.now();
    const result = await turn(shape, `${fault} ${shape}`);
    const ms = Math.round(performance.now() - started);
    results.push({ fault, shape, ...result, ms });
    console.log(
      `${fault.padEnd(20)} ${shape.padEnd(6)} → ${result.status} ${result.stopReason ?? '-'} in ${ms} ms ${result.detail ?? ''}`,
    );
    const what = `${fault}/${shape}`;
    if (shape === 'sync')
      verdict.check(
        SYNC_ERROR_STATUSES.has(result.status) && (result.detail ?? '').includes('LLM error'),
        `${what}: HTTP ${result.status} ${result.detail ?? ''}`,
      );
    else {
      verdict.check(result.status === 200, `${what}: HTTP ${result.status} instead of a stop reason`);
      verdict.check(ERROR_STOP_REASONS.has(result.stopReason ?? ''), `${what}: stop reason ${result.stopReason}`);
    }
    verdict.check(ms <= budgetMs, `${what}: took ${ms} ms, over the ${budgetMs} ms budget`);
    const active = await call(base, 'GET', `/runs/active?agent_id=${agent.id}`);
    verdict.check(active.length === 0, `${what}: runs left active: ${JSON.stringify(active).slice(0, 200)}`);
    if (result.runId) {
      const run = await call(base, 'GET', `/runs/${result.runId}`);
      verdict.check(run.status === 'failed', `${what}: run ${run.id} is ${run.status}`);
    }
    llm.setDefault({ text: 'healthy again' });
    const next = await request(base, 'POST', `/agents/${agent.id}/messages`, input('and now?'));
    verdict.check(
      next.status === 200 && next.json().stop_reason?.stop_reason === 'end_turn',
      `${what}: the next turn failed: ${next.status} ${next.text.slice(0, 200)}`,
    );
  }
}
await server.stop();
await llm.close();
await database.drop();
verdict.finish({
  dialect: args.dialect,
  budgetMs,
  turns: results.length,
  maxMs: Math.max(...results.map((r) => r.ms)),
  stopReasons: Object.fromEntries(results.map((r) => [`${r.fault}/${r.shape}`, r.stopReason])),
});
