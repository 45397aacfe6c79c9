#!/usr/bin/env node
// Search latency of two builds side by side, in one process, queries interleaved (docs/benchmarks.md,
// "Retrieval that finds meaning"). On a shared machine the load changes from minute to minute; alternating the
// builds query by query gives both the same load, which two runs one after the other do not.
//
//   npm run build && node bench/archival/ab.mjs --base DIR [--dialect sqlite|postgres] [--size 100000] [--unit-size 1]
//
// DIR is another checkout of the same layout (`createCairn` exposes `stores` and `embedders`) with its own
// `npm run build` (e.g. `git archive main | tar x -C DIR` with node_modules linked). Each build gets its own database (PostgreSQL: CAIRN_BENCH_PG_URI and
// CAIRN_BENCH_PG_URI_BASE, two empty databases) filled with the same rows as bench/archival/run.mjs: LoCoMo turns
// (read in place, CC BY-NC 4.0) and vectors derived from their real USE-lite vectors.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bulkRows, derivedVectors, locomoText } from '../lib/bulk.mjs';
import { percentile } from '../lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    data: {
      type: 'string',
      default: process.env.LOCOMO_PATH ?? new URL('../../../shared/bench-data/locomo10.json', import.meta.url).pathname,
    },
    base: { type: 'string' },
    dialect: { type: 'string', default: 'sqlite' },
    size: { type: 'string', default: '100000' },
    'unit-size': { type: 'string', default: '1' },
    queries: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
  },
});
if (!args.base) throw new Error('--base DIR: the other build to compare with');

const { turns, questions } = locomoText(args.data);
const queryTexts = questions
  .filter((_, i) => i % Math.ceil(questions.length / Number(args.queries)) === 0)
  .slice(0, Number(args.queries));

async function open(root, pgUri) {
  const dist = (file) => import(join(resolve(root), 'dist', file));
  const { createCairn } = await dist('server.js');
  const { loadConfig } = await dist('config.js');
  const { createLogger } = await dist('logger.js');
  const { newId } = await dist('lib/ids.js');
  const dataDir = mkdtempSync(join(tmpdir(), 'cairn-bench-ab-'));
  const cairn = await createCairn(
    { ...loadConfig({ port: 0, host: '127.0.0.1', dataDir }, {}), pgUri },
    createLogger('warn'),
  );
  return { root, cairn, newId, dataDir };
}

const pgUri = (name) => {
  if (args.dialect !== 'postgres') return undefined;
  const uri = process.env[name];
  if (!uri) throw new Error(`set ${name} to an empty database`);
  return uri;
};
const builds = [
  await open(new URL('../..', import.meta.url).pathname, pgUri('CAIRN_BENCH_PG_URI')),
  await open(args.base, pgUri('CAIRN_BENCH_PG_URI_BASE')),
];

const local = builds[0].cairn.embedders.get('local/use-lite');
const baseTexts = turns.slice(0, 2000);
const baseVectors = [];
for (let i = 0; i < baseTexts.length; i += 64) baseVectors.push(...(await local.embed(baseTexts.slice(i, i + 64))));
const queryVectors = await local.embed(queryTexts);

// The same derived vectors for both builds.
const size = Number(args.size);
const derived = derivedVectors(baseVectors);
const vectors = Array.from({ length: size }, (_, i) => derived(i));

for (const build of builds) {
  const { archival, agents } = build.cairn.services;
  const { stores } = build.cairn;
  const agent = await agents.create({ name: 'bulk', include_base_tools: false });
  const archive = await archival.defaultArchive(agent.id);
  build.agent = await stores.agents.findById(agent.id);
  for (let count = 0; count < size; count += 1000) {
    const rows = bulkRows({
      newId: build.newId,
      archiveId: archive.id,
      texts: baseTexts,
      from: count,
      to: Math.min(size, count + 1000),
      unitSize: Number(args['unit-size']),
    });
    await stores.transaction((tx) =>
      tx.archival.insertPassages(
        rows,
        rows.map(() => []),
      ),
    );
    await stores.archival.storeVectors(
      rows.map((r, j) => ({
        claim: { id: r.id, archive_id: r.archive_id, text: r.text, model: 'local/use-lite' },
        vector: vectors[count + j],
      })),
    );
  }
  if (args.dialect === 'postgres')
    await build.cairn.dialect.db
      .executeQuery({ sql: 'ANALYZE', parameters: [], query: { kind: 'RawNode' } })
      .catch(() => {});
  // The first search builds the in-process indexes.
  await archival.rank(build.agent, { query: queryTexts[0], queryVector: queryVectors[0], topK: 10 });
}

const report = { dialect: args.dialect, size, unit_size: Number(args['unit-size']), builds: {} };
for (const mode of ['hybrid', 'lexical', 'vector']) {
  const times = builds.map(() => []);
  for (let round = 0; round < Number(args.rounds); round++) {
    for (let q = 0; q < queryTexts.length; q++) {
      // Alternate which build goes first, so neither always meets a warmer cache.
      const order = (q + round) % 2 === 0 ? [0, 1] : [1, 0];
      for (const b of order) {
        const t = performance.now();
        await builds[b].cairn.services.archival.rank(builds[b].agent, {
          query: queryTexts[q],
          queryVector: queryVectors[q],
          topK: 10,
          mode,
        });
        times[b].push(performance.now() - t);
      }
    }
  }
  builds.forEach((build, b) => {
    const name = b === 0 ? 'this' : 'base';
    report.builds[name] ??= {};
    report.builds[name][mode] = {
      p50_ms: Math.round(percentile(times[b], 50) * 100) / 100,
      p95_ms: Math.round(percentile(times[b], 95) * 100) / 100,
    };
  });
  console.error(mode, JSON.stringify({ this: report.builds.this[mode], base: report.builds.base[mode] }));
}
console.log(JSON.stringify(report, null, 2));
for (const build of builds) {
  await build.cairn.close();
  rmSync(build.dataDir, { recursive: true, force: true });
}
