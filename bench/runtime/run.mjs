#!/usr/bin/env node
// Runtime benchmarks (docs/benchmarks.md, "Runtime"); not part of `npm test`.
//
//   node bench/runtime/run.mjs [--only overhead|concurrency] [--dialect sqlite|postgres] [--server child|inprocess]
//        [--sizes 100,1000,10000] [--shapes sync-text,stream-text,sync-tool] [--turns 150] [--warmup 50] [--server-warmup 150] [--agents 50] [--rounds 3]
//        [--token-ms 20] [--tokens 50]
//        [--query-stats]   (with --server inprocess: the costliest SQLite statements per turn)
//
// PostgreSQL: set CAIRN_TEST_PG_URI (e.g. `export CAIRN_TEST_PG_URI=$(scripts/test-postgres.sh start)`); a fresh
// database is created from it and dropped afterwards, as in the tests.
// The benchmark is TypeScript (it reuses the test harness: the fake LLM, the recording proxy, test databases); this
// wrapper bundles it with esbuild (dependencies stay external) and makes a private build of Cairn for the server
// process, so it needs no `npm run build` and never races one.
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const outdir = `${root}.cache/bench-runtime`;
mkdirSync(outdir, { recursive: true });
execFileSync(process.execPath, [`${root}scripts/build.mjs`, '--outdir', `${outdir}/dist`], { cwd: root, stdio: 'inherit' });
process.env.CAIRN_BENCH_DIST = `${outdir}/dist`;
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
await import(pathToFileURL(`${outdir}/bench.mjs`).href);
