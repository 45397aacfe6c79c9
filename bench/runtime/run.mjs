#!/usr/bin/env node
// Runtime benchmarks (docs/benchmarks/2026-11-lab-notebook.md, "Runtime"); not part of `npm test`.
//
//   node bench/runtime/run.mjs [--only overhead|concurrency|idle] [--pause-s 11] [--dialect sqlite|postgres] [--server child|inprocess]
//        [--sizes 100,1000,10000] [--shapes sync-text,stream-text,sync-tool] [--turns 150] [--warmup 50] [--server-warmup 500] [--repeat 1] [--agents 50] [--rounds 3]
//        [--token-ms 20] [--tokens 50]
//        [--query-stats]   (with --server inprocess: the costliest SQLite statements per turn)
//
// PostgreSQL: set CAIRN_TEST_PG_URI (e.g. `export CAIRN_TEST_PG_URI=$(scripts/test-postgres.sh start)`); a fresh
// database is created from it and dropped afterwards, as in the tests.
// The benchmark is TypeScript (it reuses the test harness: the fake LLM, test databases); this
// wrapper bundles it with esbuild (dependencies stay external) and makes a private build of Cairn for the server
// process, so it needs no `npm run build` and never races one.
import { execFileSync, spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const outdir = `${root}.cache/bench-runtime`;
mkdirSync(outdir, { recursive: true });
// CAIRN_BENCH_DIST=<a build's dist/> measures that build instead (an A/B comparison against another commit's build).
if (!process.env.CAIRN_BENCH_DIST) {
  execFileSync(process.execPath, [`${root}scripts/build.mjs`, '--outdir', `${outdir}/dist`], {
    cwd: root,
    stdio: 'inherit',
  });
  process.env.CAIRN_BENCH_DIST = `${outdir}/dist`;
}
await build({
  entryPoints: [`${root}bench/runtime/bench.ts`],
  outfile: `${outdir}/bench.mjs`,
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
// Its own process, with a young generation large enough that the client's and the fake LLM's garbage collection
// (a 3–4 ms scavenge every ~25 turns at the default size) stays out of the turns it times.
const bench = spawnSync(
  process.execPath,
  ['--max-semi-space-size=64', `${outdir}/bench.mjs`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
process.exit(bench.status ?? 1);
