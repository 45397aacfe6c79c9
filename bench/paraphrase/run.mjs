#!/usr/bin/env node
// Paraphrase retrieval benchmark for Cairn's archival search (docs/benchmarks.md, "Retrieval that finds meaning").
//
//   npm run build && node bench/paraphrase/run.mjs [--modes lexical,vector,hybrid] [--embedding HANDLE] [--json]
//
// pairs.json holds memories as they were stored and searches for them in other words (everyday, technical and
// personal topics), plus distractor memories that share words with the searches but not their meaning. One agent
// stores every memory through POST /v1/agents/{id}/archival-memory, each at its own time (memories written
// apart, as an agent writes them); then every search goes through GET …/archival-memory/search once per mode.
// top-1: the pair's memory ranks first among all (targets of the other pairs and distractors alike). A second
// agent holds the pairs' memories without the distractors.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stemmer } from 'stemmer';
import { call } from '../lib/rest.mjs';
import { percentile } from '../lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    modes: { type: 'string', default: 'lexical,vector,hybrid' },
    embedding: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const { createCairn } = await import('../../dist/server.js');
const { loadConfig } = await import('../../dist/config.js');
const { createLogger } = await import('../../dist/logger.js');
const { queryTerms } = await import('../../dist/services/search-text.js');

const set = JSON.parse(readFileSync(new URL('./pairs.json', import.meta.url), 'utf8'));
const pairs = Object.entries(set.pairs).flatMap(([topic, list]) =>
  list.map(([query, passage]) => ({ topic, query, passage })),
);

// ---- the set's own check: content words a search shares with its memory (stemmed, stop words dropped) -------
const stems = (text) => new Set(queryTerms(text).map((w) => stemmer(w)));
const overlap = pairs.map((p) => {
  const memory = stems(p.passage);
  return [...stems(p.query)].filter((s) => memory.has(s));
});
const sharing = { none: 0, one: 0, more: 0 };
overlap.forEach((shared) =>
  shared.length === 0 ? sharing.none++ : shared.length === 1 ? sharing.one++ : sharing.more++,
);
const texts = [...pairs.map((p) => p.passage), ...set.distractors];
if (new Set(texts).size !== texts.length) throw new Error('pairs.json repeats a memory');
if (sharing.more > 0) {
  const offenders = pairs.filter((_, i) => overlap[i].length > 1).map((p) => p.query);
  throw new Error(`pairs sharing more than one content word: ${offenders.join(' | ')}`);
}

const dataDir = mkdtempSync(join(tmpdir(), 'cairn-paraphrase-'));
const config = { ...loadConfig({ port: 0, host: '127.0.0.1', dataDir }, { LOG_LEVEL: 'warn' }), pgUri: undefined };
const cairn = await createCairn(config, createLogger('warn'));
await cairn.app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${cairn.app.server.address().port}`;

const K = 10;
/**
 * One agent per haystack: `full` holds every memory and distractor; `targets` only the pairs' memories, so each
 * search competes with the other pairs' memories alone (how much the distractors cost).
 */
async function measure(haystack) {
  const stored = haystack === 'full' ? texts : pairs.map((p) => p.passage);
  const agent = await call(base, 'POST', '/agents/', {
    name: `paraphrase-${haystack}`,
    include_base_tools: false,
    ...(args.embedding ? { embedding: args.embedding } : {}),
  });
  // A fixed interleaving (a simple LCG shuffle), so every run stores the same memories in the same order.
  let seed = 7;
  const order = stored.map((text) => ({ text, key: (seed = (seed * 48271) % 2147483647) }));
  order.sort((a, b) => a.key - b.key);
  const idOf = new Map();
  const started = Date.parse('2025-01-06T08:00:00Z');
  for (const [n, { text }] of order.entries()) {
    const [passage] = await call(base, 'POST', `/agents/${agent.id}/archival-memory`, {
      text,
      created_at: new Date(started + n * 3_600_000).toISOString(),
    });
    idOf.set(text, passage.id);
  }
  for (;;) {
    const status = await call(base, 'GET', `/agents/${agent.id}/archival-memory/embedding-status`);
    if (status.pending === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const results = {};
  const misses = {};
  for (const mode of args.modes.split(',')) {
    const rows = [];
    const latencies = [];
    for (const pair of pairs) {
      const qs = new URLSearchParams({ query: pair.query, top_k: String(K), mode });
      const t0 = performance.now();
      const body = await call(base, 'GET', `/agents/${agent.id}/archival-memory/search?${qs}`);
      latencies.push(performance.now() - t0);
      const rank = body.results.findIndex((r) => r.id === idOf.get(pair.passage));
      rows.push({ topic: pair.topic, rank, top: body.results[0]?.content });
    }
    const summary = (subset) => ({
      n: subset.length,
      top1: subset.filter((r) => r.rank === 0).length / subset.length,
      r5: subset.filter((r) => r.rank >= 0 && r.rank < 5).length / subset.length,
      r10: subset.filter((r) => r.rank >= 0).length / subset.length,
      mrr: subset.reduce((a, r) => a + (r.rank >= 0 ? 1 / (r.rank + 1) : 0), 0) / subset.length,
    });
    results[mode] = { ...summary(rows), p50_ms: percentile(latencies, 50), p95_ms: percentile(latencies, 95) };
    for (const topic of Object.keys(set.pairs))
      results[mode][`${topic}_top1`] = summary(rows.filter((r) => r.topic === topic)).top1;
    misses[mode] = rows.flatMap((r, i) => (r.rank === 0 ? [] : [{ query: pairs[i].query, rank: r.rank, top: r.top }]));
    console.error(`${haystack} ${mode}: ${JSON.stringify(results[mode])}`);
  }
  return { memories: stored.length, results, ...(args.json ? { misses } : {}) };
}

const haystacks = {};
for (const haystack of ['full', 'targets']) haystacks[haystack] = await measure(haystack);

const report = {
  pairs: pairs.length,
  distractors: set.distractors.length,
  shared_content_words: sharing,
  embedding: args.embedding ?? config.defaultEmbeddingHandle,
  haystacks,
};
console.log(JSON.stringify(report, null, 2));
await cairn.close();
rmSync(dataDir, { recursive: true, force: true });
