#!/usr/bin/env node
// Archival speed benchmark (docs/benchmarks/2026-11-lab-notebook.md, "Archival retrieval").
//
//   npm run build && node bench/archival/run.mjs [--dialect sqlite|postgres] [--sizes 1000,10000,100000]
//
// 1. Ingest with the local model through the REST API: passages/s until embedded, and the process's CPU use.
// 2. Semantic visibility: time from a write returning to the passage being found by vector search.
// 3. Search latency at growing sizes on ONE agent, query embedding excluded (precomputed query vectors, passed
//    to the service), for hybrid, lexical and vector modes. To reach 100k passages in minutes rather than the
//    half hour the local model would need, the bulk rows get vectors derived from real USE-lite vectors of
//    LoCoMo turns (a real vector plus small noise, renormalised) and are stored through the archival store.
// LoCoMo (CC BY-NC 4.0) is read in place as a source of realistic text; nothing of it is written to the repo.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bulkRows, derivedVectors, locomoText } from '../lib/bulk.mjs';
import { call as rest } from '../lib/rest.mjs';
import { percentile } from '../lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    data: {
      type: 'string',
      default: process.env.LOCOMO_PATH ?? new URL('../../../shared/bench-data/locomo10.json', import.meta.url).pathname,
    },
    dialect: { type: 'string', default: 'sqlite' },
    sizes: { type: 'string', default: '1000,10000,100000' },
    'ingest-passages': { type: 'string', default: '1000' },
    'visibility-samples': { type: 'string', default: '40' },
    queries: { type: 'string', default: '200' },
    'skip-ingest': { type: 'boolean', default: false },
    // Bulk rows written per instant: 1 = every passage on its own; 20 = sessions of 20 turns (units of context).
    'unit-size': { type: 'string', default: '1' },
  },
});

const { createCairn } = await import('../../dist/server.js');
const { loadConfig } = await import('../../dist/config.js');
const { createLogger } = await import('../../dist/logger.js');
const { newId } = await import('../../dist/lib/ids.js');

const { turns, questions } = locomoText(args.data);

// ---- database ---------------------------------------------------------------------------------------------
const dataDir = mkdtempSync(join(tmpdir(), 'cairn-bench-archival-'));
// PostgreSQL: CAIRN_BENCH_PG_URI names an empty database the bench may fill (create and drop it yourself).
const pgUri = args.dialect === 'postgres' ? process.env.CAIRN_BENCH_PG_URI : undefined;
if (args.dialect === 'postgres' && !pgUri) throw new Error('set CAIRN_BENCH_PG_URI to an empty database');
const config = { ...loadConfig({ port: 0, host: '127.0.0.1', dataDir }, {}), pgUri };
const cairn = await createCairn(config, createLogger('warn'));
await cairn.app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${cairn.app.server.address().port}`;
const call = (method, path, body) => rest(base, method, path, body);
const { archival } = cairn.services;
const { stores, embedders } = cairn;
const round = (x) => Math.round(x * 100) / 100;
const report = {
  dialect: args.dialect,
  cpus: (await import('node:os')).availableParallelism(),
  unit_size: Number(args['unit-size']),
};

// ---- 1 + 2: ingest and visibility through REST with the local model ------------------------------------------
if (!args['skip-ingest']) {
  const agent = await call('POST', '/agents/', { name: 'ingest', include_base_tools: false });
  await call('POST', `/agents/${agent.id}/archival-memory`, { text: 'warm-up' });
  await archival.embeddingStatus(agent.id);
  await cairn.indexer.idle();
  const n = Number(args['ingest-passages']);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++)
    await call('POST', `/agents/${agent.id}/archival-memory`, { text: turns[i % turns.length] });
  const written = performance.now();
  while ((await archival.embeddingStatus(agent.id)).pending > 0) await new Promise((r) => setTimeout(r, 50));
  const done = performance.now();
  const cpu = process.cpuUsage(cpu0);
  report.ingest = {
    passages: n,
    write_per_s: round(n / ((written - t0) / 1000)),
    embedded_per_s: round(n / ((done - t0) / 1000)),
    cpu_cores_used: round((cpu.user + cpu.system) / 1000 / (done - t0)),
  };
  console.error('ingest', JSON.stringify(report.ingest));

  const visibility = [];
  for (let i = 0; i < Number(args['visibility-samples']); i++) {
    const text = `${turns[(i * 37) % turns.length]} (note ${i})`;
    const t = performance.now();
    const [passage] = await call('POST', `/agents/${agent.id}/archival-memory`, { text });
    for (;;) {
      const r = await call(
        'GET',
        `/agents/${agent.id}/archival-memory/search?${new URLSearchParams({ query: text, top_k: '1', mode: 'vector' })}`,
      );
      if (r.results[0]?.id === passage.id) break;
      if (performance.now() - t > 10_000) throw new Error('not visible after 10 s');
    }
    visibility.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 100));
  }
  report.visibility_ms = {
    p50: round(percentile(visibility, 50)),
    p95: round(percentile(visibility, 95)),
    max: round(Math.max(...visibility)),
  };
  console.error('visibility', JSON.stringify(report.visibility_ms));
}

// ---- 3: search latency by size ----------------------------------------------------------------------------
const local = embedders.get('local/use-lite');
const baseTexts = turns.slice(0, 2000);
const baseVectors = [];
for (let i = 0; i < baseTexts.length; i += 64) baseVectors.push(...(await local.embed(baseTexts.slice(i, i + 64))));
const queryTexts = questions
  .filter((_, i) => i % Math.ceil(questions.length / Number(args.queries)) === 0)
  .slice(0, Number(args.queries));
const queryVectors = await local.embed(queryTexts);

const agent = await call('POST', '/agents/', { name: 'bulk', include_base_tools: false });
const archive = await archival.defaultArchive(agent.id);
const agentRow = await stores.agents.findById(agent.id);
const derived = derivedVectors(baseVectors);

let count = 0;
async function growTo(size) {
  const start = performance.now();
  while (count < size) {
    const batch = Math.min(1000, size - count);
    const rows = bulkRows({
      newId,
      archiveId: archive.id,
      texts: baseTexts,
      from: count,
      to: count + batch,
      unitSize: Number(args['unit-size']),
    });
    await stores.transaction(async (tx) =>
      tx.archival.insertPassages(
        rows,
        rows.map(() => []),
      ),
    );
    await stores.archival.storeVectors(
      rows.map((r, j) => ({
        claim: { id: r.id, archive_id: r.archive_id, text: r.text, model: 'local/use-lite' },
        vector: derived(count + j),
      })),
    );
    count += batch;
  }
  return (performance.now() - start) / 1000;
}

/**
 * SQLite's vector channel rescores the candidates of a binary prefilter: the share of the exact top 100 (a full
 * `vec_distance_cosine` scan) that the channel returns, over the first 50 queries.
 */
async function prefilterRecall() {
  const { sql } = await import('kysely');
  let found = 0;
  let total = 0;
  for (let q = 0; q < Math.min(50, queryVectors.length); q++) {
    const blob = Buffer.from(queryVectors[q].buffer, queryVectors[q].byteOffset, queryVectors[q].byteLength);
    const exact =
      await sql`SELECT p.seq FROM passage_vectors v JOIN passages p ON p.id = v.passage_id WHERE v.archive_id = ${archive.id} ORDER BY vec_distance_cosine(v.embedding, ${blob}) LIMIT 100`.execute(
        cairn.dialect.db,
      );
    const got = new Set(
      (await stores.archival.nearest('local/use-lite', queryVectors[q], { archiveIds: [archive.id] }, 100)).map(
        (r) => r.seq,
      ),
    );
    found += exact.rows.filter((r) => got.has(Number(r.seq))).length;
    total += exact.rows.length;
  }
  return found / total;
}

report.search = [];
for (const size of args.sizes.split(',').map(Number)) {
  const seconds = await growTo(size);
  if (args.dialect === 'postgres')
    await cairn.dialect.db.executeQuery({ sql: 'ANALYZE', parameters: [], query: { kind: 'RawNode' } }).catch(() => {});
  const row = { size, bulk_load_s: round(seconds) };
  // The first search after the bulk load builds the in-process indexes (lexical postings, vector sign codes); it is
  // reported on its own, and the measured searches run warm, as in a server that has been up for a while.
  const first = performance.now();
  await archival.rank(agentRow, { query: queryTexts[0], queryVector: queryVectors[0], topK: 10, mode: 'hybrid' });
  row.first_search_ms = round(performance.now() - first);
  for (const mode of ['hybrid', 'lexical', 'vector']) {
    const times = [];
    for (let q = 0; q < queryTexts.length; q++) {
      const t = performance.now();
      await archival.rank(agentRow, { query: queryTexts[q], queryVector: queryVectors[q], topK: 10, mode });
      times.push(performance.now() - t);
    }
    row[mode] = { p50_ms: round(percentile(times, 50)), p95_ms: round(percentile(times, 95)) };
  }
  if (args.dialect === 'sqlite') row.prefilter_recall_at_100 = round(await prefilterRecall());
  console.error('search', JSON.stringify(row));
  report.search.push(row);
}

console.log(JSON.stringify(report, null, 2));
await cairn.close();
rmSync(dataDir, { recursive: true, force: true });
