#!/usr/bin/env node
// The event loop's longest stall while Cairn imports a large agent file (docs/benchmarks.md, History).
//
//   npm run build && node bench/agent-file/import-stall.mjs [--messages 40000] [--text-bytes 480] [--dist dist]
//
// Cairn runs in this process on a fresh SQLite database; the official SDK uploads one generated `.af` (one agent,
// `--messages` messages of `--text-bytes` characters: the defaults make the 23.7 MB file of the first measurement)
// after a small warm-up import, while `monitorEventLoopDelay` samples the loop. Messages are queued for embedding
// with the file's OpenAI model, which fails at once without a key: the embedding work is no part of the figure. `--dist` points at another build (an older commit's) to compare.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Letta, { toFile } from '@letta-ai/letta-client';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '40000' },
    'text-bytes': { type: 'string', default: '480' },
    dist: { type: 'string', default: new URL('../../dist', import.meta.url).pathname },
  },
});
const dist = resolve(args.dist);
const { createCairn } = await import(join(dist, 'server.js'));
const { loadConfig } = await import(join(dist, 'config.js'));
const { createLogger } = await import(join(dist, 'logger.js'));

const count = Number(args.messages);
const file = JSON.parse(readFileSync(new URL('../../test/fixtures/agent-files/custom-tools.af', import.meta.url)));
file.tools = [];
file.agents[0].tool_ids = [];
const filler = 'x'.repeat(Number(args['text-bytes']));
file.agents[0].messages = Array.from({ length: count }, (_, i) => ({
  id: `message-${i}`,
  role: i === 0 ? 'system' : i % 2 ? 'user' : 'assistant',
  content: [{ type: 'text', text: `${i} ${filler}` }],
  created_at: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
}));
file.agents[0].in_context_message_ids = ['message-0', `message-${count - 2}`, `message-${count - 1}`];
const payload = Buffer.from(JSON.stringify(file));
// A small import first, so that the measured one does not include starting the parser's worker or warming the JIT.
const warmUp = Buffer.from(
  JSON.stringify({ ...file, agents: [{ ...file.agents[0], messages: [], in_context_message_ids: [] }] }),
);

const dataDir = mkdtempSync(join(tmpdir(), 'cairn-bench-import-'));
const cairn = await createCairn(loadConfig({ port: 0, host: '127.0.0.1', dataDir }, {}), createLogger('error'));
await cairn.app.listen({ host: '127.0.0.1', port: 0 });
const client = new Letta({ baseURL: `http://127.0.0.1:${cairn.app.server.address().port}`, apiKey: 'bench' });
try {
  await client.agents.importFile({ file: await toFile(warmUp, 'warm-up.af') });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const started = performance.now();
  const { agent_ids: agentIds } = await client.agents.importFile({
    file: await toFile(payload, 'bench.af'),
  });
  const seconds = (performance.now() - started) / 1000;
  delay.disable();
  const listed = await client.agents.messages.list(agentIds[0], { limit: 1, order: 'desc' });
  if (listed.getPaginatedItems().length !== 1) throw new Error('the imported agent has no messages');
  console.log(
    JSON.stringify({
      bytes: payload.length,
      messages: count,
      import_s: Math.round(seconds * 100) / 100,
      longest_stall_ms: Math.round(delay.max / 1e6),
      p99_stall_ms: Math.round(delay.percentile(99) / 1e6),
      dist,
    }),
  );
} finally {
  await cairn.app.close();
  rmSync(dataDir, { recursive: true, force: true });
}
