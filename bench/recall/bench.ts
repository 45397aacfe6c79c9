/**
 * Recall search latency against one agent's history size: `services.recall.search` (what conversation_search runs)
 * in hybrid and fts mode, at each size, over a query every message matches (the soak's "lighthouse keeper": the worst
 * case for a full-text channel) and one few messages match. Messages and their vectors are written straight into the
 * database (real USE-lite vectors of a few texts, reused), so 50k messages load in seconds. `embed` and `nearest` split
 * a hybrid search into its query embedding and the store's exact vector scan (RecallStore.nearest).
 */
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { startCairn, type TestDialect } from '../../test/support/cairn.js';
import { percentile } from '../reliability/harness.js';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,50000' },
    dialect: { type: 'string', default: 'sqlite' },
    queries: { type: 'string', default: '15' },
  },
});
const sizes = args.sizes!.split(',').map(Number);
const server = await startCairn(args.dialect as TestDialect);
const { services, dialect, embedders } = server.cairn;
const db = dialect.db as any;
const agent = await server.client.agents.create({ model: 'openai/gpt-4o-mini', tools: ['conversation_search'] });
const handle = server.config.defaultEmbeddingHandle;
const texts = [
  'Noted. The lighthouse keeper logs the weather at dawn and the tide at dusk.',
  'The lighthouse keeper says the ferry is late again.',
  'We talked about the lighthouse keeper and his gulls.',
];
const embedder = embedders.get(handle);
const vectors = await embedder.embed(texts);
const rare = 'sertraline with breakfast';

let written = 0;
const grow = async (to: number) => {
  const batch = 500;
  while (written < to) {
    const rows = [];
    const n = Math.min(batch, to - written);
    for (let i = 0; i < n; i++) {
      const k = written + i;
      const text = k % 997 === 0 ? `I take 50 mg of ${rare} (${k}).` : `${texts[k % texts.length]} (${k})`;
      rows.push({
        id: `message-bench-${k}`,
        agent_id: agent.id,
        conversation_id: null,
        role: k % 2 ? 'assistant' : 'user',
        content: JSON.stringify([{ type: 'text', text }]),
        text,
        is_err: 0,
        created_at: new Date(Date.UTC(2026, 0, 1) + k * 60_000).toISOString(),
      });
    }
    await db.insertInto('messages').values(rows).execute();
    await db
      .insertInto('message_vectors')
      .values(
        rows.map((r, i) => ({
          message_id: r.id,
          agent_id: agent.id,
          model: handle,
          dim: vectors[0]!.length,
          embedding: dialect.search.encodeVector(vectors[(written + i) % texts.length]!),
        })),
      )
      .execute();
    written += n;
  }
  await db.deleteFrom('message_embed_queue').execute();
  if (dialect.name === 'postgres') await sql`ANALYZE`.execute(db);
};

console.log(`dialect ${args.dialect}; ${args.queries} searches per cell; ms p50 / p95`);
for (const size of sizes) {
  await grow(size);
  const cells: string[] = [];
  for (const [label, query, mode] of [
    ['common hybrid', 'lighthouse keeper', 'hybrid'],
    ['common fts', 'lighthouse keeper', 'fts'],
    ['rare hybrid', rare, 'hybrid'],
  ] as const) {
    const times: number[] = [];
    await services.recall.search(agent.id, { query, mode, limit: 5 });
    for (let i = 0; i < Number(args.queries); i++) {
      const t0 = performance.now();
      await services.recall.search(agent.id, { query, mode, limit: 5 });
      times.push(performance.now() - t0);
    }
    cells.push(`${label} ${percentile(times, 50).toFixed(1)} / ${percentile(times, 95).toFixed(1)}`);
  }
  const probe = async (label: string, run: () => Promise<unknown>) => {
    const times: number[] = [];
    for (let i = 0; i < Number(args.queries); i++) {
      const t0 = performance.now();
      await run();
      times.push(performance.now() - t0);
    }
    cells.push(`${label} ${percentile(times, 50).toFixed(1)}`);
  };
  const [q] = await embedder.embed([rare]);
  const filter = { agentId: agent.id, roles: ['user', 'assistant'], excludeToolCalls: ['conversation_search'] };
  await probe('embed', () => embedder.embed([rare]));
  await probe('nearest', () => server.cairn.stores.recall.nearest(handle, q!, filter, 100));
  console.log(`${size} messages: ${cells.join('; ')}`);
}
await server.close();
