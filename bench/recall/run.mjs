#!/usr/bin/env node
// Recall search (conversation_search) latency against history size; not part of `npm test`.
//
//   node bench/recall/run.mjs [--sizes 1000,10000,50000] [--dialect sqlite|postgres] [--queries 15]
//
// The benchmark is TypeScript (it reuses the test harness), bundled with esbuild, dependencies left external.
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const outfile = `${root}.cache/bench-recall/bench.mjs`;
await build({
  entryPoints: [`${root}bench/recall/bench.ts`],
  bundle: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  outfile,
  logLevel: 'warning',
});
const { status } = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(status ?? 1);
